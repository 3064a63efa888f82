package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/ffbatch/ffbatch/internal/blobaccess"
	"github.com/ffbatch/ffbatch/internal/ncrontab"
	"github.com/ffbatch/ffbatch/internal/plan"
)

// The checks of single values. Each returns what is wrong with a non-empty
// text, or "" if nothing is. They never quote a value that may carry a
// secret (connection strings, keys, URLs with a query).

var (
	batchID    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	entityName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,259}$`)
	container  = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)
)

func containerNameProblem(name string) string {
	if !container.MatchString(name) {
		return "must be a blob container name (3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit)"
	}
	return ""
}

func containerProblem(name string) string {
	if p := containerNameProblem(name); p != "" {
		return fmt.Sprintf("%s, got %q", p, name)
	}
	return ""
}

func batchIDProblem(id string) string {
	if !batchID.MatchString(id) {
		return fmt.Sprintf("must be 1-64 characters of letters, digits, '-' or '_', got %q", id)
	}
	return ""
}

func entityProblem(name string) string {
	if !entityName.MatchString(name) {
		return fmt.Sprintf("must be 1-260 characters of letters, digits, '.', '-', '_' or '/', got %q", name)
	}
	return ""
}

func logsPrefixProblem(p string) string {
	if strings.HasPrefix(p, "/") || strings.Contains(p, "..") || !strings.HasSuffix(p, "/") {
		return fmt.Sprintf("must be a relative blob prefix ending in / without .., got %q", p)
	}
	return ""
}

func urlProblem(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "must be an absolute http(s) URL"
	}
	if u.RawQuery != "" {
		return "must not carry a query (no SAS tokens in settings)"
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return "plain http is allowed only for loopback emulators; use https"
	}
	return ""
}

// IsLoopback reports whether host names the local machine, where plain
// HTTP to an emulator is acceptable.
func IsLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// storageConnProblem: account-key SAS needs the account name and key.
func storageConnProblem(s string) string {
	acct, err := blobaccess.ParseConnectionString(s)
	if err != nil {
		return "must contain AccountName= and AccountKey= (account-key SAS needs the key)"
	}
	return base64Problem(acct.Key, "AccountKey ")
}

func base64Problem(key, what string) string {
	if _, err := base64.StdEncoding.DecodeString(key); err != nil {
		return what + "is not valid base64"
	}
	return ""
}

func namespaceProblem(ns string) string {
	if strings.Contains(ns, "/") || !strings.Contains(ns, ".") {
		return fmt.Sprintf("must be a fully qualified namespace such as ns.servicebus.windows.net, got %q", ns)
	}
	return ""
}

func serviceBusConnProblem(s string) string {
	if !strings.Contains(s, "Endpoint=") {
		return "must contain Endpoint="
	}
	return ""
}

// imageRefProblem refuses what a shell or the pool's container
// configuration would split or interpret.
func imageRefProblem(ref string) string {
	if strings.ContainsAny(ref, " \t\n;$`\"'") {
		return fmt.Sprintf("must be an image reference such as myregistry.azurecr.io/ffmpeg:7, got %q", ref)
	}
	return ""
}

func presetProblem(name string) string {
	if _, ok := plan.LookupPreset(name); !ok {
		return fmt.Sprintf("unknown preset %q (known: %s)", name, strings.Join(plan.PresetNames(), ", "))
	}
	return ""
}

// scheduleProblem parses with the parser of the local host stand-in. A
// %Setting% indirection or a TimeSpan is not allowed: this setting is the
// one function.json refers to, and TimeSpan schedules need an App Service
// plan.
func scheduleProblem(expr string) string {
	if _, err := ncrontab.Parse(expr); err != nil {
		return fmt.Sprintf("invalid NCRONTAB schedule %q: %v", expr, err)
	}
	return ""
}
