package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/tables"
	"github.com/mlpipe/mlpipe/storage"
)

// Streaming ingest (docs/architecture.md, "Memory and scale", step 8).
//
// When gbdt is the only model to fit and no step cache stores the
// splits (oneGBDT), a run that trains never holds the whole table. The
// load stage reads the source once, a chunk at a time (ingest.ReadSplits):
// it validates, fingerprints and profiles every chunk, assigns each row
// its split and keeps only the validation and test rows, which
// evaluation reads whole. The training rows are read again from the
// files, a range at a time, by each stage that reads them (a
// tables.Source): the split stage for their labels and the time parts
// that never change, the features stage to fit the pipeline, to
// summarize them for the monitor, to bin them and to observe them. Every
// result is bit for bit the whole table's: each of those reads the rows
// in order and gives the same result for any ranges (TestStreamedIngest).
//
// When the gbdt trainer cannot be built (its parameters are refused),
// the features stage reads the training rows into memory and goes on as
// a run that loaded them whole, so that the train stage reports the
// parameters as it does in a loaded run.

// streamable reports whether the ingest stages of a run that trains may
// read the source a chunk at a time: gbdt alone (oneGBDT), no time window
// on the source (which the chunked reader does not apply), and local
// files (the chunked reader does not read object storage; Load does).
func streamable(s *State) bool {
	return oneGBDT(s) && s.Config.Data.Window == (ingest.Window{}) && !storage.IsURL(s.Config.Data.Path)
}

// stream is the load stage of a streamed run: one pass over the source.
func (st *loadStage) stream(ctx context.Context, s *State, opts *ingest.Options) error {
	cfg := s.Config
	r, err := ingest.ReadSplits(ctx, cfg.Data, cfg.Schema, opts, cfg.Label, cfg.Split)
	if err != nil {
		s.Report = ingest.ReportFromError(err)
		return err
	}
	s.streamed = r
	s.Data = r.Dataset
	s.Fingerprint = r.Fingerprint
	s.Report = r.Report
	// The shape of what was read, as a loaded table's until the split
	// stage (which leaves out the rows without a label).
	s.loaded = [2]int64{r.Report.Rows, int64(r.Columns)}
	return nil
}

// streamedSplit is the split stage of a streamed run: the load stage
// divided the rows; the training rows' labels and constant time parts
// are read from the source, a range at a time.
func streamedSplit(ctx context.Context, s *State) error {
	r := s.streamed
	if r.SplitErr != nil {
		return r.SplitErr
	}
	s.Splits = r.Splits
	s.trainRows = r.Train
	s.loaded = [2]int64{r.Rows, int64(r.Columns)}
	s.spans = streamedSpans(s.Config, r)
	constant, err := features.ConstantPartsFrom(ctx, r.Train, s.Config.Features)
	if err != nil {
		return fmt.Errorf("split: %w", err)
	}
	warnConstant(s, constant)
	s.Labels = map[string]*ingest.Labels{}
	if s.Labels[ingest.SplitTrain], err = deriveFrom(ctx, r.Train, s.Config.Label, r.TrainClasses); err != nil {
		return fmt.Errorf("%s: %w", ingest.SplitTrain, err)
	}
	for _, nt := range []ingest.NamedTable{{Name: ingest.SplitValid, Table: r.Splits.Valid}, {Name: ingest.SplitTest, Table: r.Splits.Test}} {
		l, err := s.Config.Label.Derive(nt.Table)
		if err != nil {
			return fmt.Errorf("%s: %w", nt.Name, err)
		}
		s.Labels[nt.Name] = l
	}
	return nil
}

// deriveFrom derives the labels of src's rows a range at a time, with
// the classes of a multiclass label given (those of the whole split,
// sorted, as Derive finds them).
func deriveFrom(ctx context.Context, src tables.Source, label ingest.LabelSpec, classes []string) (*ingest.Labels, error) {
	out := &ingest.Labels{}
	err := src.Ranges(ctx, streamRows, func(_ int64, part arrow.Table) error {
		l, err := label.DeriveWith(part, classes)
		if err != nil {
			return err
		}
		out.Classes = l.Classes
		out.Y = append(out.Y, l.Y...)
		out.Values = append(out.Values, l.Values...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// streamedSpans are splitSpans of a streamed run: the training rows'
// count and time range from the load stage's pass.
func streamedSpans(cfg *config.Config, r *ingest.Streamed) []SplitSummary {
	train := SplitSummary{Name: ingest.SplitTrain, Rows: r.Train.NumRows()}
	if cfg.Split.Method != "random" {
		train.From, train.To = formatRange(r.TrainFrom, r.TrainTo, r.TrainTimed)
	}
	return append([]SplitSummary{train}, splitSpans(cfg, &ingest.Splits{Valid: r.Splits.Valid, Test: r.Splits.Test})...)
}

// trainSource is the training split as a tables.Source: read again from
// the files in a streamed run, the split in memory otherwise.
func (s *State) trainSource() tables.Source {
	if s.trainRows != nil {
		return s.trainRows
	}
	return ingest.InMemory(s.Splits.Train)
}

// holdTraining reads the training rows of a streamed run into memory,
// for a features stage that cannot stream them (see above).
func holdTraining(ctx context.Context, s *State) error {
	if s.trainRows == nil {
		return nil
	}
	src := s.trainRows
	var whole arrow.Table
	err := src.Ranges(ctx, int(max(src.NumRows(), 1)), func(_ int64, part arrow.Table) error {
		part.Retain()
		whole = part
		return nil
	})
	if err != nil {
		return fmt.Errorf("features: training split: %w", err)
	}
	s.Splits.Train, s.trainRows = whole, nil
	return nil
}
