package serve

import (
	"strconv"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/jsonw"
)

// This file writes response bodies by appending to a reused buffer: the
// shapes are fixed, so there is no need for encoding/json's reflection
// on the hot path. Numbers are written as encoding/json writes them.

// appendNative writes the native predict response: one prediction's
// fields at the top level, or a batch's under "predictions".
func (m *Model) appendNative(b []byte, sc *scratch, requestID string, batch bool) []byte {
	b = append(b, `{"id":`...)
	b = jsonw.AppendString(b, requestID)
	b = append(b, ',')
	b = append(b, m.headJSON...)
	if !batch {
		b = append(b, ',')
		b = m.appendPrediction(b, sc, 0)
		return append(b, '}', '\n')
	}
	b = append(b, `,"predictions":[`...)
	for i := range sc.n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = m.appendPrediction(b, sc, i)
		b = append(b, '}')
	}
	return append(b, ']', '}', '\n')
}

// appendPrediction writes one prediction's members: "prediction" (a
// regression's value), or "probability" (a binary model: the positive
// class's) or "probabilities" (by class) and "label"; then "unknown"
// when an input fell into the unknown bucket.
func (m *Model) appendPrediction(b []byte, sc *scratch, i int) []byte {
	out := sc.outputs(m, i)
	if m.regression {
		b = append(b, `"prediction":`...)
		b = jsonw.AppendFloat(b, out[0], 64)
		return m.appendUnknown(b, sc, i)
	}
	if m.outputs == 1 {
		b = append(b, `"probability":`...)
		b = jsonw.AppendFloat(b, out[0], 64)
	} else {
		b = append(b, `"probabilities":{`...)
		for k, p := range out {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, m.classJSON[k]...)
			b = append(b, ':')
			b = jsonw.AppendFloat(b, p, 64)
		}
		b = append(b, '}')
	}
	b = append(b, `,"label":`...)
	b = append(b, m.classJSON[m.Label(out)]...)
	return m.appendUnknown(b, sc, i)
}

// appendUnknown writes row i's "unknown" member, if an input fell into
// the unknown bucket.
func (m *Model) appendUnknown(b []byte, sc *scratch, i int) []byte {
	if sc.anyUnseen(i) {
		b = append(b, `,"unknown":[`...)
		first := true
		for j, u := range sc.unseen[i*sc.nIn : (i+1)*sc.nIn] {
			if u {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = jsonw.AppendString(b, m.inputs[j].name)
			}
		}
		b = append(b, ']')
	}
	if sc.explain != 0 {
		b = append(b, `,"explanation":`...)
		b = m.appendExplanation(b, sc, i)
	}
	return b
}

// appendInstance writes row i's raw values as a JSON object, for the
// prediction log of OIP requests (native requests log the client's own
// text). Numbers and timestamps keep the text the client sent.
func (m *Model) appendInstance(b []byte, sc *scratch, i int) []byte {
	b = append(b, '{')
	for j, v := range sc.row(i) {
		if j > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, m.inputs[j].name)
		b = append(b, ':')
		switch {
		case v.Missing:
			b = append(b, "null"...)
		case m.inputs[j].kind == features.InputNumber:
			b = append(b, v.Text...)
		case m.inputs[j].kind == features.InputBool:
			b = strconv.AppendBool(b, v.Bool)
		default:
			b = jsonw.AppendString(b, v.Text)
		}
	}
	return append(b, '}')
}
