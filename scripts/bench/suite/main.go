// Command suite is the example-dataset suite of `make bench`
// (scripts/bench/suite.sh runs it): for every example config it fits
// mlpipe's models and hands the very same feature matrices to the peers
// (scripts/bench/suite_peers.py: XGBoost with early stopping and
// scikit-learn's HistGradientBoosting), scores everything with the
// pipeline's own metric code, and writes the table of BENCHMARKS.md.
// train/gbdt/doc.go's procedure for choosing gbdt's defaults runs it with
// -grid.
//
//	suite -out DIR [-configs a,b] [-seeds 1,2,3] [-params JSON | -grid FILE] [-config-models=false]
//	suite -out DIR -score xgboost,hgb [-configs a,b] [-seeds 1,2,3]
//	suite -table [-judged a,b] [-env FILE] RESULTS.jsonl...
//	suite -choose RESULTS.jsonl...
//
// Fitting: for each config of -configs and each split seed of -seeds (a
// config with a time split has one split; seeds do not apply to it), it
// runs the stages of `mlpipe train` (load, validate, profile, split,
// features, train: the config's own candidates and selection, "config"
// below), writes the three splits' feature matrices to DIR/NAME-SEED/
// (NumPy files as train/gbdt's BenchmarkFlightsQuality writes them, with
// columns.json and task.json), and fits gbdt alone with the parameters of
// -params (default: its defaults) or of each line of -grid, with early
// stopping on the validation split. Scoring: reads the peers' predictions
// DIR/NAME-SEED/MODEL-{valid,test}.npy and scores them. Both print one
// JSON object per line: the dataset, the seed, the model ("config" with
// the model it selected, "gbdt" with its params, or the peer's name), the
// config's selection metric on the validation and the test split, and
// for a fit its time. -table reads such lines and prints the Markdown
// table: per dataset the mean over its splits, and how gbdt compares with
// XGBoost (the count on the -judged datasets is issue 17's target).
// -choose reads the gbdt lines of a -grid run and ranks the parameter
// sets by their mean regret on the validation splits (train/gbdt/doc.go:
// how the defaults were chosen).
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/npy"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/gbdt"
	"github.com/mlpipe/mlpipe/train/selection"
)

// allConfigs is the suite: every example config of configs/ but the
// 3M-row flights ones, which models.sh, regression.sh and gbdt.sh
// measure (data/README.md has the datasets).
const allConfigs = "breast-cancer,wine,iris,digits,seattle-weather,cars,movies,penguins," +
	"cars-mpg,movies-rating,diabetes,penguins-body-mass"

// judgedConfigs are the datasets issue 17's target is judged on and
// gbdt's defaults were chosen on (train/gbdt/doc.go): three
// classification and three regression tasks, the largest of each kind
// and the binary ones, chosen before any score was seen. The other
// example datasets are in the table too.
const judgedConfigs = "breast-cancer,seattle-weather,digits,cars-mpg,diabetes,movies-rating"

// within is the share of XGBoost's score gbdt must come within on every
// judged dataset, and atLeast the share of the judged datasets it must
// match or beat it on (issue 17: within 2% on all, at least as good on 5
// of 6).
const (
	within  = 0.02
	atLeast = 5.0 / 6
)

func main() {
	out := flag.String("out", "", "directory for the matrices and the peers' predictions (required unless -table)")
	configs := flag.String("configs", allConfigs, "comma-separated config names under -dir")
	dir := flag.String("dir", "configs", "directory of the configs")
	seeds := flag.String("seeds", "1,2,3", "comma-separated split seeds of the random splits")
	params := flag.String("params", "{}", "gbdt parameters (JSON object) when there is no -grid")
	grid := flag.String("grid", "", "a file of gbdt parameter sets, one JSON object a line, to fit each")
	configModels := flag.Bool("config-models", true, "also fit the config's own candidates (the \"config\" model)")
	score := flag.String("score", "", "instead of fitting, score the predictions DIR/NAME-SEED/MODEL-{valid,test}.npy of these comma-separated MODELs")
	table := flag.Bool("table", false, "print the Markdown table of the result files given as arguments")
	judged := flag.String("judged", judgedConfigs, "with -table: the datasets issue 17's target is judged on")
	env := flag.String("env", "", "with -table: also write the judgement as shell variables to this file")
	choose := flag.Bool("choose", false, "rank the gbdt parameter sets of the result files given as arguments by validation regret")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage:\n  suite -out DIR [flags]\n  suite -out DIR -score MODELS [flags]\n  suite -table [-judged a,b] [-env FILE] RESULTS.jsonl...\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	var err error
	if *choose {
		err = rank(flag.Args(), os.Stdout)
	} else if *table {
		err = writeTable(flag.Args(), strings.Split(*judged, ","), *env, os.Stdout)
	} else {
		err = run(*out, *dir, *configs, *seeds, *params, *grid, *score, *configModels, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "suite:", err)
		os.Exit(1)
	}
}

// result is one line of output.
type result struct {
	Dataset  string         `json:"dataset"`
	Seed     uint64         `json:"seed"`
	Task     string         `json:"task"`
	Rows     [3]int         `json:"rows"`
	Model    string         `json:"model"`
	Selected string         `json:"selected,omitempty"` // the config's selected model
	Params   map[string]any `json:"params,omitempty"`
	Metric   string         `json:"metric"`
	Higher   bool           `json:"higher_is_better"`
	Valid    float64        `json:"valid"`
	Test     float64        `json:"test"`
	FitS     float64        `json:"fit_s,omitempty"`
	Rounds   int            `json:"rounds,omitempty"`
}

// setKey names a parameter set: its JSON without rounds and
// early_stopping_rounds, which a grid holds fixed and high.
func setKey(p map[string]any) string {
	q := map[string]any{}
	for k, v := range p {
		if k != "rounds" && k != "early_stopping_rounds" {
			q[k] = v
		}
	}
	b, _ := json.Marshal(q) // map keys sorted
	return string(b)
}

func run(out, dir, configs, seedList, params, gridFile, score string, configModels bool, w io.Writer) error {
	if out == "" {
		return errors.New("-out is required")
	}
	sets, err := paramSets(params, gridFile)
	if err != nil {
		return err
	}
	var seeds []uint64
	for _, s := range strings.Split(seedList, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("-seeds: %w", err)
		}
		seeds = append(seeds, v)
	}
	enc := json.NewEncoder(w)
	for _, name := range strings.Split(configs, ",") {
		cfg, err := config.Load(filepath.Join(dir, name+".yaml"))
		if err != nil {
			return err
		}
		splitSeeds := seeds
		if cfg.Split.Method != "random" {
			splitSeeds = []uint64{cfg.Split.Seed}
		}
		for _, seed := range splitSeeds {
			cfg.Split.Seed = seed
			fmt.Fprintf(os.Stderr, "suite: %s, split seed %d\n", name, seed)
			s, x, err := runStages(cfg, configModels && score == "")
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			// The pipeline scores the test split a range of rows at a
			// time and keeps no test matrix; the exports need it whole.
			xTest, err := s.Features.Transform(s.Splits.Test)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			trainSet, validSet, test := *s.TrainSet, *s.ValidSet, *s.TestSet
			trainSet.X, validSet.X, test.X = x[0], x[1], xTest
			ds := [3]*train.Dataset{&trainSet, &validSet, &test}
			metric, err := pipeline.SelectionMetric(cfg.Selection.Metric, ds[0].Task)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			base := result{Dataset: name, Seed: seed, Task: string(ds[0].Task), Metric: metric.Name, Higher: metric.HigherIsBetter,
				Rows: [3]int{ds[0].X.Rows, ds[1].X.Rows, ds[2].X.Rows}}
			sub := filepath.Join(out, fmt.Sprintf("%s-%d", name, seed))
			var rs []result
			if score != "" {
				for _, model := range strings.Split(score, ",") {
					r, err := scorePredictions(sub, model, ds, metric, base)
					if err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
					rs = append(rs, r)
				}
			} else {
				if s.Model != nil {
					r, err := scoreConfig(s, ds, metric, base)
					if err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
					rs = append(rs, r)
				}
				if err := export(sub, ds, metric.Name); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				for _, p := range sets {
					r, err := fitGBDT(ds, p, cfg.Seed, metric, base)
					if err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
					rs = append(rs, r)
				}
			}
			s.Release()
			for _, r := range rs {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// paramSets returns the gbdt parameter sets to fit: each line of the
// grid file, or params alone.
func paramSets(params, gridFile string) ([]map[string]any, error) {
	if gridFile == "" {
		var p map[string]any
		if err := json.Unmarshal([]byte(params), &p); err != nil {
			return nil, fmt.Errorf("-params: %w", err)
		}
		return []map[string]any{p}, nil
	}
	data, err := os.ReadFile(gridFile)
	if err != nil {
		return nil, err
	}
	var sets []map[string]any
	for i, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", gridFile, i+1, err)
		}
		sets = append(sets, p)
	}
	return sets, nil
}

// runStages runs the stages of `mlpipe train` on cfg, with the train
// stage (the config's model selection) or without it.
func runStages(cfg *config.Config, withTrain bool) (*pipeline.State, [2]*features.Matrix, error) {
	var x [2]*features.Matrix
	stages := pipeline.TrainStages(nil)
	last := stages[len(stages)-1]
	if last.Name() != "train" {
		return nil, x, fmt.Errorf("the last stage of mlpipe train is %q, not train", last.Name())
	}
	s := &pipeline.State{Config: cfg}
	if _, err := (&pipeline.Runner{Stages: stages[:len(stages)-1]}).Run(context.Background(), s); err != nil {
		s.Release()
		return nil, x, err
	}
	// The train stage drops the float matrices once the model is fitted
	// (the run holds only their shapes after it); the exports and the
	// grid's fits need them, so they are taken first. A run that streams
	// its training split (gbdt alone on enough rows, pipeline/stream.go)
	// never builds them.
	x = [2]*features.Matrix{s.TrainSet.X, s.ValidSet.X}
	for i, m := range x {
		if m.Rows > 0 && m.Data == nil {
			s.Release()
			return nil, x, fmt.Errorf("the %s split was binned a range at a time (gbdt alone on %d rows), so there is no feature matrix to export; add a second candidate to the config", splitNames[i], m.Rows)
		}
	}
	if withTrain {
		if _, err := (&pipeline.Runner{Stages: []pipeline.Stage{last}}).Run(context.Background(), s); err != nil {
			s.Release()
			return nil, x, err
		}
	}
	return s, x, nil
}

// scoreConfig scores the model the config's selection chose.
func scoreConfig(s *pipeline.State, ds [3]*train.Dataset, metric selection.Metric, r result) (result, error) {
	r.Model = "config"
	for _, e := range s.Leaderboard {
		if e.Best {
			r.Selected, r.Params, r.FitS = e.Model, e.Params, e.FitSeconds
		}
	}
	var err error
	if r.Valid, err = metric.Score(ds[1].Y, s.Model.Predict(ds[1].X), ds[1].Classes); err != nil {
		return r, err
	}
	r.Test, err = metric.Score(ds[2].Y, s.Model.Predict(ds[2].X), ds[2].Classes)
	return r, err
}

var splitNames = [3]string{"train", "valid", "test"}

// export writes the splits to dir as NumPy files, columns.json (the
// matrix's columns: name, kind 1 for categorical, card) and task.json.
func export(dir string, ds [3]*train.Dataset, metric string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, d := range ds {
		if err := npy.Write(filepath.Join(dir, splitNames[i]+"-x.npy"), d.X.Rows, d.X.Data); err != nil {
			return err
		}
		if err := npy.Write(filepath.Join(dir, splitNames[i]+"-y.npy"), len(d.Y), [][]float64{d.Y}); err != nil {
			return err
		}
	}
	cols, err := json.Marshal(ds[0].X.Cols)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "columns.json"), cols, 0o644); err != nil {
		return err
	}
	task, err := json.Marshal(map[string]any{"task": string(ds[0].Task), "classes": ds[0].Classes, "metric": metric})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "task.json"), task, 0o644)
}

// fitGBDT fits gbdt with params on the training set, with early stopping
// on the validation set, and scores both evaluation sets.
func fitGBDT(ds [3]*train.Dataset, params map[string]any, seed uint64, metric selection.Metric, r result) (result, error) {
	tr, err := catalog.Trainer(gbdt.Name, params, seed)
	if err != nil {
		return r, err
	}
	start := time.Now()
	m, err := tr.Fit(context.Background(), ds[0], ds[1])
	if err != nil {
		return r, err
	}
	r.FitS = time.Since(start).Seconds()
	r.Model, r.Params, r.Rounds = gbdt.Name, params, m.(*gbdt.Model).BestRound+1
	if r.Valid, err = metric.Score(ds[1].Y, m.Predict(ds[1].X), ds[1].Classes); err != nil {
		return r, err
	}
	r.Test, err = metric.Score(ds[2].Y, m.Predict(ds[2].X), ds[2].Classes)
	return r, err
}

// scorePredictions scores a peer's predictions of the validation and
// test sets, read from dir/MODEL-valid.npy and dir/MODEL-test.npy (in
// Predict's layout: one value per row, or Classes per row, row-major),
// and takes its fit time from dir/MODEL.json when there is one.
func scorePredictions(dir, model string, ds [3]*train.Dataset, metric selection.Metric, r result) (result, error) {
	r.Model = model
	for i, dst := range []*float64{&r.Valid, &r.Test} {
		d := ds[i+1]
		p, err := readNpy(filepath.Join(dir, model+"-"+splitNames[i+1]+".npy"))
		if err != nil {
			return r, err
		}
		want := d.X.Rows
		if d.Classes > 2 {
			want *= d.Classes
		}
		if len(p) != want {
			return r, fmt.Errorf("%s predictions: %d values, want %d", splitNames[i+1], len(p), want)
		}
		if *dst, err = metric.Score(d.Y, p, d.Classes); err != nil {
			return r, err
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, model+".json")); err == nil {
		var fit struct {
			FitS   float64 `json:"fit_s"`
			Rounds int     `json:"rounds"`
		}
		if err := json.Unmarshal(data, &fit); err != nil {
			return r, fmt.Errorf("%s.json: %w", model, err)
		}
		r.FitS, r.Rounds = fit.FitS, fit.Rounds
	}
	return r, nil
}

// readNpy reads the float64 values of a C-order .npy file of format 1.0,
// as numpy.save writes a float64 array.
func readNpy(path string) ([]float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 10 || string(data[:8]) != "\x93NUMPY\x01\x00" {
		return nil, fmt.Errorf("%s: not a version 1.0 .npy file", path)
	}
	n := int(binary.LittleEndian.Uint16(data[8:10]))
	if len(data) < 10+n {
		return nil, fmt.Errorf("%s: truncated header", path)
	}
	header := string(data[10 : 10+n])
	if !strings.Contains(header, "'descr': '<f8'") || strings.Contains(header, "'fortran_order': True") {
		return nil, fmt.Errorf("%s: want a C-order little-endian float64 array, header %s", path, header)
	}
	body := data[10+n:]
	if len(body)%8 != 0 {
		return nil, fmt.Errorf("%s: %d data bytes", path, len(body))
	}
	vals := make([]float64, len(body)/8)
	if _, err := binary.Decode(body, binary.LittleEndian, vals); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vals, nil
}

// --- The table ----------------------------------------------------------------

// tableModels are the table's score columns, in order.
var tableModels = []string{"config", "gbdt", "xgboost", "hgb"}

// dataset is one row of the table: a dataset's results over its splits.
type dataset struct {
	name, task, metric string
	higher             bool
	rows               [3]int
	scores             map[string][]float64 // test scores by model
	selected           map[string]int       // the config's selected models, counted
}

func (d *dataset) mean(model string) (float64, bool) {
	v := d.scores[model]
	if len(v) == 0 {
		return 0, false
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v)), true
}

// relative is how much better gbdt's mean is than XGBoost's, as a share
// of XGBoost's (negative: worse), in the metric's better direction.
func (d *dataset) relative() (float64, bool) {
	g, ok1 := d.mean("gbdt")
	x, ok2 := d.mean("xgboost")
	if !ok1 || !ok2 || x == 0 || len(d.scores["gbdt"]) != len(d.scores["xgboost"]) {
		return 0, false
	}
	if d.higher {
		return (g - x) / abs(x), true
	}
	return (x - g) / abs(x), true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// readResults reads result lines from files, grouped by dataset in the
// order first seen.
func readResults(files []string) ([]*dataset, error) {
	var order []*dataset
	byName := map[string]*dataset{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for line := 1; sc.Scan(); line++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var r result
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				fh.Close()
				return nil, fmt.Errorf("%s:%d: %w", f, line, err)
			}
			d := byName[r.Dataset]
			if d == nil {
				d = &dataset{name: r.Dataset, task: r.Task, metric: r.Metric, higher: r.Higher, rows: r.Rows,
					scores: map[string][]float64{}, selected: map[string]int{}}
				byName[r.Dataset] = d
				order = append(order, d)
			}
			d.scores[r.Model] = append(d.scores[r.Model], r.Test)
			if r.Model == "config" {
				d.selected[r.Selected]++
			}
		}
		err = sc.Err()
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	return order, nil
}

// writeTable prints the Markdown table of the results in files and the
// count of issue 17's target; with envFile, writes that count as shell
// variables too (SUITE_JUDGED, SUITE_AT_LEAST, SUITE_WITHIN, SUITE_MET).
func writeTable(files, judged []string, envFile string, w io.Writer) error {
	ds, err := readResults(files)
	if err != nil {
		return err
	}
	num := func(v float64) string {
		if abs(v) >= 100 {
			return strconv.FormatFloat(v, 'f', 1, 64)
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	fmt.Fprintln(w, "| dataset | task | rows (train / valid / test) | splits | metric | mlpipe (config; selected) | gbdt defaults | XGBoost-ES | HGB | gbdt vs XGBoost |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	var nJudged, nAtLeast, nWithin int
	for _, d := range ds {
		cells := make([]string, len(tableModels))
		for i, m := range tableModels {
			cells[i] = "—"
			if v, ok := d.mean(m); ok {
				cells[i] = num(v)
			}
		}
		if len(d.selected) > 0 {
			var sel []string
			for m, n := range d.selected {
				sel = append(sel, fmt.Sprintf("%s %d×", m, n))
			}
			slices.Sort(sel)
			if len(d.selected) == 1 {
				for m := range d.selected {
					sel = []string{m}
				}
			}
			cells[0] += " (" + strings.Join(sel, ", ") + ")"
		}
		vs := "—"
		name := d.name
		isJudged := slices.Contains(judged, d.name)
		if isJudged {
			name = "**" + d.name + "**"
		}
		if rel, ok := d.relative(); ok {
			vs = fmt.Sprintf("%+.1f%%", 100*rel)
			if rel < 0 {
				vs += " (worse)"
			}
			if isJudged {
				nJudged++
				if rel >= 0 {
					nAtLeast++
				}
				if rel >= -within {
					nWithin++
				}
			}
		}
		arrow := "↓"
		if d.higher {
			arrow = "↑"
		}
		fmt.Fprintf(w, "| %s | %s | %d / %d / %d | %d | %s %s | %s | %s | %s | %s | %s |\n", name, d.task,
			d.rows[0], d.rows[1], d.rows[2], len(d.scores["gbdt"]), d.metric, arrow, cells[0], cells[1], cells[2], cells[3], vs)
	}
	met := nJudged == len(judged) && float64(nAtLeast) >= atLeast*float64(nJudged)-1e-9 && nWithin == nJudged
	fmt.Fprintf(w, "\ngbdt with its defaults against XGBoost-ES on the %d datasets in bold (issue 17's suite): at least as good on **%d of %d** "+
		"(target ≥ %.0f%% of them), within %.0f%% on **%d of %d** (target all): **%s**.\n",
		len(judged), nAtLeast, nJudged, 100*atLeast, 100*within, nWithin, nJudged, map[bool]string{true: "met", false: "not met"}[met])
	if envFile != "" {
		return os.WriteFile(envFile, fmt.Appendf(nil, "SUITE_JUDGED=%d\nSUITE_AT_LEAST=%d\nSUITE_WITHIN=%d\nSUITE_MET=%d\n",
			nJudged, nAtLeast, nWithin, map[bool]int{true: 1, false: 0}[met]), 0o644)
	}
	return nil
}

// rank prints the gbdt parameter sets of the result files, best first, by
// their regret averaged over the datasets: on each dataset, how much
// worse a set's mean validation score over the splits is than the best
// set's, as a share of the best (1 - mean/best for a score where higher
// is better, mean/best - 1 for a loss): the measure of issue 17's
// "within 2%". Test scores are not looked at.
func rank(files []string, w io.Writer) error {
	type acc struct {
		sum float64
		n   int
	}
	valid := map[string]map[string]*acc{} // dataset → set → validation scores
	higher := map[string]bool{}
	var datasets []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			var r result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return fmt.Errorf("%s:%d: %w", f, i+1, err)
			}
			if r.Model != gbdt.Name {
				continue
			}
			if valid[r.Dataset] == nil {
				valid[r.Dataset] = map[string]*acc{}
				datasets = append(datasets, r.Dataset)
			}
			k := setKey(r.Params)
			if valid[r.Dataset][k] == nil {
				valid[r.Dataset][k] = &acc{}
			}
			valid[r.Dataset][k].sum += r.Valid
			valid[r.Dataset][k].n++
			higher[r.Dataset] = r.Higher
		}
	}
	regret := map[string]float64{}
	count := map[string]int{}
	for _, d := range datasets {
		best := math.NaN()
		for _, a := range valid[d] {
			m := a.sum / float64(a.n)
			if math.IsNaN(best) || (higher[d] && m > best) || (!higher[d] && m < best) {
				best = m
			}
		}
		for k, a := range valid[d] {
			m := a.sum / float64(a.n)
			if higher[d] {
				regret[k] += 1 - m/best
			} else {
				regret[k] += m/best - 1
			}
			count[k]++
		}
	}
	var keys []string
	for k, n := range count {
		if n == len(datasets) { // only sets fitted on every dataset
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(regret[a], regret[b]) })
	fmt.Fprintf(w, "mean validation regret over %d datasets (%s), best first:\n", len(datasets), strings.Join(datasets, ", "))
	for _, k := range keys {
		fmt.Fprintf(w, "%7.4f  %s\n", regret[k]/float64(len(datasets)), k)
	}
	return nil
}
