package cli

import (
	"fmt"
	"slices"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
)

// selectNames returns the views of the files names asks for, in the order
// given and each once: a name is an input blob (as `ffbatch status` lists
// them) or the MP3 of one (its current output, or one any request in its
// record made); any other name gets a view in stateUnknown that says so.
func selectNames(files []fileView, names []string, inputContainer string) []fileView {
	var out []fileView
	picked := map[string]bool{}
	for _, n := range names {
		f, ok := lookupName(files, n)
		if !ok {
			f = fileView{Blob: n, State: stateUnknown, OutputSize: -1, Reason: unknownReason(n, inputContainer)}
		}
		if picked[f.Blob] {
			continue
		}
		picked[f.Blob] = true
		out = append(out, f)
	}
	return out
}

// lookupName finds the file an input or output name refers to.
func lookupName(files []fileView, name string) (fileView, bool) {
	if i := slices.IndexFunc(files, func(f fileView) bool { return f.Blob == name }); i >= 0 {
		return files[i], true
	}
	i := slices.IndexFunc(files, func(f fileView) bool { return f.OutputBlob == name || madeOutput(f, name) })
	if i >= 0 {
		return files[i], true
	}
	return fileView{}, false
}

// madeOutput reports whether a request in f's record wrote the MP3 name.
func madeOutput(f fileView, name string) bool {
	if f.Record == nil {
		return false
	}
	return slices.ContainsFunc(f.Record.Requests, func(e lifecycle.Entry) bool { return e.MP3 != nil && e.MP3.Blob == name })
}

func unknownReason(name, inputContainer string) string {
	return fmt.Sprintf("no blob %q in the %s container and no status for it (names are input blob names, as `ffbatch status` lists them)",
		name, inputContainer)
}

// unknownNames returns the names of the views in stateUnknown.
func unknownNames(files []fileView) []string {
	var out []string
	for _, f := range files {
		if f.State == stateUnknown {
			out = append(out, f.Blob)
		}
	}
	return out
}
