// Package version reports which code built the running binary, for run
// records, model lineage and `--version`.
//
// In: the VCS revision, from -ldflags "-X .../internal/version.Revision=..."
// (the Makefile sets it) or else from the Go build info. Out: a short
// string such as "3f9c2a1d0b7e" or "3f9c2a1d0b7e+dirty", or "devel" when
// neither is known (go run, tests).
package version

import "runtime/debug"

// Revision is set at link time by the Makefile. It wins over build info.
var Revision string

// Get returns the code version of the running binary.
func Get() string {
	if Revision != "" {
		return Revision
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return rev + dirty
}
