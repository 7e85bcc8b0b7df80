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
// No stage holds the test split as a float feature matrix: it is
// transformed and scored a range of rows at a time (stream.go). When
// gbdt is the only model (one candidate, no cross-validation, no step
// cache), neither are the training and validation splits: the features
// stage transforms them a range at a time into gbdt's bins, gbdt stops
// early on the validation bins, and selection, the threshold, evaluate
// and register read validation predictions scored from the raw split by
// ranges. Other trainers, grids, searches, cross-validation and the step
// cache take the float matrices. docs/architecture.md ("Memory and
// scale") says what each stage holds and why.
//
// With a registry, a run ends with the promotion gate and registration
// (promote.go). Its record in the registry (record.go: Recorder) is
// created before the first stage, saved after every stage and before and
// after every registry write, and finished by the caller, so that the
// record and the registry agree whatever point the run stops at;
// CheckRuns finds and repairs what a killed run left. Every promotion
// goes through Promote, which first loads the version as mlserve would.
package pipeline
