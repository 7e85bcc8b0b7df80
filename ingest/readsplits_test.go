package ingest_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/ingest"
)

// blankLabels writes a copy of the CSV files of dir with the delay of
// every 11th row left empty, so that label.missing decides their fate.
func blankLabels(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CSV files in %s (%v)", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		j := -1
		for k, name := range strings.Split(lines[0], ",") {
			if name == "delay" {
				j = k
			}
		}
		for i := 1; i < len(lines); i++ {
			if i%11 != 0 || lines[i] == "" {
				continue
			}
			fields := strings.Split(lines[i], ",")
			fields[j] = ""
			lines[i] = strings.Join(fields, ",")
		}
		if err := os.WriteFile(filepath.Join(out, filepath.Base(f)), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestReadSplits: one chunked pass of ReadSplits over a source finds what
// the ingest stages find on the whole table (Load, Validate, Fingerprint,
// DropUnlabelled, ProfileTable, Split, and TimeBounds and Derive of the
// training split): the same report, fingerprint, profile, files, shape,
// validation and test rows, and training rows read again a range at a
// time; on rows out of time order in many Parquet row groups and in
// several CSV files, for splits by time, by time until a date, by
// trailing days and at random, and for labels with nulls (dropped, or an
// error) and a multiclass label.
func TestReadSplits(t *testing.T) {
	ctx := context.Background()
	cfg := flights(t)
	srcs := shuffledSources(t)
	srcs["csv, null labels"] = ingest.Source{Path: blankLabels(t, srcs["csv"].Path)}
	binary := cfg.Label
	drop := binary
	drop.Missing = ingest.MissingDrop
	multi := ingest.LabelSpec{Name: "airport", Column: "origin", Kind: "multiclass"}
	for name, src := range srcs {
		for _, sc := range splitCases(t) {
			for _, label := range []ingest.LabelSpec{binary, drop, multi} {
				t.Run(name+"/"+sc.name+"/"+label.Name+" "+label.Missing, func(t *testing.T) {
					compareReadSplits(t, ctx, src, cfg.Schema, label, sc.spec)
				})
			}
		}
	}
}

func compareReadSplits(t *testing.T, ctx context.Context, src ingest.Source, schema ingest.Schema, label ingest.LabelSpec, spec ingest.SplitSpec) {
	t.Helper()
	st, err := ingest.ReadSplits(ctx, src, schema, nil, label, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Splits.Release()
	ds, err := ingest.Load(ctx, src, schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	rep := ingest.Validate(ds, schema, label)
	if !reflect.DeepEqual(st.Report, rep) {
		t.Fatalf("report %+v streamed, %+v whole", st.Report, rep)
	}
	fp, err := ingest.Fingerprint(ctx, ds.Table)
	if err != nil {
		t.Fatal(err)
	}
	if st.Fingerprint != fp {
		t.Errorf("fingerprint %s streamed, %s whole", st.Fingerprint, fp)
	}
	if rep.Err() != nil {
		if rep.Dropped != 0 || label.Missing == ingest.MissingDrop {
			t.Fatalf("the report fails (%v) though rows without a label are dropped", rep.Err())
		}
		return // the run stops at validation
	}
	if _, err := ingest.DropUnlabelled(ctx, ds, label); err != nil {
		t.Fatal(err)
	}
	if st.Rows != ds.Table.NumRows() || st.Columns != int(ds.Table.NumCols()) {
		t.Errorf("shape %d×%d streamed, %d×%d whole", st.Rows, st.Columns, ds.Table.NumRows(), ds.Table.NumCols())
	}
	files := func(d *ingest.Dataset) string {
		b, err := json.Marshal(d.Parts)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if a, b := files(st.Dataset), files(ds); a != b {
		t.Errorf("files %s streamed, %s whole", a, b)
	}
	prof, err := ingest.ProfileTable(ctx, ds.Table, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Profile, prof) {
		t.Error("the profile differs from the whole table's")
	}
	sp, err := ingest.Split(ctx, ds.Table, spec)
	if err != nil || st.SplitErr != nil {
		if err == nil || st.SplitErr == nil || err.Error() != st.SplitErr.Error() {
			t.Fatalf("split error %v streamed, %v whole", st.SplitErr, err)
		}
		return
	}
	defer sp.Release()
	for _, c := range []struct {
		name string
		a, b arrow.Table
	}{{"validation", st.Splits.Valid, sp.Valid}, {"test", st.Splits.Test, sp.Test}} {
		if a, b := describe(t, c.a), describe(t, c.b); a != b {
			t.Errorf("%s rows: %s streamed, %s whole", c.name, a, b)
		}
	}
	if st.Train.NumRows() != sp.Train.NumRows() {
		t.Fatalf("%d training rows streamed, %d whole", st.Train.NumRows(), sp.Train.NumRows())
	}
	f := ingest.NewFingerprinter(st.Train.Schema())
	err = st.Train.Ranges(ctx, 1000, func(_ int64, part arrow.Table) error { return f.Add(ctx, part) })
	if err != nil {
		t.Fatal(err)
	}
	if want := describe(t, sp.Train); f.Sum() != want[strings.Index(want, " ")+1:] {
		t.Errorf("training rows read again: %s, split: %s", f.Sum(), want)
	}
	lo, hi, ok := ingest.TimeBounds(sp.Train, spec.Column)
	if spec.Method == "random" {
		lo, hi, ok = st.TrainFrom, st.TrainTo, false
	}
	if !st.TrainFrom.Equal(lo) || !st.TrainTo.Equal(hi) || st.TrainTimed != ok {
		t.Errorf("training times %v to %v (%v) streamed, %v to %v (%v) whole", st.TrainFrom, st.TrainTo, st.TrainTimed, lo, hi, ok)
	}
	l, err := label.Derive(sp.Train)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[bool][]string{true: l.Classes}[label.Kind == "multiclass"]; !reflect.DeepEqual(st.TrainClasses, want) {
		t.Errorf("training classes %v streamed, %v whole", st.TrainClasses, want)
	}
}
