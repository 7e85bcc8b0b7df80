package evaluate

import (
	"cmp"
	"fmt"
	"slices"
)

// SliceOptions says which slices EvaluateSlices reports. A zero field
// takes its default.
type SliceOptions struct {
	// Largest is how many of the largest slices, by row count, to
	// report. Default 10.
	Largest int
	// Worst is how many of the slices with the lowest ROC AUC to report.
	// Default 5.
	Worst int
	// MinRows is the fewest rows a slice needs to be ranked among the
	// worst, so that a slice of a handful of rows cannot come out worst
	// by chance. Default 100.
	MinRows int
}

func (o SliceOptions) withDefaults() SliceOptions {
	if o.Largest <= 0 {
		o.Largest = 10
	}
	if o.Worst <= 0 {
		o.Worst = 5
	}
	if o.MinRows <= 0 {
		o.MinRows = 100
	}
	return o
}

// SliceMetrics is the binary metrics of the rows that share one slice
// key.
type SliceMetrics struct {
	Key          string  `json:"key"`
	Rows         int     `json:"rows"`
	Positives    int     `json:"positives"`
	PositiveRate float64 `json:"positive_rate"`
	// ROCAUC is nil, and absent from JSON, when the slice holds one
	// class; Note then says so.
	ROCAUC *float64 `json:"roc_auc,omitempty"`
	// PRAUC is nil, and absent from JSON, when the slice holds no
	// positive.
	PRAUC     *float64  `json:"pr_auc,omitempty"`
	LogLoss   float64   `json:"log_loss"`
	Brier     float64   `json:"brier"`
	Accuracy  float64   `json:"accuracy"`
	Precision float64   `json:"precision"`
	Recall    float64   `json:"recall"`
	F1        float64   `json:"f1"`
	Confusion Confusion `json:"confusion"`
	// Note explains a missing metric, such as "one class: all 12 labels
	// are 0".
	Note string `json:"note,omitempty"`
}

// SliceReport is the metrics of the slices worth looking at.
type SliceReport struct {
	// Slices is the number of distinct keys.
	Slices int `json:"slices"`
	// MinRows is the fewest rows of a slice ranked in Worst.
	MinRows int `json:"min_rows"`
	// Largest holds the largest slices, by rows (then key), largest
	// first.
	Largest []SliceMetrics `json:"largest"`
	// Worst holds the slices of at least MinRows rows and two classes
	// with the lowest ROC AUC, lowest first.
	Worst []SliceMetrics `json:"worst"`
}

// EvaluateSlices computes the binary metrics of each slice of the rows,
// a slice being the rows that share a key (keys[i] is row i's, for
// example its origin airport), and reports the largest slices and the
// worst ones by ROC AUC, as opts says. Accuracy, precision, recall, F1
// and the confusion counts are at threshold (score >= threshold is
// positive).
//
// A slice whose labels are all one class has no ROC AUC: it keeps its
// counts and the other metrics, and a note says why. Such a slice is
// never ranked among the worst.
//
// Labels and probabilities are as for LogLoss (one class overall is
// allowed). It returns an error wrapping ErrEmpty or ErrInvalid, and
// panics if keys, labels and probs differ in length.
func EvaluateSlices(keys []string, labels, probs []float64, threshold float64, opts SliceOptions) (*SliceReport, error) {
	const op = "slices"
	if len(keys) != len(labels) {
		panic(fmt.Sprintf("evaluate: %s: %d keys for %d labels", op, len(keys), len(labels)))
	}
	if _, err := checkBinary(op, labels, probs, true); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()

	// Group the row indices by key, then order the groups by size.
	rows := make(map[string][]int)
	for i, k := range keys {
		rows[k] = append(rows[k], i)
	}
	type group struct {
		key  string
		rows []int
	}
	groups := make([]group, 0, len(rows))
	for k, r := range rows {
		groups = append(groups, group{k, r})
	}
	slices.SortFunc(groups, func(a, b group) int {
		return cmp.Or(cmp.Compare(len(b.rows), len(a.rows)), cmp.Compare(a.key, b.key))
	})

	// The metrics of a group, computed at most once.
	done := make(map[string]SliceMetrics)
	metrics := func(g group) SliceMetrics {
		if m, ok := done[g.key]; ok {
			return m
		}
		m := sliceMetrics(g.key, gather(labels, g.rows), gather(probs, g.rows), threshold)
		done[g.key] = m
		return m
	}

	rep := &SliceReport{Slices: len(groups), MinRows: opts.MinRows, Largest: []SliceMetrics{}, Worst: []SliceMetrics{}}
	for _, g := range groups[:min(opts.Largest, len(groups))] {
		rep.Largest = append(rep.Largest, metrics(g))
	}
	var ranked []SliceMetrics
	for _, g := range groups {
		if len(g.rows) < opts.MinRows {
			break // groups are sorted by size
		}
		if m := metrics(g); m.ROCAUC != nil {
			ranked = append(ranked, m)
		}
	}
	slices.SortFunc(ranked, func(a, b SliceMetrics) int {
		return cmp.Or(cmp.Compare(*a.ROCAUC, *b.ROCAUC), cmp.Compare(b.Rows, a.Rows), cmp.Compare(a.Key, b.Key))
	})
	rep.Worst = append(rep.Worst, ranked[:min(opts.Worst, len(ranked))]...)
	return rep, nil
}

// sliceMetrics computes the metrics of one slice from its checked labels
// and probabilities.
func sliceMetrics(key string, labels, probs []float64, threshold float64) SliceMetrics {
	positives := 0
	for _, y := range labels {
		if y == 1 {
			positives++
		}
	}
	c := confusionAt(labels, probs, threshold)
	m := SliceMetrics{
		Key:          key,
		Rows:         len(labels),
		Positives:    positives,
		PositiveRate: ratio(positives, len(labels)),
		LogLoss:      logLoss(labels, probs),
		Brier:        brier(labels, probs),
		Accuracy:     c.Accuracy(),
		Precision:    c.Precision(),
		Recall:       c.Recall(),
		F1:           c.F1(),
		Confusion:    c,
	}
	r := rank(labels, probs, positives)
	switch positives {
	case 0:
		m.Note = fmt.Sprintf("one class: all %d labels are 0; no ROC AUC or PR AUC", len(labels))
	case len(labels):
		m.Note = fmt.Sprintf("one class: all %d labels are 1; no ROC AUC", len(labels))
	default:
		auc := rocAUC(r)
		m.ROCAUC = &auc
	}
	if positives > 0 {
		ap := averagePrecision(r)
		m.PRAUC = &ap
	}
	return m
}

func gather(xs []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}
