// Package pipeline chains the stages of an mlpipe run.
//
// In: a *config.Config. Out: a *State that each Stage reads and fills in
// turn (the loaded dataset, its validation report, fingerprint and
// profile, the splits), and a timing record per stage.
//
// Every stage is listed in stages.go, in order, so a reader can find the
// whole pipeline from one file. The Runner runs them in sequence,
// logging each one, and stops at the first error or when ctx is
// cancelled (between stages, and inside the long ones, which take ctx).
//
// Today the stages are the ingest half of the pipeline: load, validate,
// profile and split. Features, training, evaluation, the promotion gate
// and the registry are added here as they are built (see the open
// issues).
package pipeline
