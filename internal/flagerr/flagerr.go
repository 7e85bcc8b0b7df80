// Package flagerr rewrites the errors of package flag for people: one
// line that names the flag as it is typed (--name), the nearest known
// flag for an unknown one, and where the flags are listed.
//
// In: a flag set and the error its Parse returned (with the set's output
// discarded, so that flag printed nothing). Out: what went wrong and a
// hint ("did you mean --registry? see mlpipe runs list --help"), for the
// command's own error format.
package flagerr

import (
	"flag"
	"fmt"
	"regexp"

	"github.com/mlpipe/mlpipe/internal/suggest"
)

// The errors of package flag.
var (
	undefinedRE = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	noValueRE   = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	invalidRE   = regexp.MustCompile(`^invalid (?:boolean )?value (".*") for (?:flag )?-+([^:]*): (.*)$`)
)

// Describe returns what went wrong in err, an error of fs.Parse, and a
// hint that ends with see (for example "see mlpipe ingest --help").
func Describe(fs *flag.FlagSet, err error, see string) (msg, hint string) {
	msg = err.Error()
	if m := undefinedRE.FindStringSubmatch(msg); m != nil {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if h := suggest.DidYouMean(m[1], names, func(s string) string { return "--" + s }); h != "" {
			see = h + " " + see
		}
		return "unknown flag --" + m[1], see
	}
	if m := noValueRE.FindStringSubmatch(msg); m != nil {
		return "--" + m[1] + " needs a value", see
	}
	if m := invalidRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s: invalid value %s: %s", m[2], m[1], m[3]), see
	}
	return msg, see
}
