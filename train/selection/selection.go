// Package selection picks the best model among candidates.
//
// In: candidate trainers (from the config's `models:` list, grids and
// random-search trials), a training and a validation Dataset, and
// Options: the metric, the number of cross-validation folds, the seed and
// the time budget of random search. Out: a leaderboard — each
// candidate's score, fit time and peak heap — and the best fitted model.
//
// Without cross-validation each candidate is fitted on the training split
// (with the validation split for early stopping) and scored on the
// validation split. With k folds (Options.Folds) the training rows are
// divided into k folds, seeded and, for a class label, stratified (each
// fold has each class's share); each candidate is fitted k times, on all
// folds but one, and scored on the fold left out, and ranked by the mean
// of the k scores. The best is then fitted once more on the whole training
// split and scored on the validation split, so that the model selection
// returns is trained exactly as without cross-validation. The test split
// is never looked at here.
package selection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mlpipe/mlpipe/train"
)

// Candidate is one model to try.
type Candidate struct {
	Name    string         `json:"model"`
	Params  map[string]any `json:"params"`
	Trainer train.Trainer  `json:"-"`
	// Note is shown in the leaderboard (a known limit of the model).
	Note string `json:"note,omitempty"`
	// Trial numbers a random-search trial from 1; 0 for a candidate of
	// the config's params and grids. Trials are subject to the time
	// budget.
	Trial int `json:"trial,omitempty"`
}

// Metric scores predictions: binary probabilities (one per row) or
// multiclass ones (row-major, Classes per row) against labels.
type Metric struct {
	Name string
	// HigherIsBetter is true for AUC and accuracy, false for log loss.
	HigherIsBetter bool
	Score          func(y []float64, proba []float64, classes int) (float64, error)
}

// Entry is one row of the leaderboard.
type Entry struct {
	Model  string         `json:"model"`
	Params map[string]any `json:"params"`
	Metric string         `json:"metric"`
	// Trial is the candidate's random-search trial number (0: none).
	Trial int `json:"trial,omitempty"`
	// CV is the cross-validated score (nil without cross-validation).
	CV *CVScore `json:"cv,omitempty"`
	// Valid is the candidate's score on the validation split: every
	// candidate's without cross-validation, the best one's with it (NaN
	// for the others, and for a candidate that failed, whose Error is
	// set).
	Valid      float64 `json:"valid"`
	FitSeconds float64 `json:"fit_seconds"`
	// PeakHeapMB is the largest Go heap seen while the candidate fitted
	// (sampled every 20 ms), in MB.
	PeakHeapMB float64 `json:"peak_heap_mb"`
	Best       bool    `json:"best,omitempty"`
	Note       string  `json:"note,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// CVScore is a candidate's cross-validated score: the metric on each
// held-out fold, their mean and their standard deviation (n-1).
type CVScore struct {
	Folds  int       `json:"folds"`
	Mean   float64   `json:"mean"`
	SD     float64   `json:"sd"`
	Scores []float64 `json:"scores"`
}

// Score is the number an entry is ranked by: its cross-validated mean,
// or its validation score.
func (e *Entry) Score() float64 {
	if e.CV != nil {
		return e.CV.Mean
	}
	return e.Valid
}

// Options tune Select.
type Options struct {
	Metric Metric
	// Folds >= 2 ranks the candidates by Folds-fold cross-validation on
	// the training set (unless there is only one candidate, which is
	// fitted once); 0 or 1 by their validation score. Folds is
	// lowered to the size of the smallest class when that is smaller (a
	// stratified fold needs a row of every class), and cross-validation
	// is then left out if fewer than 2 remain (Result.Folds says what
	// ran).
	Folds int
	// Seed seeds the folds.
	Seed uint64
	// Budget, when positive, is how long after Select starts a
	// random-search trial (Candidate.Trial > 0) may still start; later
	// trials are skipped (Result.Skipped counts them).
	Budget time.Duration
	// Progress, when set, is called after each candidate with the number
	// done and in all, the candidate's entry and the best entry so far
	// (nil while every candidate failed).
	Progress func(done, total int, e, best *Entry)
	// Log receives a line per candidate; nil discards them.
	Log *slog.Logger
	// ValidPredict, when set, gives a fitted model's outputs on the
	// validation rows (Predict's, row-major), which the validation
	// Dataset does not hold as floats: its matrix is a shape and its rows
	// a trainer's bins (train.Dataset.Prebinned). nil: Predict on the
	// validation matrix.
	ValidPredict func(context.Context, train.Model) ([]float64, error)
}

// Result is the outcome of a selection.
type Result struct {
	Leaderboard []Entry
	// Best indexes the leaderboard entry of Model.
	Best  int
	Model train.Model
	// Folds is the number of cross-validation folds that ran (0: none).
	Folds int
	// Skipped is the number of random-search trials the time budget left
	// out.
	Skipped int
}

// ErrNoModel means every candidate failed.
var ErrNoModel = errors.New("no candidate model could be fitted")

// Select fits every candidate in order and keeps the best by
// opts.Metric. A candidate that fails is recorded in the leaderboard with
// its error and does not stop the others; cancellation does.
func Select(ctx context.Context, cands []Candidate, trainDS, validDS *train.Dataset, opts Options) (*Result, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res := &Result{Best: -1}
	var folds [][]int
	// One candidate has nothing to be ranked against: it is fitted once.
	if opts.Folds >= 2 && len(cands) > 1 {
		folds = Folds(trainDS, opts.Folds, opts.Seed)
		if len(folds) < 2 {
			why := "a class has fewer than 2 training rows"
			if trainDS.Groups != nil {
				why = "the training rows have fewer than 2 groups"
			}
			log.Warn("cross-validation left out: "+why, "folds", opts.Folds)
			folds = nil
		} else if len(folds) < opts.Folds {
			why := "the smallest class has fewer rows"
			if trainDS.Groups != nil {
				why = "there are fewer groups"
			}
			log.Warn("fewer folds than asked: "+why, "asked", opts.Folds, "folds", len(folds))
		}
	}
	res.Folds = len(folds)
	start := time.Now()
	metric := opts.Metric
	var best train.Model // the best model: fitted on the training split already without CV
	var from []int       // the candidate of each leaderboard entry
	for i, c := range cands {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("select: %w", err)
		}
		if c.Trial > 0 && opts.Budget > 0 && time.Since(start) > opts.Budget {
			res.Skipped++
			continue
		}
		log.Info("fit start", "model", c.Name, "params", c.Params)
		e := Entry{Model: c.Name, Params: c.Params, Metric: metric.Name, Trial: c.Trial, Valid: math.NaN(), Note: c.Note}
		began := time.Now()
		stop := watchHeap()
		var m train.Model
		var err error
		if folds != nil {
			e.CV, err = crossValidate(ctx, c.Trainer, trainDS, validDS, folds, metric)
		} else {
			m, err = fitScore(ctx, c.Trainer, trainDS, validDS, opts, &e)
		}
		e.PeakHeapMB = float64(stop()) / 1e6
		e.FitSeconds = time.Since(began).Seconds()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("select: %s: %w", c.Name, ctx.Err())
			}
			e.Error = err.Error()
			log.Warn("fit failed", "model", c.Name, "err", err)
		} else {
			log.Info("fit done", "model", c.Name, metric.Name, e.Score(), "seconds", fmt.Sprintf("%.1f", e.FitSeconds))
		}
		res.Leaderboard = append(res.Leaderboard, e)
		from = append(from, i)
		if err == nil && (res.Best < 0 || better(e.Score(), res.Leaderboard[res.Best].Score(), metric.HigherIsBetter)) {
			res.Best, best = len(res.Leaderboard)-1, m
		}
		if opts.Progress != nil {
			var b *Entry
			if res.Best >= 0 {
				b = &res.Leaderboard[res.Best]
			}
			opts.Progress(i+1, len(cands), &res.Leaderboard[len(res.Leaderboard)-1], b)
		}
	}
	if res.Best < 0 {
		return res, fmt.Errorf("select: %w", ErrNoModel)
	}
	e := &res.Leaderboard[res.Best]
	if folds != nil {
		// The winner of cross-validation, fitted as it would have been
		// without it: on the whole training split.
		c := cands[from[res.Best]]
		log.Info("refit", "model", c.Name, "params", c.Params)
		began := time.Now()
		stop := watchHeap()
		m, err := fitScore(ctx, c.Trainer, trainDS, validDS, opts, e)
		e.PeakHeapMB = max(e.PeakHeapMB, float64(stop())/1e6)
		e.FitSeconds += time.Since(began).Seconds()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("select: %s: %w", c.Name, ctx.Err())
			}
			return res, fmt.Errorf("select: refit of the best candidate, %s: %w", c.Name, err)
		}
		best = m
	}
	e.Best = true
	res.Model = best
	return res, nil
}

// fitScore fits t on tr, scores the model on valid and sets e.Valid (and
// e.Note, when the fitted model knows a limit of its own).
func fitScore(ctx context.Context, t train.Trainer, tr, valid *train.Dataset, opts Options, e *Entry) (train.Model, error) {
	m, err := t.Fit(ctx, tr, valid)
	if err != nil {
		return nil, err
	}
	if n, ok := m.(interface{ Note() string }); ok {
		e.Note = n.Note() // the fitted model knows its limits best
	}
	var p []float64
	if opts.ValidPredict != nil {
		if p, err = opts.ValidPredict(ctx, m); err != nil {
			return nil, fmt.Errorf("score on validation: %w", err)
		}
	} else {
		if err := valid.CheckFloats(); err != nil {
			return nil, fmt.Errorf("validation set: %w", err)
		}
		p = m.Predict(valid.X)
	}
	e.Valid, err = opts.Metric.Score(valid.Y, p, valid.Classes)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// crossValidate fits t once per fold, on the other folds' rows of tr
// (with valid for early stopping), and scores it on the fold's rows.
func crossValidate(ctx context.Context, t train.Trainer, tr, valid *train.Dataset, folds [][]int, metric Metric) (*CVScore, error) {
	cv := &CVScore{Folds: len(folds)}
	for f, held := range folds {
		var rest []int
		for g, rows := range folds {
			if g != f {
				rest = append(rest, rows...)
			}
		}
		slices.Sort(rest)
		m, err := t.Fit(ctx, subset(tr, rest), valid)
		if err != nil {
			return nil, fmt.Errorf("fold %d of %d: %w", f+1, len(folds), err)
		}
		out := subset(tr, held)
		s, err := metric.Score(out.Y, m.Predict(out.X), out.Classes)
		if err != nil {
			return nil, fmt.Errorf("fold %d of %d: %w", f+1, len(folds), err)
		}
		cv.Scores = append(cv.Scores, s)
	}
	cv.Mean, cv.SD = meanSD(cv.Scores)
	return cv, nil
}

// subset returns the rows idx of d as a new dataset.
func subset(d *train.Dataset, idx []int) *train.Dataset {
	out := *d
	out.X = d.X.Take(idx)
	out.Y = make([]float64, len(idx))
	for k, i := range idx {
		out.Y[k] = d.Y[i]
	}
	if d.Groups != nil {
		out.Groups = make([]int, len(idx))
		for k, i := range idx {
			out.Groups[k] = d.Groups[i]
		}
	}
	return &out
}

// meanSD returns the mean and the sample standard deviation (n-1) of v.
func meanSD(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1))
}

// Folds divides the rows of d into k folds, each a sorted list of row
// indices: seeded by seed, and for a class label stratified, like
// scikit-learn's StratifiedKFold(shuffle=True) (each class's rows are
// shuffled and dealt to the folds in turn, so every fold has each
// class's share, give or take a row). A regression's rows are shuffled
// and dealt the same way. k is lowered to the row count of the smallest
// class present when that is smaller, so that every fold has a row of
// every class; fewer than 2 folds means cross-validation cannot run.
// With d.Groups, the folds keep groups whole instead (groupFolds).
func Folds(d *train.Dataset, k int, seed uint64) [][]int {
	rng := rand.New(rand.NewPCG(seed, 0x666f6c6473)) // "folds"
	if d.Groups != nil {
		return groupFolds(d, k, rng)
	}
	var groups [][]int
	if d.Task == train.Regression || d.Classes == 0 {
		groups = [][]int{make([]int, len(d.Y))}
		for i := range d.Y {
			groups[0][i] = i
		}
	} else {
		groups = make([][]int, d.Classes)
		for i, y := range d.Y {
			groups[int(y)] = append(groups[int(y)], i)
		}
		groups = slices.DeleteFunc(groups, func(g []int) bool { return len(g) == 0 })
	}
	for _, g := range groups {
		k = min(k, len(g))
	}
	if k < 2 {
		return nil
	}
	folds := make([][]int, k)
	next := 0 // the fold the next row goes to, carried across classes so that fold sizes stay even
	for _, g := range groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		for _, i := range g {
			folds[next] = append(folds[next], i)
			next = (next + 1) % k
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds
}

// groupFolds is Folds for rows in groups (d.Groups): every row of a
// group goes to the same fold, as in scikit-learn's GroupKFold, so that
// no group is both fitted on and scored. The groups, in a seeded random
// order and then by size, largest first, are dealt one at a time to the
// fold with the fewest rows of the group's most common class (a
// regression's: the fewest rows), ties going to the smaller fold: the
// folds come out about even in size and, when groups are many, in each
// class's share. k is lowered to the number of groups.
func groupFolds(d *train.Dataset, k int, rng *rand.Rand) [][]int {
	members := map[int][]int{}
	var order []int
	for i, g := range d.Groups {
		if _, ok := members[g]; !ok {
			order = append(order, g)
		}
		members[g] = append(members[g], i)
	}
	if k = min(k, len(order)); k < 2 {
		return nil
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	slices.SortStableFunc(order, func(a, b int) int { return len(members[b]) - len(members[a]) })
	classes := max(1, d.Classes)
	class := func(i int) int { // a row's class; a regression's rows are all of one
		if d.Classes == 0 || d.Task == train.Regression {
			return 0
		}
		return int(d.Y[i])
	}
	folds := make([][]int, k)
	counts := make([][]int, k) // rows of each class in each fold
	for f := range counts {
		counts[f] = make([]int, classes)
	}
	tally := make([]int, classes)
	for _, g := range order {
		clear(tally)
		common := 0
		for _, i := range members[g] {
			c := class(i)
			if tally[c]++; tally[c] > tally[common] {
				common = c
			}
		}
		to := 0
		for f := 1; f < k; f++ {
			if counts[f][common] < counts[to][common] || counts[f][common] == counts[to][common] && len(folds[f]) < len(folds[to]) {
				to = f
			}
		}
		folds[to] = append(folds[to], members[g]...)
		for _, i := range members[g] {
			counts[to][class(i)]++
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds
}

func better(a, b float64, higher bool) bool {
	if higher {
		return a > b
	}
	return a < b
}

// watchHeap samples the Go heap until the returned function is called,
// which returns the largest HeapAlloc seen, in bytes.
func watchHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > peak.Load() {
			peak.Store(ms.HeapAlloc)
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		sample()
		return peak.Load()
	}
}
