package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/explain"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/train"
)

// ExplainRows is how many test rows the evaluate stage explains for the
// global importance, a seeded random sample: the standard error of a
// mean |contribution| over 1,000 rows is about 3% of it (their spread
// is about their mean). Explaining a row costs the default model about
// 5,000 PredictRows (BenchmarkExplainRow, BENCHMARKS.md), so these rows
// are most of the evaluate stage's time.
const ExplainRows = 1000

// PlotRows is the most rows whose points the summary plot shows: enough
// for the shape of each input's effect, few enough for a light report
// (each panel is about 25 KB of SVG).
const PlotRows = 200

// explainTest sets s.Evaluation.Explanations: the importance of each raw
// input on a sample of the test split, and the summary plot's points.
// A model that cannot explain itself gets none.
func explainTest(ctx context.Context, s *State) error {
	ex, err := explain.New(s.Features, s.Model)
	if errors.Is(err, train.ErrNotExplainable) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	n := s.TestSet.X.Rows
	rows := sample(n, ExplainRows, s.Config.Seed)
	// Only the sampled rows are transformed (the test split has no float
	// matrix): the same numbers as the whole matrix's rows.
	x, err := transformRows(ctx, s.Features, s.Splits.Test, rows)
	if err != nil {
		return err
	}
	xs, err := ex.Sample(ctx, x, nil, 0)
	if err != nil {
		return err
	}
	imp := explain.Importance(xs)
	var total float64
	for _, v := range imp {
		total += v
	}
	out := &evaluate.Explanations{
		Method: explain.Method(s.Model), Margin: explain.Margin(s.Model),
		Rows: len(rows), Of: n, Sample: rows, Base: ex.Base(), Step: (len(rows) + PlotRows - 1) / PlotRows,
	}
	for g, name := range ex.Inputs() {
		out.Importance = append(out.Importance, evaluate.InputImportance{Input: name, MeanAbs: imp[g], Share: imp[g] / max(total, math.SmallestNonzeroFloat64)})
	}
	order := make([]int, len(imp))
	for g := range order {
		order[g] = g
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(imp[b], imp[a]) })
	sorted := make([]evaluate.InputImportance, len(order))
	for i, g := range order {
		sorted[i] = out.Importance[g]
		var plotted []int
		var px []explain.Explanation
		for i := 0; i < len(rows); i += max(out.Step, 1) {
			plotted, px = append(plotted, rows[i]), append(px, xs[i])
		}
		out.Inputs = append(out.Inputs, points(s.Features, s.Splits.Test, ex.Inputs()[g], g, plotted, px))
	}
	out.Importance = sorted
	s.Evaluation.Explanations = out
	return nil
}

// transformRows returns the feature matrix of the rows (increasing) of
// tbl.
func transformRows(ctx context.Context, p *features.Pipeline, tbl arrow.Table, rows []int) (*features.Matrix, error) {
	take := make([]int32, len(rows))
	for i, r := range rows {
		take[i] = int32(r)
	}
	part, err := ingest.TakeRows(ctx, tbl, take)
	if err != nil {
		return nil, err
	}
	defer part.Release()
	return p.Transform(part)
}

// sample returns k of the row indices [0, n), drawn without replacement
// with a generator seeded by seed, in increasing order; all of them when
// n <= k.
func sample(n, k int, seed uint64) []int {
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	if n <= k {
		return rows
	}
	rng := rand.New(rand.NewPCG(seed, 0x6578706c61696e)) // "explain"
	for i := range k {                                   // a partial Fisher–Yates shuffle
		j := i + rng.IntN(n-i)
		rows[i], rows[j] = rows[j], rows[i]
	}
	rows = rows[:k]
	slices.Sort(rows)
	return rows
}

// points are the summary plot's points of input g: each explained row's
// value of it and its contribution (to the predicted class's margin).
func points(p *features.Pipeline, tbl arrow.Table, input string, g int, rows []int, xs []explain.Explanation) evaluate.InputPoints {
	out := evaluate.InputPoints{Input: input, Kind: inputKind(p, input)}
	cols := strings.Split(input, " × ") // a cross reads two columns
	values := make([][]any, len(cols))
	for c, name := range cols {
		values[c] = valuesAt(tbl, name, rows)
	}
	for i := range rows {
		x := &xs[i]
		class := 0
		for k := range x.Margin {
			if x.Margin[k] > x.Margin[class] {
				class = k
			}
		}
		contrib := round4(x.Output(class)[g])
		switch out.Kind {
		case "category":
			var keys []string
			for c := range cols {
				if values[c][i] == nil {
					keys = nil
					break
				}
				keys = append(keys, fmt.Sprint(values[c][i]))
			}
			out.Categories = append(out.Categories, strings.Join(keys, " × "))
		case "time":
			t, ok := values[0][i].(arrow.Timestamp)
			if !ok {
				continue
			}
			us := int64(t) % (24 * 3600 * 1_000_000)
			if us < 0 {
				us += 24 * 3600 * 1_000_000
			}
			out.Values = append(out.Values, round4(float64(us)/3600e6))
		default:
			v, ok := values[0][i].(float64)
			if !ok {
				continue
			}
			out.Values = append(out.Values, round4(v))
		}
		out.Contributions = append(out.Contributions, contrib)
	}
	return out
}

// inputKind is how the summary plot shows an input: "time" for an input
// of a time transform, "number" for one of a numeric transform only,
// "category" otherwise (categorical transforms and crosses).
func inputKind(p *features.Pipeline, input string) string {
	kind := "category"
	for _, st := range p.Steps {
		if st.Column != input {
			continue
		}
		switch st.Transform {
		case features.KindTime:
			return "time"
		case features.KindNumeric:
			kind = "number"
		case features.KindCategorical:
			return "category"
		}
	}
	return kind
}

// valuesAt returns the values of a column at the rows (increasing): a
// float64 for a number, an arrow.Timestamp in microseconds for a time,
// the text of anything else, nil for a null.
func valuesAt(tbl arrow.Table, name string, rows []int) []any {
	out := make([]any, len(rows))
	j := tbl.Schema().FieldIndices(name)
	if len(j) != 1 {
		return out
	}
	at, k := 0, 0
	for _, ch := range tbl.Column(j[0]).Data().Chunks() {
		for ; k < len(rows) && rows[k] < at+ch.Len(); k++ {
			i := rows[k] - at
			if ch.IsNull(i) {
				continue
			}
			switch a := ch.(type) {
			case *array.Float64:
				out[k] = a.Value(i)
			case *array.Int64:
				out[k] = float64(a.Value(i))
			case *array.Timestamp:
				unit := a.DataType().(*arrow.TimestampType).Unit
				out[k] = arrow.Timestamp(a.Value(i).ToTime(unit).UnixMicro())
			default:
				out[k] = ch.ValueStr(i)
			}
		}
		at += ch.Len()
	}
	return out
}

// round4 rounds to 4 significant digits: the summary plot needs no more,
// and evaluation.json stays small.
func round4(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	return r
}
