package monitor

import "errors"

// Sentinel errors of the monitor. Each returned error wraps one of them
// (or an error of the file system, fs.ErrNotExist for a missing file)
// and names the file or the setting at fault.
var (
	// ErrNoReference means a bundle has no reference sample
	// (ReferenceFile). LoadBaseline does not return it: it falls back to
	// the training profile alone and says so in Baseline.Notes.
	ErrNoReference = errors.New("no reference sample")
	// ErrNoProfile means a bundle has no training profile
	// (profile.json), the baseline every drift statistic needs. Bundles
	// written by `mlpipe train --out` have none; registered versions do.
	ErrNoProfile = errors.New("no training profile")
	// ErrInvalid means an option is out of its range.
	ErrInvalid = errors.New("invalid monitor option")
)
