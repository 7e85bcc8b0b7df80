package monitor_test

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/monitor"
)

func TestWriteReadReference(t *testing.T) {
	rows := draw(rand.New(rand.NewPCG(70, 70)), 500, gen{missingDist: 0.1})
	tbl := table(t, rows)
	names := []string{"date", "distance", "origin", "flag", "constant"}
	scores := []float64{0.1, 0.2, 0.3, 0.4, 0.5}
	dir := t.TempDir()
	if err := monitor.WriteReference(dir, tbl, names, scores, 100, 42); err != nil {
		t.Fatal(err)
	}
	ref, err := monitor.ReadReference(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Rows != 100 || ref.TrainRows != 500 || ref.Seed != 42 || len(ref.Scores) != 5 || ref.ValidRows != 5 {
		t.Fatalf("rows %d of %d, seed %d, %d scores of %d", ref.Rows, ref.TrainRows, ref.Seed, len(ref.Scores), ref.ValidRows)
	}
	if ref.Types["date"] != "timestamp[us]" || ref.Types["distance"] != "int64" || ref.Types["flag"] != "bool" || ref.Types["origin"] != "string" {
		t.Errorf("types %v", ref.Types)
	}
	// Every sampled row is a training row.
	type key struct {
		date     time.Time
		distance any
		origin   string
		flag     bool
	}
	all := map[key]bool{}
	for _, r := range rows {
		var d any
		if r.hasDist {
			d = r.distance
		}
		all[key{r.date, d, r.origin, r.flag}] = true
	}
	nulls := 0
	for i := 0; i < ref.Rows; i++ {
		date := ref.Inputs["date"][i].(time.Time)
		k := key{date, ref.Inputs["distance"][i], ref.Inputs["origin"][i].(string), ref.Inputs["flag"][i].(bool)}
		if !all[k] {
			t.Fatalf("sampled row %d %+v is not a training row", i, k)
		}
		if ref.Inputs["distance"][i] == nil {
			nulls++
		}
		if ref.Inputs["constant"][i] != int64(5) {
			t.Fatalf("constant %v", ref.Inputs["constant"][i])
		}
	}
	// About 10% of distances are null (missingDist 0.1): the nulls are
	// kept as nulls.
	if nulls == 0 || nulls > 30 {
		t.Errorf("%d null distances in 100 sampled rows", nulls)
	}

	// The same arguments give the same bytes; another seed another sample.
	again := t.TempDir()
	if err := monitor.WriteReference(again, tbl, names, scores, 100, 42); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{monitor.ReferenceFile, monitor.ReferenceScoresFile} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join(again, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two writes with the same seed", f)
		}
	}
	other := t.TempDir()
	if err := monitor.WriteReference(other, tbl, names, nil, 100, 43); err != nil {
		t.Fatal(err)
	}
	ref2, err := monitor.ReadReference(other)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(ref2.Inputs["date"], ref.Inputs["date"]) {
		t.Error("seeds 42 and 43 drew the same sample")
	}
	if ref2.Scores != nil {
		t.Errorf("no validation scores, but %d read back", len(ref2.Scores))
	}
	// n beyond the table: every row, in order.
	whole := t.TempDir()
	if err := monitor.WriteReference(whole, tbl, names, nil, 0, 1); err != nil {
		t.Fatal(err)
	}
	ref3, err := monitor.ReadReference(whole)
	if err != nil {
		t.Fatal(err)
	}
	if ref3.Rows != 500 {
		t.Fatalf("whole table: %d rows", ref3.Rows)
	}
	for i, r := range rows {
		if got := ref3.Inputs["date"][i].(time.Time); !got.Equal(r.date) || ref3.Inputs["origin"][i] != r.origin {
			t.Fatalf("row %d: %v %v, want %v %v", i, got, ref3.Inputs["origin"][i], r.date, r.origin)
		}
	}
	// Nothing left behind by the atomic writes.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fsx.IsTemp(e.Name()) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestReferenceErrors(t *testing.T) {
	tbl := table(t, draw(rand.New(rand.NewPCG(71, 71)), 10, gen{}))
	tests := []struct {
		name   string
		inputs []string
		scores []float64
		want   string
	}{
		{"ErrNoColumn", []string{"date", "nope"}, nil, `input "nope" is not a column`},
		{"ErrBadScore", []string{"date"}, []float64{0.5, math.Inf(1)}, "validation score 1 is +Inf, not a finite number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := monitor.WriteReference(dir, tbl, tt.inputs, tt.scores, 5, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, monitor.ReferenceFile)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a failed write left %s", monitor.ReferenceFile)
			}
		})
	}
	t.Run("ErrNoReference", func(t *testing.T) {
		_, err := monitor.ReadReference(t.TempDir())
		if !errors.Is(err, monitor.ErrNoReference) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ErrNotReference", func(t *testing.T) {
		// An Arrow file without the reference metadata is refused.
		dir := t.TempDir()
		if err := monitor.WriteReference(dir, tbl, []string{"date"}, nil, 5, 1); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, monitor.ReferenceFile))
		b = bytes.Replace(b, []byte("mlpipe.reference.version"), []byte("mlpipe.reference.VERSION"), -1)
		if err := os.WriteFile(filepath.Join(dir, monitor.ReferenceFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := monitor.ReadReference(dir); err == nil || !strings.Contains(err.Error(), "not a version-1 reference file") {
			t.Errorf("err = %v", err)
		}
	})
}
