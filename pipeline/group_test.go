package pipeline_test

import (
	"context"
	"slices"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/train/selection"
)

// TestGroupSplit runs configs/modechoice.yaml, whose 210 travellers have
// four rows each (one per mode, exactly one of them chosen) and whose
// split keeps them together (split.group: individual). Every traveller in
// the training set has all four rows there, with one choice among them;
// cross-validation ranks the candidates with each traveller in one fold
// and says so; the summary counts each split's travellers; and a run
// whose features stage is restored from the step cache has the same
// groups.
func TestGroupSplit(t *testing.T) {
	cfg, err := config.Load("../configs/modechoice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Cache.Path = t.TempDir()
	run := func() (*pipeline.State, []pipeline.StageResult) {
		s := &pipeline.State{Config: cfg}
		t.Cleanup(s.Release)
		r := &pipeline.Runner{Stages: pipeline.AllStages(nil), Cache: &pipeline.Cache{Dir: cfg.Cache.Path}}
		results, err := r.Run(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		return s, results
	}
	s, _ := run()
	ds := s.TrainSet
	if len(ds.Groups) != ds.X.Rows {
		t.Fatalf("%d groups for %d training rows", len(ds.Groups), ds.X.Rows)
	}
	rows, chosen := map[int]int{}, map[int]float64{}
	for i, g := range ds.Groups {
		rows[g]++
		chosen[g] += ds.Y[i]
	}
	for g, n := range rows {
		if n != 4 || chosen[g] != 1 {
			t.Fatalf("group %d has %d training rows and %g choices; a traveller has 4 and 1", g, n, chosen[g])
		}
	}
	sum := pipeline.Summarize(s, nil)
	for _, sp := range sum.Splits {
		if sp.GroupedBy != "individual" || int64(4*sp.Groups) != sp.Rows {
			t.Errorf("%s: %d rows, %d values of %q; want 4 rows a value of individual", sp.Name, sp.Rows, sp.Groups, sp.GroupedBy)
		}
	}
	if sel := sum.Selection; sel == nil || sel.Folds != 5 || sel.GroupedBy != "individual" {
		t.Errorf("selection %+v, want 5 folds grouped by individual", sum.Selection)
	}
	for f, fold := range selection.Folds(ds, 5, cfg.Seed) {
		for _, i := range fold {
			if n := countIn(fold, ds.Groups, ds.Groups[i]); n != 4 {
				t.Fatalf("fold %d holds %d of group %d's 4 rows", f, n, ds.Groups[i])
			}
		}
	}

	again, results := run()
	for _, r := range results {
		if r.Name == "features" && r.Cache != pipeline.CacheHit {
			t.Fatalf("second run: features %s (%s), want restored from the cache", r.Cache, r.Reason)
		}
	}
	if !slices.Equal(again.TrainSet.Groups, ds.Groups) {
		t.Error("the groups restored from the cache differ from those of the run that stored them")
	}
}

// countIn counts the rows of fold in group g.
func countIn(fold, groups []int, g int) int {
	n := 0
	for _, i := range fold {
		if groups[i] == g {
			n++
		}
	}
	return n
}

// TestGroupTargetEncodingFolds: with split.group, the features stage fits
// target encodings on folds of groups. Encoding modechoice's traveller
// (the group column itself) out of fold then gives every training row
// its fold's prior, at most Folds values: a traveller is never seen
// outside its own fold. On row folds it would see the traveller's other
// three rows.
func TestGroupTargetEncodingFolds(t *testing.T) {
	cfg, err := config.Load("../configs/modechoice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	no := false
	cfg.Features = append(cfg.Features, features.TransformSpec{Column: "individual", Transform: features.KindCategorical, TargetEncoding: true, Codes: &no})
	cfg.Models = cfg.Models[:1]
	s := &pipeline.State{Config: cfg}
	defer s.Release()
	stages := pipeline.AllStages(nil)
	if _, err := (&pipeline.Runner{Stages: stages[:slices.IndexFunc(stages, func(st pipeline.Stage) bool { return st.Name() == "features" })+1]}).Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	x := s.TrainSet.X
	j := slices.IndexFunc(x.Cols, func(c features.ColumnInfo) bool { return c.Name == "individual_te" })
	if j < 0 {
		t.Fatalf("no individual_te among %v", x.Cols)
	}
	values := map[float64]bool{}
	for _, v := range x.Data[j] {
		values[v] = true
	}
	if len(values) > features.Folds {
		t.Errorf("%d distinct out-of-fold encodings of the traveller, want at most %d (each fold's prior)", len(values), features.Folds)
	}
}
