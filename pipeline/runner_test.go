package pipeline_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/pipeline"
)

// stage is a test stage that records its run and returns err.
type stage struct {
	name string
	err  error
	ran  *[]string
	// cancel, if set, is called when the stage runs.
	cancel func()
}

func (s stage) Name() string { return s.name }

func (s stage) Run(ctx context.Context, _ *pipeline.State) error {
	*s.ran = append(*s.ran, s.name)
	if s.cancel != nil {
		s.cancel()
	}
	return s.err
}

func TestRunner(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		errAt   int // index of the failing stage, -1 for none
		cancel  int // index of the stage that cancels the run, -1 for none
		wantRan []string
		wantErr error
	}{
		{"OK", -1, -1, []string{"a", "b", "c"}, nil},
		{"ErrStops", 1, -1, []string{"a", "b"}, boom},
		{"ErrCancelledBetweenStages", -1, 0, []string{"a"}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var ran []string
			var stages []pipeline.Stage
			for i, n := range []string{"a", "b", "c"} {
				st := stage{name: n, ran: &ran}
				if i == tt.errAt {
					st.err = boom
				}
				if i == tt.cancel {
					st.cancel = cancel
				}
				stages = append(stages, st)
			}
			results, err := (&pipeline.Runner{Stages: stages}).Run(ctx, &pipeline.State{})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(ran, tt.wantRan) {
				t.Errorf("ran %v, want %v", ran, tt.wantRan)
			}
			if len(results) != len(tt.wantRan) {
				t.Errorf("%d results, want %d", len(results), len(tt.wantRan))
			}
		})
	}
}

// TestIngestStages runs the real ingest stages on the fixture.
func TestIngestStages(t *testing.T) {
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := &pipeline.State{Config: cfg}
	defer s.Release()
	results, err := (&pipeline.Runner{Stages: pipeline.IngestStages(nil)}).Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range results {
		names = append(names, r.Name)
	}
	if want := []string{"load", "validate", "profile", "split"}; !reflect.DeepEqual(names, want) {
		t.Errorf("stages %v, want %v", names, want)
	}
	sum := pipeline.Summarize(s, results)
	// Jan–Apr, May and June rows of the fixture (testdata/README.md).
	for k, want := range []int64{6_597, 1_729, 1_674} {
		if sum.Splits[k].Rows != want {
			t.Errorf("split %s: %d rows, want %d", sum.Splits[k].Name, sum.Splits[k].Rows, want)
		}
	}
	if !strings.HasPrefix(sum.Splits[2].From, "2001-06-01") {
		t.Errorf("test split starts %s", sum.Splits[2].From)
	}
}

// TestConstantPartWarning: a time part that never changes on the training
// split (hour of seattle-weather's date-only values) is a warning in the
// validation report, and the parts that do change are not.
func TestConstantPartWarning(t *testing.T) {
	cfg, err := config.Load("../configs/seattle-weather.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range cfg.Features {
		if f.Column == "date" {
			cfg.Features[i].Parts = []string{"hour", "month", "is_weekend"}
		}
	}
	s := &pipeline.State{Config: cfg}
	defer s.Release()
	if _, err := (&pipeline.Runner{Stages: pipeline.IngestStages(nil)}).Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, is := range s.Report.Issues {
		got = append(got, is.String())
	}
	want := []string{"time part date: hour is the same on every training row: it carries no information (remove it from the transform's parts)"}
	if !reflect.DeepEqual(got, want) || s.Report.Issues[0].Severity != ingest.Warning || !s.Report.OK() {
		t.Errorf("issues %q, want one warning %q", got, want)
	}
}
