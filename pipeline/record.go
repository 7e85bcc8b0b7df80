package pipeline

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/registry"
)

// The statuses of a run record. A run is recorded as running from before
// its first stage; it ends ok, invalid (the config or the data failed
// validation), failed or cancelled. A record that still says running
// when no run holds the registry's training lock belongs to a run that
// was killed: CheckRuns reports it and, repairing, marks it interrupted.
// Running, interrupted, failed and cancelled runs can be resumed.
const (
	StatusRunning     = "running"
	StatusOK          = "ok"
	StatusInvalid     = "invalid"
	StatusFailed      = "failed"
	StatusCancelled   = "cancelled"
	StatusInterrupted = "interrupted"
)

// The registry writes a run announces in RegistryOutcome.Pending before
// it makes them.
const (
	PendingRegister = "register"
	PendingPromote  = "promote"
)

// RegistryOutcome is what a run did to the registry. The run record
// holds it, saved before and after each registry write, so that the
// record tells what happened whatever point a crash or a full disk
// stops the run at: Pending names a write that was started and may or
// may not have happened, and CheckRuns finds out which from the registry.
type RegistryOutcome struct {
	Model string `json:"model"`
	// Version is the version the candidate is: the one the run
	// registered, or the existing one with the same digest.
	Version int    `json:"version,omitempty"`
	Digest  string `json:"digest,omitempty"`
	// Registered: the run stored Version. Existing: Version was there
	// already (the same bytes), nothing was stored.
	Registered bool `json:"registered,omitempty"`
	Existing   bool `json:"existing,omitempty"`
	// Promoted: the run moved production to Version; Previous is the
	// version production pointed at before (0: none).
	Promoted bool `json:"promoted,omitempty"`
	Previous int  `json:"previous,omitempty"`
	// Pending is the registry write under way: "register" or "promote".
	Pending string `json:"pending,omitempty"`
	// Error says why a registry write failed or was refused.
	Error string `json:"error,omitempty"`
	// Recovered says what `registry check --repair` found out about an
	// interrupted run.
	Recovered string `json:"recovered,omitempty"`
}

// Recorder keeps a run's record (the registry's runs/ID/) in step with
// the run: NewRecorder creates it (status running) before the first
// stage, the runner saves it after every stage, the register stage
// before and after every registry write, and Finish writes the final
// summary. A failed save stops the run before its next registry write.
type Recorder struct {
	store   *registry.Store
	base    Summary
	results []StageResult
}

// SummaryFile is the run record's summary.
const SummaryFile = "summary.json"

// NewRecorder creates the record of run base.RunID in store: s's
// summary with status running and base's run id, resumed run, start
// time and code version, and the other files given (the config). A run
// calls it before its first stage; its State's Recorder is the result.
func NewRecorder(store *registry.Store, s *State, base Summary, files map[string]any) (*Recorder, error) {
	r := &Recorder{store: store, base: base}
	all := map[string]any{SummaryFile: r.summary(s)}
	for k, v := range files {
		all[k] = v
	}
	if err := store.SaveRun(base.RunID, all); err != nil {
		return nil, fmt.Errorf("run record: %w", err)
	}
	return r, nil
}

// ID is the run's id.
func (r *Recorder) ID() string { return r.base.RunID }

// stage records that a stage ended (or failed) and saves the record.
func (r *Recorder) stage(s *State, res StageResult) error {
	r.results = append(r.results, res)
	return r.Save(s)
}

// summary is the record as the run stands.
func (r *Recorder) summary(s *State) *Summary {
	sum := Summarize(s, r.results)
	if sum.Stages == nil {
		sum.Stages = []StageResult{}
	}
	sum.RunID, sum.ResumedFrom, sum.StartedAt, sum.CodeVersion = r.base.RunID, r.base.ResumedFrom, r.base.StartedAt, r.base.CodeVersion
	sum.Status = StatusRunning
	return sum
}

// Save writes the record as the run stands (status running).
func (r *Recorder) Save(s *State) error {
	if err := r.store.SaveRun(r.base.RunID, map[string]any{SummaryFile: r.summary(s)}); err != nil {
		return fmt.Errorf("run record: %w", err)
	}
	return nil
}

// Finish writes the final summary (its status must be final).
func (r *Recorder) Finish(sum *Summary) error {
	if err := r.store.SaveRun(r.base.RunID, map[string]any{SummaryFile: sum}); err != nil {
		return fmt.Errorf("run record: %w", err)
	}
	return nil
}

// saveRecord saves s's run record if it has one, with a crash point
// named after the step for the crash tests.
func (s *State) saveRecord(step string) error {
	if s.Recorder == nil {
		return nil
	}
	crash.Point("record-" + step)
	return s.Recorder.Save(s)
}

// ReadRun reads the summary of run id.
func ReadRun(store *registry.Store, id string) (*Summary, error) {
	dir, err := store.RunDir(id)
	if err != nil {
		return nil, err
	}
	var sum Summary
	if err := fsx.ReadJSON(filepath.Join(dir, SummaryFile), &sum); err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	return &sum, nil
}

// CheckRuns compares the run records with the registry's versions and
// aliases, and returns what disagrees:
//
//   - a record that says running while no run trains (idle: the caller
//     holds the training lock): the run was killed. Its pending registry
//     write is resolved from the registry: a version whose record names
//     the run was registered; production pointing at it was promoted.
//     Repairing, the record gets status interrupted and what was found.
//   - a record that says it registered a version that is missing, or
//     that has another digest.
//   - a version whose record names a run that does not say it
//     registered it (repairing, the run's record is corrected) or that
//     has no record at all.
//
// With repair the caller holds the writer lock; without idle (a run is
// training now), the newest running record is taken to be that run and
// left alone.
func CheckRuns(store *registry.Store, repair, idle bool) ([]registry.Problem, error) {
	ids, err := store.Runs()
	if err != nil {
		return nil, err
	}
	var problems []registry.Problem
	runs := map[string]*Summary{}
	live := ""
	for i := len(ids) - 1; i >= 0 && !idle; i-- {
		if sum, err := ReadRun(store, ids[i]); err == nil && sum.Status == StatusRunning {
			live = ids[i]
			break
		}
	}
	for _, id := range ids {
		sum, err := ReadRun(store, id)
		if err != nil {
			problems = append(problems, registry.Problem{What: err.Error()})
			continue
		}
		runs[id] = sum
		if sum.Status == StatusRunning && id != live {
			p, err := interrupted(store, sum, repair)
			if err != nil {
				return problems, err
			}
			problems = append(problems, p)
		}
		if o := sum.Registry; o != nil && o.Registered && o.Version > 0 {
			got, err := store.Digest(o.Model, o.Version)
			switch {
			case err != nil:
				problems = append(problems, registry.Problem{What: fmt.Sprintf("run %s registered %s@%d, which is not there: %v", id, o.Model, o.Version, err)})
			case got != o.Digest:
				problems = append(problems, registry.Problem{What: fmt.Sprintf("run %s registered %s@%d with digest %s; it has %s now", id, o.Model, o.Version, o.Digest, got)})
			}
		}
	}
	// Each version's record names the run that registered it.
	models, err := store.Models()
	if err != nil {
		return problems, err
	}
	for _, name := range models {
		versions, err := store.Versions(name)
		if err != nil {
			return problems, err
		}
		for _, v := range versions {
			dir, _ := store.VersionDir(name, v)
			rec, err := bundle.ReadRecord(dir)
			if err != nil || rec.RunID == "" {
				continue // a version registered before records, or damaged (registry.Check reports it)
			}
			sum, ok := runs[rec.RunID]
			if !ok {
				problems = append(problems, registry.Problem{What: fmt.Sprintf("%s@%d was registered by run %s, which has no record", name, v, rec.RunID)})
				continue
			}
			if sum.Status == StatusRunning && rec.RunID == live {
				continue
			}
			if o := sum.Registry; o != nil && o.Model == name && o.Version == v && o.Registered {
				continue
			}
			p := registry.Problem{What: fmt.Sprintf("%s@%d was registered by run %s, whose record does not say so", name, v, rec.RunID)}
			if repair {
				o := sum.Registry
				if o == nil {
					o = &RegistryOutcome{Model: name}
					sum.Registry = o
				}
				digest, _ := store.Digest(name, v)
				o.Version, o.Digest, o.Registered, o.Existing, o.Pending = v, digest, true, false, ""
				o.Recovered = joinNote(o.Recovered, fmt.Sprintf("registry check found that it registered %s@%d", name, v))
				if sum.Gate != nil {
					sum.Gate.Version = v
				}
				if err := store.SaveRun(sum.RunID, map[string]any{SummaryFile: sum}); err != nil {
					return problems, fmt.Errorf("repair: %w", err)
				}
				p.Repaired = true
			}
			problems = append(problems, p)
		}
	}
	return problems, nil
}

// interrupted reports a run that was killed, and with repair resolves
// its pending registry write and marks it interrupted.
func interrupted(store *registry.Store, sum *Summary, repair bool) (registry.Problem, error) {
	at := "before its first stage"
	if n := len(sum.Stages); n > 0 {
		at = "after stage " + sum.Stages[n-1].Name
	}
	p := registry.Problem{What: fmt.Sprintf("run %s was interrupted %s (its record says running, and no run is training: it was killed, or could not finish its record)", sum.RunID, at)}
	var found string
	if o := sum.Registry; o != nil && o.Pending != "" {
		switch o.Pending {
		case PendingRegister:
			v, digest, err := registeredBy(store, o.Model, sum.RunID)
			if err != nil {
				return p, err
			}
			if v > 0 {
				o.Version, o.Digest, o.Registered = v, digest, true
				found = fmt.Sprintf("it registered %s@%d before it stopped", o.Model, v)
				if sum.Gate != nil {
					sum.Gate.Version = v
				}
			} else {
				found = "it stopped before registering its model"
			}
		case PendingPromote:
			prod, err := store.Alias(o.Model, AliasProduction)
			if err == nil && prod == o.Version {
				o.Promoted = true
				found = fmt.Sprintf("it promoted %s@%d to production before it stopped", o.Model, o.Version)
			} else {
				found = fmt.Sprintf("it stopped before promoting %s@%d", o.Model, o.Version)
			}
		}
		o.Pending = ""
		o.Recovered = joinNote(o.Recovered, "registry check: "+found)
		p.What += ": " + found
	}
	if repair {
		sum.Status = StatusInterrupted
		sum.Error = joinNote(sum.Error, "the run stopped "+at+" without finishing its record: it was killed, or could not write it (a full disk); found by `mlpipe registry check`, resume it with `mlpipe run --resume "+sum.RunID+"`")
		if err := store.SaveRun(sum.RunID, map[string]any{SummaryFile: sum}); err != nil {
			return p, fmt.Errorf("repair: %w", err)
		}
		p.Repaired = true
	}
	return p, nil
}

// MarkInterrupted finishes the record of run id, if it still says
// running, as CheckRuns repairs it: status interrupted, with its pending
// registry write resolved. The caller holds the training lock (so the
// run is not running) and nothing else.
func MarkInterrupted(store *registry.Store, id string) error {
	sum, err := ReadRun(store, id)
	if err != nil || sum.Status != StatusRunning {
		return err
	}
	_, err = interrupted(store, sum, true)
	return err
}

// registeredBy finds the version of model name whose record names run
// id (0 if none).
func registeredBy(store *registry.Store, name, id string) (int, string, error) {
	versions, err := store.Versions(name)
	if errors.Is(err, registry.ErrNotFound) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	for i := len(versions) - 1; i >= 0; i-- {
		dir, _ := store.VersionDir(name, versions[i])
		rec, err := bundle.ReadRecord(dir)
		if err == nil && rec.RunID == id {
			digest, _ := store.Digest(name, versions[i])
			return versions[i], digest, nil
		}
	}
	return 0, "", nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
