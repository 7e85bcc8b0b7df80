package serve

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mlpipe/mlpipe/explain"
	"github.com/mlpipe/mlpipe/internal/jsonread"
	"github.com/mlpipe/mlpipe/internal/jsonw"
	"github.com/mlpipe/mlpipe/model"
)

// Explanations (docs/serving.md). A native request asks with an
// "explain" member (true, or the number of largest contributions to
// return) beside "instances", or among a single instance's fields; an
// OIP request with the parameter "explain": true, or by naming the
// output "explanation". The response gives, per instance, the base
// value, the margin (the log-odds of the positive class, a class's
// softmax input, or a regression's prediction) and the contribution of
// each raw input, by package explain: exact TreeSHAP for gbdt, linear
// SHAP for logreg. A model that cannot explain (another kind, or one
// saved before explanations) answers 400.

// explainAll is scratch.explain's value for "every contribution".
const explainAll = -1

// explainer is what a Model keeps to explain its predictions.
type explainer struct {
	ex      *explain.Explainer // nil when the model cannot explain
	err     error              // why not
	method  string             // "tree_shap" or "linear_shap"
	names   [][]byte           // each input's name as a JSON string
	columns string             // the OIP output's columns: base_value, then the inputs
}

// explainer returns the model's explainer, building it on first use
// when LoadModelWith was asked to leave it out of the load.
func (m *Model) explainer() *explainer {
	m.explainOnce.Do(func() { m.explain = newExplainer(m) })
	return &m.explain
}

func newExplainer(m *Model) explainer {
	ex, err := explain.New(m.Bundle.Features, m.Bundle.Model)
	if err != nil {
		if !errors.Is(err, model.ErrNotExplainable) {
			err = fmt.Errorf("%w: %w", model.ErrNotExplainable, err)
		}
		return explainer{err: err}
	}
	e := explainer{ex: ex, method: explain.Method(m.Bundle.Model), columns: "base_value," + strings.Join(ex.Inputs(), ",")}
	for _, in := range ex.Inputs() {
		e.names = append(e.names, jsonw.AppendString(nil, in))
	}
	return e
}

// readExplain reads the value of an "explain" member: true (every
// contribution), false (none) or a whole number k >= 1 (the k largest).
func readExplain(rd *jsonread.Reader) (int, error) {
	switch k := rd.Peek(); k {
	case jsonread.Bool:
		b, err := rd.Bool()
		if err != nil || !b {
			return 0, syntaxErr(err)
		}
		return explainAll, nil
	case jsonread.Number:
		txt, err := rd.Number()
		if err != nil {
			return 0, syntaxErr(err)
		}
		n, err := strconv.Atoi(string(txt))
		if err != nil || n < 1 {
			return 0, badf(`"explain": %.40s is not a number of contributions (1 or more)`, txt)
		}
		return n, nil
	case jsonread.Invalid:
		return 0, syntaxErr(rd.Skip())
	default:
		return 0, badf(`"explain": want true, false or a number of contributions, got %s`, k)
	}
}

// isInput reports whether the model has an input of that name (an
// input named "explain" takes the member's place).
func (m *Model) isInput(name []byte) bool {
	_, ok := m.byName[string(name)]
	return ok
}

// explainRows explains sc's scored rows, if the request asked, into
// sc.xs. The number of rows one request may explain is bounded:
// explaining a row costs thousands of predictions of it.
func (m *Model) explainRows(sc *scratch, maxRows int) error {
	if sc.explain == 0 {
		return nil
	}
	e := m.explainer()
	if e.ex == nil {
		return fmt.Errorf("%w: explain: %v", ErrBadRequest, e.err)
	}
	if sc.n > maxRows {
		return fmt.Errorf("%w: %d instances to explain; the limit is %d a request", ErrTooLarge, sc.n, maxRows)
	}
	sc.xs = grow(sc.xs, sc.n)
	if sc.n == 1 {
		e.ex.Explain(sc.feat, &sc.xs[0])
		return nil
	}
	for i := range sc.n {
		sc.feat = sc.mat.Row(i, sc.feat)
		e.ex.Explain(sc.feat, &sc.xs[i])
	}
	return nil
}

// appendExplanation writes row i's "explanation" value: for a binary
// model or a regression {"base", "margin", "contributions": {input:
// value, ...}} with the inputs by decreasing magnitude (and "other", the
// sum of those left out, when the request asked for the k largest); for
// a K-class model one such object per class, by class name.
func (m *Model) appendExplanation(b []byte, sc *scratch, i int) []byte {
	x := &sc.xs[i]
	if m.outputs == 1 {
		return m.appendOneExplanation(b, sc, x, 0)
	}
	b = append(b, '{')
	for k := range m.outputs {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, m.classJSON[k]...)
		b = append(b, ':')
		b = m.appendOneExplanation(b, sc, x, k)
	}
	return append(b, '}')
}

func (m *Model) appendOneExplanation(b []byte, sc *scratch, x *explain.Explanation, k int) []byte {
	e := m.explainer()
	contrib := x.Output(k)
	sc.top = explain.Top(contrib, sc.explain, sc.top)
	b = append(b, `{"base":`...)
	b = appendNumber(b, e.ex.Base()[k])
	b = append(b, `,"margin":`...)
	b = appendNumber(b, x.Margin[k])
	b = append(b, `,"contributions":{`...)
	shown := 0.0
	for n, g := range sc.top {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, e.names[g]...)
		b = append(b, ':')
		b = appendNumber(b, contrib[g])
		shown += contrib[g]
	}
	b = append(b, '}')
	if len(sc.top) < len(contrib) {
		var rest float64
		for g, v := range contrib {
			if !contains(sc.top, g) {
				rest += v
			}
		}
		b = append(b, `,"other":`...)
		b = appendNumber(b, rest)
	}
	return append(b, '}')
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// appendNumber writes a float as JSON; a value JSON cannot carry (the
// margin of a probability of exactly 0 or 1 is infinite) is null.
func appendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return jsonw.AppendFloat(b, f, 64)
}

// appendOIPExplanation writes the "explanation" output tensor: FP64, per
// instance (and class, for a K-class model) the base value then each
// input's contribution, in the order its parameter "columns" names.
func (m *Model) appendOIPExplanation(b []byte, sc *scratch) []byte {
	e := m.explainer()
	g := len(e.names)
	b = append(b, `{"name":"explanation","datatype":"FP64","shape":[`...)
	b = strconv.AppendInt(b, int64(sc.n), 10)
	if m.outputs > 1 {
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(m.outputs), 10)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(g+1), 10)
	b = append(b, `],"parameters":{"columns":`...)
	b = jsonw.AppendString(b, e.columns)
	b = append(b, `},"data":[`...)
	for i := range sc.n {
		for k := range m.outputs {
			if i > 0 || k > 0 {
				b = append(b, ',')
			}
			b = appendNumber(b, e.ex.Base()[k])
			for _, v := range sc.xs[i].Output(k) {
				b = append(b, ',')
				b = appendNumber(b, v)
			}
		}
	}
	return append(b, "]}"...)
}

// explainInfo describes the model's explanations for GET /v1/models/NAME.
func (m *Model) explainInfo() map[string]any {
	e := m.explainer()
	if e.ex == nil {
		return map[string]any{"available": false, "reason": e.err.Error()}
	}
	return map[string]any{
		"available": true,
		"method":    e.method,
		"inputs":    e.ex.Inputs(),
		"base":      e.ex.Base(),
		"margin":    explain.Margin(m.Bundle.Model),
	}
}
