package cli

import (
	"errors"
	"flag"
	"strings"
)

// errFlags means the flag package already reported a bad flag (exit 2).
var errFlags = errors.New("bad flags")

// parseFlags parses a subcommand's arguments, where flags may come before,
// between or after the names (`submit a.mp4 --name x.mp4`); everything
// after "--" is a name. fs.Args() then holds the names in order. Errors are
// printed by fs.
func parseFlags(fs *flag.FlagSet, args []string) error {
	flags, names := splitArgs(fs, args)
	err := fs.Parse(flags)
	if err == nil {
		// A second Parse after "--" only sets fs.Args(); it parses no flag.
		err = fs.Parse(append([]string{"--"}, names...))
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return errFlags
	}
	return err
}

// splitArgs separates args into flags (each with its value when the value
// is a separate argument) and names, keeping the order within each. It
// follows the flag package's syntax: -f and --f, -f=value, a value in the
// next argument unless f is a boolean flag, "--" ending the flags, "-"
// alone being a name. Unknown flags stay in flags for fs.Parse to report.
func splitArgs(fs *flag.FlagSet, args []string) (flags, names []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(names, args[i+1:]...)
		case len(a) < 2 || a[0] != '-':
			names = append(names, a)
			continue
		}
		flags = append(flags, a)
		if takesValue(fs, a) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, names
}

// takesValue reports whether the flag argument a (-f or --f, without
// "=value") names a known non-boolean flag, whose value is then the next
// argument.
func takesValue(fs *flag.FlagSet, a string) bool {
	name := a[1:]
	if name != "" && name[0] == '-' {
		name = name[1:]
	}
	if strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}
