package evaluate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Regression metrics. Each takes the targets y and the predictions of
// the same rows, and matches the scikit-learn function named beside it
// (reference_test.go). The input contract: at least one row, and every
// target and prediction finite; otherwise the error wraps ErrEmpty or
// ErrInvalid and names the row. They panic if the lengths differ.

// MaxTarget is the largest magnitude of a regression target, or of a
// label the monitor scores. Training and these metrics square errors
// and sum the squares over the rows: at ±1e150 a square is at most 1e300,
// and a sum over a billion rows stays below float64's limit of 1.8e308.
// Validation refuses targets beyond it (ingest), and the monitor counts
// such labels as unusable.
const MaxTarget = 1e150

// RMSE is the root mean squared error, sqrt(mean((y - p)²)):
// sklearn.metrics.mean_squared_error(squared=False).
func RMSE(y, pred []float64) (float64, error) {
	if err := checkRegression("rmse", y, pred); err != nil {
		return 0, err
	}
	return rmse(y, pred), nil
}

// MAE is the mean absolute error, mean(|y - p|):
// sklearn.metrics.mean_absolute_error.
func MAE(y, pred []float64) (float64, error) {
	if err := checkRegression("mae", y, pred); err != nil {
		return 0, err
	}
	return mae(y, pred), nil
}

// R2 is the coefficient of determination, 1 - Σ(y - p)² / Σ(y - ȳ)²:
// sklearn.metrics.r2_score. It is 1 for perfect predictions, 0 for
// predicting the mean of y, and negative for worse. When y is constant
// the ratio is undefined; as scikit-learn does (force_finite), R2 is
// then 1 if every prediction is exact and 0 otherwise.
func R2(y, pred []float64) (float64, error) {
	if err := checkRegression("r2", y, pred); err != nil {
		return 0, err
	}
	return r2(y, pred), nil
}

// MedianAE is the median absolute error, median(|y - p|):
// sklearn.metrics.median_absolute_error. A single outlier does not move
// it.
func MedianAE(y, pred []float64) (float64, error) {
	if err := checkRegression("median absolute error", y, pred); err != nil {
		return 0, err
	}
	return medianAE(y, pred), nil
}

// MAPE is the mean absolute percentage error, mean(|y - p| / |y|), as a
// fraction (0.1 is 10%): sklearn.metrics.mean_absolute_percentage_error.
// It is undefined when a target is 0, and then returns an error wrapping
// ErrInvalid that names the row (scikit-learn returns a meaningless
// number of the order of 1e15 instead).
func MAPE(y, pred []float64) (float64, error) {
	const op = "mape"
	if err := checkRegression(op, y, pred); err != nil {
		return 0, err
	}
	if i := slices.Index(y, 0); i >= 0 {
		return 0, fmt.Errorf("%s: %w: row %d: a target of 0 has no percentage error", op, ErrInvalid, i)
	}
	var s float64
	for i, v := range y {
		s += math.Abs(v-pred[i]) / math.Abs(v)
	}
	return s / float64(len(y)), nil
}

func checkRegression(op string, y, pred []float64) error {
	mustSameLength(op, y, pred)
	if len(y) == 0 {
		return fmt.Errorf("%s: %w", op, ErrEmpty)
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: %w: row %d: target %g is not finite", op, ErrInvalid, i, v)
		}
		if p := pred[i]; math.IsNaN(p) || math.IsInf(p, 0) {
			return fmt.Errorf("%s: %w: row %d: prediction %g is not finite", op, ErrInvalid, i, p)
		}
	}
	return nil
}

func rmse(y, pred []float64) float64 {
	var s float64
	for i, v := range y {
		d := v - pred[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(y)))
}

func mae(y, pred []float64) float64 {
	var s float64
	for i, v := range y {
		s += math.Abs(v - pred[i])
	}
	return s / float64(len(y))
}

func r2(y, pred []float64) float64 {
	mean := meanOf(y)
	var res, tot float64
	for i, v := range y {
		res += (v - pred[i]) * (v - pred[i])
		tot += (v - mean) * (v - mean)
	}
	switch {
	case tot > 0:
		return 1 - res/tot
	case res == 0:
		return 1
	}
	return 0
}

func medianAE(y, pred []float64) float64 {
	d := make([]float64, len(y))
	for i, v := range y {
		d[i] = math.Abs(v - pred[i])
	}
	return quantile(d, 0.5)
}

func meanOf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// quantile is the q-quantile of v by linear interpolation between order
// statistics (numpy's default); it sorts v in place. v must not be
// empty.
func quantile(v []float64, q float64) float64 {
	slices.Sort(v)
	pos := q * float64(len(v)-1)
	lo := int(pos)
	if lo >= len(v)-1 {
		return v[len(v)-1]
	}
	return v[lo] + (pos-float64(lo))*(v[lo+1]-v[lo])
}

// RegressionMetrics is the part of a Report particular to a regression.
type RegressionMetrics struct {
	RMSE     float64 `json:"rmse"`
	MAE      float64 `json:"mae"`
	R2       float64 `json:"r2"`
	MedianAE float64 `json:"median_ae"`
	// MAPE is nil, and absent from JSON, when a target is 0; MAPENote
	// then says why.
	MAPE     *float64 `json:"mape,omitempty"`
	MAPENote string   `json:"mape_note,omitempty"`

	MeanTarget     float64 `json:"mean_target"`
	MeanPrediction float64 `json:"mean_prediction"`
	// Baselines are constant predictions from the training targets
	// (Options.TrainTargets): their mean and their median, scored on the
	// same rows. A model that does not beat them has learned nothing.
	Baselines []Baseline `json:"baselines,omitempty"`

	// Residuals is the histogram of the residuals, target - prediction.
	Residuals Histogram `json:"residuals"`
	// PredictedVsActual counts the rows in a grid of target (x) against
	// prediction (y) bins: a scatter plot that stays readable at any
	// number of rows.
	PredictedVsActual Grid `json:"predicted_vs_actual"`
	// Deciles groups the rows into ten equal parts by prediction and
	// gives each part's mean prediction and mean target: the regression
	// counterpart of a calibration curve.
	Deciles []Decile `json:"deciles"`

	// SliceErrors is set when Options.SliceKeys is. (Its JSON key is not
	// "slices", which a binary report's slices hold: the two would
	// collide where a Report embeds both.)
	SliceErrors *RegressionSliceReport `json:"slice_errors,omitempty"`
}

// Baseline is the score of a constant prediction.
type Baseline struct {
	// Name says what the constant is: "training mean" or "training
	// median".
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	RMSE     float64 `json:"rmse"`
	MAE      float64 `json:"mae"`
	R2       float64 `json:"r2"`
	MedianAE float64 `json:"median_ae"`
}

// Histogram counts values in equal-width bins. The bins span the 0.5%
// to 99.5% quantiles of the values, so that a few extreme values do not
// squeeze the rest into one bin; Below and Above count the values
// outside.
type Histogram struct {
	Edges  []float64 `json:"edges"` // len(Counts) + 1, ascending
	Counts []int     `json:"counts"`
	Below  int       `json:"below"`
	Above  int       `json:"above"`
}

// Grid is a two-dimensional histogram over the same equal-width bins on
// both axes (Edges), so that its diagonal is the line y = x. Counts[i][j]
// is the rows whose x is in bin i and y in bin j; Outside counts the rows
// outside the edges on either axis.
type Grid struct {
	Edges   []float64 `json:"edges"`
	Counts  [][]int   `json:"counts"`
	Outside int       `json:"outside"`
}

// Decile is one tenth of the rows, by prediction.
type Decile struct {
	Rows           int     `json:"rows"`
	MinPrediction  float64 `json:"min_prediction"`
	MaxPrediction  float64 `json:"max_prediction"`
	MeanPrediction float64 `json:"mean_prediction"`
	MeanTarget     float64 `json:"mean_target"`
}

// Sizes of the regression plots' data.
const (
	// HistogramBins is the number of bins of the residual histogram.
	HistogramBins = 40
	// GridBins is the number of bins per axis of PredictedVsActual.
	GridBins = 30
	// tail is the share of values left out on each side of a histogram's
	// or grid's range.
	tail = 0.005
)

// EvaluateRegression evaluates the predictions of a regression model
// against the targets: RMSE, MAE, R², median absolute error, MAPE when
// no target is 0, the mean and median baselines of opts.TrainTargets, the
// residual histogram, the predicted-vs-actual grid, the deciles, and, if
// opts.SliceKeys is set, the slices. Of opts it also reads Slices.
//
// It returns an error wrapping ErrEmpty or ErrInvalid (a target or
// prediction that is not finite, naming the row). It panics if the
// lengths differ.
func EvaluateRegression(y, pred []float64, opts Options) (*Report, error) {
	const op = "evaluate regression"
	if err := checkRegression(op, y, pred); err != nil {
		return nil, err
	}
	m := &RegressionMetrics{
		RMSE:           rmse(y, pred),
		MAE:            mae(y, pred),
		R2:             r2(y, pred),
		MedianAE:       medianAE(y, pred),
		MeanTarget:     meanOf(y),
		MeanPrediction: meanOf(pred),
	}
	if mape, err := MAPE(y, pred); err == nil {
		m.MAPE = &mape
	} else {
		n := 0
		for _, v := range y {
			if v == 0 {
				n++
			}
		}
		m.MAPENote = fmt.Sprintf("omitted: %d of %d targets are 0, whose percentage error is undefined", n, len(y))
	}
	if t := opts.TrainTargets; len(t) > 0 {
		for _, b := range []struct {
			name  string
			value float64
		}{{"training mean", meanOf(t)}, {"training median", quantile(slices.Clone(t), 0.5)}} {
			c := constant(len(y), b.value)
			m.Baselines = append(m.Baselines, Baseline{Name: b.name, Value: b.value,
				RMSE: rmse(y, c), MAE: mae(y, c), R2: r2(y, c), MedianAE: medianAE(y, c)})
		}
	}
	res := make([]float64, len(y))
	for i, v := range y {
		res[i] = v - pred[i]
	}
	m.Residuals = histogram(res, HistogramBins)
	m.PredictedVsActual = grid(y, pred, GridBins)
	m.Deciles = deciles(y, pred)
	if opts.SliceKeys != nil {
		m.SliceErrors = regressionSlices(opts.SliceKeys, y, pred, opts.Slices)
	}
	return &Report{Task: RegressionTask, Rows: len(y), RegressionMetrics: m}, nil
}

func constant(n int, v float64) []float64 {
	c := make([]float64, n)
	for i := range c {
		c[i] = v
	}
	return c
}

// span returns the range a histogram of v covers: its 0.5% and 99.5%
// quantiles, widened to a unit around a single value.
func span(v ...[]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		s := slices.Clone(x)
		lo, hi = min(lo, quantile(s, tail)), max(hi, quantile(s, 1-tail))
	}
	if hi <= lo {
		lo, hi = lo-0.5, hi+0.5
	}
	return lo, hi
}

// edges returns bins+1 equal steps from lo to hi.
func edges(lo, hi float64, bins int) []float64 {
	e := make([]float64, bins+1)
	for k := range e {
		e[k] = lo + (hi-lo)*float64(k)/float64(bins)
	}
	e[bins] = hi
	return e
}

// bin returns the bin of x among edges e, or -1 below and len(e)-1
// above. The last bin includes its upper edge.
func bin(e []float64, x float64) int {
	n := len(e) - 1
	switch {
	case x < e[0]:
		return -1
	case x > e[n]:
		return n
	case x == e[n]:
		return n - 1
	}
	k := int(float64(n) * (x - e[0]) / (e[n] - e[0]))
	return min(k, n-1)
}

func histogram(v []float64, bins int) Histogram {
	lo, hi := span(v)
	h := Histogram{Edges: edges(lo, hi, bins), Counts: make([]int, bins)}
	for _, x := range v {
		switch k := bin(h.Edges, x); {
		case k < 0:
			h.Below++
		case k == bins:
			h.Above++
		default:
			h.Counts[k]++
		}
	}
	return h
}

func grid(x, y []float64, bins int) Grid {
	lo, hi := span(x, y)
	g := Grid{Edges: edges(lo, hi, bins), Counts: make([][]int, bins)}
	for i := range g.Counts {
		g.Counts[i] = make([]int, bins)
	}
	for i := range x {
		a, b := bin(g.Edges, x[i]), bin(g.Edges, y[i])
		if a < 0 || b < 0 || a == bins || b == bins {
			g.Outside++
			continue
		}
		g.Counts[a][b]++
	}
	return g
}

// deciles sorts the rows by prediction (ties by target, so that the
// split is deterministic) and cuts them into ten parts of n/10 rows (the
// first parts one row shorter when 10 does not divide n).
func deciles(y, pred []float64) []Decile {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Or(cmp.Compare(pred[a], pred[b]), cmp.Compare(y[a], y[b])) })
	out := make([]Decile, 0, 10)
	for g := range 10 {
		part := idx[g*len(idx)/10 : (g+1)*len(idx)/10]
		if len(part) == 0 {
			continue
		}
		d := Decile{Rows: len(part), MinPrediction: pred[part[0]], MaxPrediction: pred[part[len(part)-1]]}
		for _, i := range part {
			d.MeanPrediction += pred[i]
			d.MeanTarget += y[i]
		}
		d.MeanPrediction /= float64(len(part))
		d.MeanTarget /= float64(len(part))
		out = append(out, d)
	}
	return out
}

// RegressionSlice is the metrics of the rows that share one slice key.
type RegressionSlice struct {
	Key            string  `json:"key"`
	Rows           int     `json:"rows"`
	MeanTarget     float64 `json:"mean_target"`
	MeanPrediction float64 `json:"mean_prediction"`
	RMSE           float64 `json:"rmse"`
	MAE            float64 `json:"mae"`
}

// RegressionSliceReport is the slices of a regression worth looking at.
type RegressionSliceReport struct {
	// Slices is the number of distinct keys.
	Slices int `json:"slices"`
	// MinRows is the fewest rows of a slice ranked among the worst.
	MinRows int `json:"min_rows"`
	// Largest holds the largest slices, by rows (then key).
	Largest []RegressionSlice `json:"largest"`
	// WorstRMSE and WorstMAE hold the slices of at least MinRows rows
	// with the highest RMSE and MAE, highest first.
	WorstRMSE []RegressionSlice `json:"worst_rmse"`
	WorstMAE  []RegressionSlice `json:"worst_mae"`
}

// EvaluateRegressionSlices computes the metrics of each slice of the
// rows (the rows that share a key) and reports the largest slices and
// the worst ones by RMSE and by MAE, as opts says (Worst counts each
// ranking). The input contract is RMSE's; it panics if keys, y and pred
// differ in length.
func EvaluateRegressionSlices(keys []string, y, pred []float64, opts SliceOptions) (*RegressionSliceReport, error) {
	if err := checkRegression("regression slices", y, pred); err != nil {
		return nil, err
	}
	return regressionSlices(keys, y, pred, opts), nil
}

func regressionSlices(keys []string, y, pred []float64, opts SliceOptions) *RegressionSliceReport {
	if len(keys) != len(y) {
		panic(fmt.Sprintf("evaluate: regression slices: %d keys for %d targets", len(keys), len(y)))
	}
	opts = opts.withDefaults()
	rows := make(map[string][]int)
	for i, k := range keys {
		rows[k] = append(rows[k], i)
	}
	all := make([]RegressionSlice, 0, len(rows))
	for k, r := range rows {
		sy, sp := gather(y, r), gather(pred, r)
		all = append(all, RegressionSlice{Key: k, Rows: len(r), MeanTarget: meanOf(sy), MeanPrediction: meanOf(sp), RMSE: rmse(sy, sp), MAE: mae(sy, sp)})
	}
	slices.SortFunc(all, func(a, b RegressionSlice) int { return cmp.Or(cmp.Compare(b.Rows, a.Rows), cmp.Compare(a.Key, b.Key)) })
	rep := &RegressionSliceReport{Slices: len(all), MinRows: opts.MinRows}
	rep.Largest = slices.Clone(all[:min(opts.Largest, len(all))])
	var big []RegressionSlice
	for _, s := range all {
		if s.Rows >= opts.MinRows {
			big = append(big, s)
		}
	}
	worst := func(metric func(RegressionSlice) float64) []RegressionSlice {
		r := slices.Clone(big)
		slices.SortStableFunc(r, func(a, b RegressionSlice) int { return cmp.Compare(metric(b), metric(a)) })
		return append([]RegressionSlice{}, r[:min(opts.Worst, len(r))]...)
	}
	rep.WorstRMSE = worst(func(s RegressionSlice) float64 { return s.RMSE })
	rep.WorstMAE = worst(func(s RegressionSlice) float64 { return s.MAE })
	return rep
}
