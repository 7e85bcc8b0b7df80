package pipeline

import (
	"context"
	"fmt"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
)

// IngestStages are the stages of `mlpipe ingest`, in order:
// load → validate → profile → split.
func IngestStages(opts *ingest.Options) []Stage {
	return ingestStages(&loadStage{opts: opts})
}

func ingestStages(load *loadStage) []Stage {
	return []Stage{load, validateStage{}, profileStage{}, splitStage{}}
}

// trainIngest are the ingest stages of a run that trains: when gbdt is
// the only model, they read the source a chunk at a time and never hold
// the whole table (streamable).
func trainIngest(opts *ingest.Options) []Stage {
	return ingestStages(&loadStage{opts: opts, train: true})
}

// TrainStages are the stages of `mlpipe train`: the ingest stages, then
// features → train (model selection).
func TrainStages(opts *ingest.Options) []Stage {
	return append(trainIngest(opts), featuresStage{}, trainStage{})
}

// AllStages are the stages of `mlpipe run`: TrainStages, then evaluate.
func AllStages(opts *ingest.Options) []Stage {
	return append(TrainStages(opts), evaluateStage{})
}

// PromoteStages are AllStages, then the promotion gate and registration
// in the model registry: what `mlpipe run` does when the config (or
// --registry) names a registry. With wait, registration waits for
// another writer to finish instead of failing with registry.ErrLocked.
func PromoteStages(opts *ingest.Options, wait bool) []Stage {
	return promoteStages(opts, registerStage{wait: wait})
}

// promoteStages are PromoteStages with the register stage r; the
// features stage summarizes the training split for it.
func promoteStages(opts *ingest.Options, r registerStage) []Stage {
	return append(trainIngest(opts), featuresStage{register: true}, trainStage{}, evaluateStage{}, gateStage{}, r)
}

// EvaluateStages are the stages of `mlpipe evaluate --model DIR`: the
// ingest stages, the saved feature pipeline in place of fitting one, and
// evaluate.
func EvaluateStages(opts *ingest.Options, t *bundle.Bundle) []Stage {
	return append(IngestStages(opts), useTrainedStage{t}, evaluateStage{})
}

// loadStage reads the source into an Arrow table typed by the contract,
// and fingerprints it. In a run that trains (train) gbdt alone, it reads
// the source a chunk at a time instead (streamable, loadStage.stream).
type loadStage struct {
	opts  *ingest.Options
	train bool
}

func (loadStage) Name() string { return "load" }

func (st *loadStage) Run(ctx context.Context, s *State) error {
	var opts ingest.Options
	if st.opts != nil {
		opts = *st.opts
	}
	opts.Progress = newRowCounter(s, "read", 0).add
	if st.train && streamable(s) {
		return st.stream(ctx, s, &opts)
	}
	ds, err := ingest.Load(ctx, s.Config.Data, s.Config.Schema, &opts)
	if err != nil {
		s.Report = ingest.ReportFromError(err)
		return err
	}
	s.Data = ds
	// The fingerprint names the data (independently of files, format and
	// chunking): the step cache's key for everything downstream.
	s.Fingerprint, err = ingest.Fingerprint(ctx, ds.Table)
	return err
}

// validateStage checks values against the contract; errors fail the run,
// warnings do not.
type validateStage struct{}

func (validateStage) Name() string { return "validate" }

func (validateStage) Run(ctx context.Context, s *State) error {
	if s.streamed != nil {
		// The load stage validated every chunk as it read it, and left
		// out the unlabelled rows under label.missing: drop.
		s.Report = s.streamed.Report
		if err := s.Report.Err(); err != nil {
			return fmt.Errorf("validate: %w", err)
		}
		return nil
	}
	s.Report = ingest.Validate(s.Data, s.Config.Schema, s.Config.Label)
	if err := s.Report.Err(); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	// Under label.missing: drop, rows without a label leave now (the
	// report counts them).
	if _, err := ingest.DropUnlabelled(ctx, s.Data, s.Config.Label); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	return nil
}

// profileStage profiles every column.
type profileStage struct{}

func (profileStage) Name() string { return "profile" }

func (profileStage) Run(ctx context.Context, s *State) (err error) {
	if s.streamed != nil {
		s.Profile = s.streamed.Profile // profiled chunk by chunk as it was read
		return nil
	}
	s.Profile, err = ingest.ProfileTable(ctx, s.Data.Table, nil)
	return err
}

// splitStage divides the data by time (or at random) and derives the
// labels of each split.
type splitStage struct{}

func (splitStage) Name() string { return "split" }

func (splitStage) Run(ctx context.Context, s *State) error {
	if s.streamed != nil {
		return streamedSplit(ctx, s)
	}
	sp, err := ingest.Split(ctx, s.Data.Table, s.Config.Split)
	if err != nil {
		return err
	}
	s.Splits = sp
	s.spans = splitSpans(s.Config, sp)
	// From here on every stage reads the splits. When the rows were not in
	// time order the split copied them, and the loaded table is a second
	// copy of the data: release it (in time order the splits are slices
	// of it, and this only drops a reference). Its shape stays for the
	// summary.
	s.loaded = [2]int64{s.Data.Table.NumRows(), s.Data.Table.NumCols()}
	s.Data.Release()
	s.Data.Table = nil
	returnMemory()
	warnConstant(s, features.ConstantParts(sp.Train, s.Config.Features))
	s.Labels = map[string]*ingest.Labels{}
	for _, nt := range sp.Tables() {
		l, err := s.Config.Label.Derive(nt.Table)
		if err != nil {
			return fmt.Errorf("%s: %w", nt.Name, err)
		}
		s.Labels[nt.Name] = l
	}
	return nil
}

// warnConstant adds a warning to the validation report for each time
// part that never changes on the training split (hour on date-only
// data).
func warnConstant(s *State, parts []string) {
	for _, part := range parts {
		if s.Report == nil {
			s.Report = &ingest.Report{}
		}
		s.Report.Issues = append(s.Report.Issues, ingest.Issue{Severity: ingest.Warning, Code: ingest.CodeConstant, RowGroup: -1,
			Message: fmt.Sprintf("time part %s is the same on every training row: it carries no information (remove it from the transform's parts)", part)})
	}
}
