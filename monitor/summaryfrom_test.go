package monitor_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/tables"
	"github.com/mlpipe/mlpipe/monitor"
)

// TestReferenceDigest: WriteReference's files on a fixture with missing
// distances, as sha256 digests recorded before the sample was drawn
// through a tables.Source (Take): the same bytes.
func TestReferenceDigest(t *testing.T) {
	tbl := table(t, draw(rand.New(rand.NewPCG(71, 71)), 3000, gen{days: 20, perDay: 150, missingDist: 0.1}))
	names := []string{"date", "distance", "origin", "flag", "constant"}
	scores := []float64{0.1, 0.7, 0.3, 0.4, 0.5, 0.9}
	for _, tc := range []struct {
		n          int
		ref, score string
	}{
		{200, "a7e652ef30cfeed8e64df094222a5f4af7f91d817394723c52150ba4b4127c47", "a5301aad7552058e0a7ed0216d08345070a13068f746de31f22ea6d9d2a6c419"},
		// More than the rows: every row.
		{5000, "0777c8ecce056ffa84dc9d3c3ca225462f1908e97075e7cea15d78c18ef392ab", "a5301aad7552058e0a7ed0216d08345070a13068f746de31f22ea6d9d2a6c419"},
	} {
		dir := t.TempDir()
		if err := monitor.WriteReference(dir, tbl, names, scores, tc.n, 42); err != nil {
			t.Fatal(err)
		}
		ref := digest(t, filepath.Join(dir, monitor.ReferenceFile))
		score := digest(t, filepath.Join(dir, monitor.ReferenceScoresFile))
		if ref != tc.ref || score != tc.score {
			t.Errorf("n %d: digests %s %s, want %s %s", tc.n, ref, score, tc.ref, tc.score)
		}
	}
}

func digest(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256(readFile(t, path))
	return hex.EncodeToString(sum[:])
}

// sized is a Source read size rows at a time, whatever the reader asks.
type sized struct {
	tables.Source
	size int
}

func (s sized) Ranges(ctx context.Context, _ int, fn func(off int64, part arrow.Table) error) error {
	return s.Source.Ranges(ctx, s.size, fn)
}

// TestSummarizeFrom: SummarizeFrom over ingest.InMemory, tables.Whole,
// and sources read 1, 7 and 1000 rows at a time, of a table in uneven
// chunks, gives Summarize's Training: the same profile (DeepEqual and
// JSON), the same baseline, and the same reference files byte for byte
// (so the sample's Arrow data), with a sample of some rows and of all.
func TestSummarizeFrom(t *testing.T) {
	ctx := context.Background()
	whole := table(t, draw(rand.New(rand.NewPCG(5, 9)), 2500, gen{days: 20, missingDist: 0.2}))
	tbl := rechunk(t, whole, 1, 999, 1500)
	names := []string{"date", "distance", "origin", "flag", "constant"}
	scores := []float64{0.2, 0.6, 0.9}
	for _, n := range []int{300, 0} { // 0: DefaultReferenceRows, more than the rows
		want, err := monitor.Summarize(ctx, tbl, names, n, 11)
		if err != nil {
			t.Fatal(err)
		}
		wantBase, err := want.Baseline(scores)
		if err != nil {
			t.Fatal(err)
		}
		wantProf, _ := json.Marshal(want.Profile)
		wantDir := t.TempDir()
		if err := want.WriteReference(wantDir, scores); err != nil {
			t.Fatal(err)
		}
		want.Release()
		sources := map[string]tables.Source{"ingest.InMemory": ingest.InMemory(tbl), "tables.Whole": tables.Whole(tbl)}
		for _, size := range []int{1, 7, 1000} {
			sources[fmt.Sprintf("ranges of %d", size)] = sized{ingest.InMemory(tbl), size}
		}
		for name, src := range sources {
			got, err := monitor.SummarizeFrom(ctx, src, names, n, 11)
			if err != nil {
				t.Fatal(err)
			}
			gotProf, _ := json.Marshal(got.Profile)
			if !reflect.DeepEqual(got.Profile, want.Profile) || !bytes.Equal(gotProf, wantProf) {
				t.Errorf("n %d, %s: the profile differs from Summarize's", n, name)
			}
			b, err := got.Baseline(scores)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(b, wantBase) {
				t.Errorf("n %d, %s: the baseline differs from Summarize's", n, name)
			}
			dir := t.TempDir()
			if err := got.WriteReference(dir, scores); err != nil {
				t.Fatal(err)
			}
			got.Release()
			for _, f := range []string{monitor.ReferenceFile, monitor.ReferenceScoresFile} {
				if !bytes.Equal(readFile(t, filepath.Join(dir, f)), readFile(t, filepath.Join(wantDir, f))) {
					t.Errorf("n %d, %s: %s differs from Summarize's", n, name, f)
				}
			}
		}
	}
}

// TestSummarizeFromErrors: an input that is not a column fails before
// any row is read, and a source's read error is returned.
func TestSummarizeFromErrors(t *testing.T) {
	ctx := context.Background()
	tbl := table(t, draw(rand.New(rand.NewPCG(5, 9)), 100, gen{}))
	src := failing{ingest.InMemory(tbl)}
	if _, err := monitor.SummarizeFrom(ctx, src, []string{"nope"}, 10, 1); err == nil || errors.Is(err, errRead) {
		t.Errorf("an input that is not a column: %v", err)
	}
	if _, err := monitor.SummarizeFrom(ctx, src, []string{"distance"}, 10, 1); !errors.Is(err, errRead) {
		t.Errorf("a source that fails to read: %v, want %v", err, errRead)
	}
}

var errRead = errors.New("read failed")

// failing is a Source whose ranges cannot be read.
type failing struct{ tables.Source }

func (failing) Ranges(context.Context, int, func(int64, arrow.Table) error) error { return errRead }

// rechunk returns tbl's rows in chunks of the given sizes (the last
// chunk takes the rest).
func rechunk(t *testing.T, tbl arrow.Table, sizes ...int64) arrow.Table {
	t.Helper()
	var recs []arrow.Record
	lo := int64(0)
	for k := 0; lo < tbl.NumRows(); k++ {
		hi := tbl.NumRows()
		if k < len(sizes) {
			hi = min(lo+sizes[k], hi)
		}
		s := tables.Slice(tbl, lo, hi)
		rd := array.NewTableReader(s, 0)
		var cols []arrow.Array
		if rd.Next() {
			for j := range int(s.NumCols()) {
				cols = append(cols, rd.Record().Column(j))
			}
			rec := array.NewRecord(s.Schema(), cols, hi-lo)
			recs = append(recs, rec)
		}
		rd.Release()
		s.Release()
		lo = hi
	}
	out := array.NewTableFromRecords(tbl.Schema(), recs)
	for _, r := range recs {
		r.Release()
	}
	t.Cleanup(out.Release)
	return out
}
