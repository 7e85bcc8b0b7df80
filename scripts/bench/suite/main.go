// Command suite fits mlpipe's gbdt on a suite of the example datasets,
// each split several ways, and writes their feature matrices for
// XGBoost (scripts/bench/xgb_suite.py); it also scores XGBoost's
// predictions with the same metric code. scripts/bench/gbdt.sh runs it to
// compare gbdt's defaults with XGBoost's, and train/gbdt/doc.go's
// procedure for choosing the defaults runs it with -grid.
//
//	go run ./scripts/bench/suite -out DIR                # fit the defaults, export the matrices
//	go run ./scripts/bench/suite -out DIR -grid FILE     # fit every parameter set of FILE
//	go run ./scripts/bench/suite -out DIR -score xgboost # score DIR/*/xgboost-{valid,test}.npy
//
// For each config of -configs and each split seed of -seeds (a config
// with a time split has one split; its seeds are ignored), it runs the
// stages of `mlpipe train` up to the features (load, validate, profile,
// split, features: exactly what `mlpipe run` fits its models on) and,
// unless -score, writes the three splits to DIR/NAME-SEED/ (NumPy files
// as train/gbdt's BenchmarkFlightsQuality writes them, plus task.json:
// the task, the number of classes and the config's selection metric).
//
// It prints one JSON object per line: the dataset, the seed, the model
// ("gbdt" with its params, or the -score name), the selection metric on
// the validation and the test split, and for gbdt the fit time and the
// rounds kept. Metrics are the pipeline's (pipeline.SelectionMetric).
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/internal/npy"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/gbdt"
	"github.com/mlpipe/mlpipe/train/selection"
)

// defaultConfigs is the suite: three classification and three regression
// tasks on six different datasets shipped in data/ (data/README.md).
const defaultConfigs = "breast-cancer,seattle-weather,digits,cars-mpg,diabetes,movies-rating"

func main() {
	out := flag.String("out", "", "directory for the matrices (required)")
	configs := flag.String("configs", defaultConfigs, "comma-separated config names under -dir")
	dir := flag.String("dir", "configs", "directory of the configs")
	seeds := flag.String("seeds", "1,2,3,4,5", "comma-separated split seeds (random splits)")
	params := flag.String("params", "{}", "gbdt parameters (JSON object) when there is no -grid")
	grid := flag.String("grid", "", "a file of gbdt parameter sets, one JSON object a line, to fit each")
	score := flag.String("score", "", "instead of fitting, score the predictions DIR/NAME-SEED/MODEL-{valid,test}.npy of MODEL")
	flag.Parse()
	if err := run(*out, *dir, *configs, *seeds, *params, *grid, *score, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "suite:", err)
		os.Exit(1)
	}
}

// result is one line of output.
type result struct {
	Dataset string         `json:"dataset"`
	Seed    uint64         `json:"seed"`
	Task    string         `json:"task"`
	Model   string         `json:"model"`
	Params  map[string]any `json:"params,omitempty"`
	Metric  string         `json:"metric"`
	Valid   float64        `json:"valid"`
	Test    float64        `json:"test"`
	FitS    float64        `json:"fit_s,omitempty"`
	Rounds  int            `json:"rounds,omitempty"`
}

func run(out, dir, configs, seedList, params, gridFile, score string, w io.Writer) error {
	if out == "" {
		return errors.New("-out is required")
	}
	var sets []map[string]any
	if gridFile != "" {
		data, err := os.ReadFile(gridFile)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			var p map[string]any
			if err := json.Unmarshal([]byte(line), &p); err != nil {
				return fmt.Errorf("%s:%d: %w", gridFile, i+1, err)
			}
			sets = append(sets, p)
		}
	} else {
		var p map[string]any
		if err := json.Unmarshal([]byte(params), &p); err != nil {
			return fmt.Errorf("-params: %w", err)
		}
		sets = append(sets, p)
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
			splitSeeds = []uint64{0}
		}
		for _, seed := range splitSeeds {
			if seed != 0 {
				cfg.Split.Seed = seed
			}
			ds, err := datasets(cfg)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			sub := filepath.Join(out, fmt.Sprintf("%s-%d", name, seed))
			metric, err := pipeline.SelectionMetric(cfg.Selection.Metric, ds[0].Task)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			base := result{Dataset: name, Seed: seed, Task: string(ds[0].Task), Metric: metric.Name}
			if score != "" {
				r, err := scorePredictions(sub, score, ds, metric, base)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				if err := enc.Encode(r); err != nil {
					return err
				}
				continue
			}
			if err := export(sub, ds, metric.Name); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			for _, p := range sets {
				r, err := fitGBDT(ds, p, cfg.Seed, metric, base)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// datasets runs the stages of `mlpipe train` before the train stage and
// returns the training, validation and test sets.
func datasets(cfg *config.Config) ([3]*train.Dataset, error) {
	stages := pipeline.TrainStages(nil)
	if last := stages[len(stages)-1]; last.Name() != "train" {
		return [3]*train.Dataset{}, fmt.Errorf("the last stage of mlpipe train is %q, not train", last.Name())
	}
	s := &pipeline.State{Config: cfg}
	defer s.Release()
	if _, err := (&pipeline.Runner{Stages: stages[:len(stages)-1]}).Run(context.Background(), s); err != nil {
		return [3]*train.Dataset{}, err
	}
	return [3]*train.Dataset{s.TrainSet, s.ValidSet, s.TestSet}, nil
}

var splitNames = [3]string{"train", "valid", "test"}

// export writes the splits to dir as NumPy files and task.json.
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
// Predict's layout: one value per row, or Classes per row, row-major).
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
