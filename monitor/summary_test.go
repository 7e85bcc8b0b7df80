package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/monitor"
)

// TestSummarize: the Training taken from a table gives, after the table
// is released (its memory checked back to zero), the baseline NewBaseline
// and the reference files WriteReference make from the table, byte for
// byte, with scores or without.
func TestSummarize(t *testing.T) {
	rows := draw(rand.New(rand.NewPCG(71, 71)), 3000, gen{days: 20, perDay: 150, missingDist: 0.1})
	names := []string{"date", "distance", "origin", "flag", "constant"}
	scores := []float64{0.1, 0.7, 0.3, 0.4, 0.5, 0.9}
	for _, sc := range [][]float64{nil, scores} {
		ref := table(t, rows)
		want, err := monitor.NewBaseline(context.Background(), ref, names, sc, 200, 42)
		if err != nil {
			t.Fatal(err)
		}
		wantDir := t.TempDir()
		if err := monitor.WriteReference(wantDir, ref, names, sc, 200, 42); err != nil {
			t.Fatal(err)
		}

		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		tbl := checkedCopy(t, mem, ref)
		tr, err := monitor.Summarize(context.Background(), tbl, names, 200, 42)
		if err != nil {
			t.Fatal(err)
		}
		tbl.Release()
		mem.AssertSize(t, 0) // the summary holds nothing of the table
		got, err := tr.Baseline(sc)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("scores %v: the summary's baseline differs from NewBaseline's", sc != nil)
		}
		gotDir := t.TempDir()
		if err := tr.WriteReference(gotDir, sc); err != nil {
			t.Fatal(err)
		}
		tr.Release()
		files, _ := filepath.Glob(filepath.Join(wantDir, "*"))
		if len(files) != 1+min(len(sc), 1) {
			t.Fatalf("WriteReference wrote %v", files)
		}
		for _, f := range files {
			a, b := readFile(t, f), readFile(t, filepath.Join(gotDir, filepath.Base(f)))
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs from WriteReference's", filepath.Base(f))
			}
		}
	}
}

// TestCalibrateWithoutScores: the thresholds' null does not depend on the
// probability's baseline, so that it can be calibrated before the model
// exists (the pipeline's features stage does).
func TestCalibrateWithoutScores(t *testing.T) {
	g := gen{days: 30, perDay: 300, routes: true}
	train := table(t, draw(rand.New(rand.NewPCG(12, 12)), 30*300, g))
	names := []string{"date", "distance", "origin", "flag", "constant"}
	scores := make([]float64, 4000)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range scores {
		scores[i] = rng.Float64()
	}
	var out [2][]byte
	for k, sc := range [][]float64{nil, scores} {
		b, err := monitor.NewBaseline(context.Background(), train, names, sc, 0, 7)
		if err != nil {
			t.Fatal(err)
		}
		c, err := monitor.Calibrate(context.Background(), b, train, monitor.CalibrateOptions{Column: "date", Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		if out[k], err = json.Marshal(c); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Error("the calibration with validation scores differs from the one without")
	}
}

// checkedCopy copies tbl's columns into memory allocated by mem.
func checkedCopy(t *testing.T, mem memory.Allocator, tbl arrow.Table) arrow.Table {
	t.Helper()
	b := array.NewRecordBuilder(mem, tbl.Schema())
	defer b.Release()
	rd := array.NewTableReader(tbl, 0)
	defer rd.Release()
	for rd.Next() {
		rec := rd.Record()
		for j := range int(rec.NumCols()) {
			col := rec.Column(j)
			for i := range col.Len() {
				if err := b.Field(j).AppendValueFromString(col.ValueStr(i)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	return array.NewTableFromRecords(tbl.Schema(), []arrow.Record{rec})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
