package serve

import (
	"fmt"
	"math"
	"sync"

	"github.com/mlpipe/mlpipe/explain"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/jsonread"
)

// scratch holds every buffer one predict request needs: the body, the
// decoded rows, the feature matrix, the outputs and the response. It is
// pooled, so a steady stream of requests allocates almost nothing.
type scratch struct {
	rd  jsonread.Reader
	buf []byte // the body as read
	doc []byte // the document being decoded (buf, or a caller's bytes)

	nIn  int              // values per row
	n    int              // rows
	vals []features.Value // n rows of nIn values
	got  []bool           // per input: seen in the current row (native) or request (OIP)
	raw  [][]byte         // per row: the instance's JSON object (only when a sink wants it)

	feat   []float64   // one row's features
	slab   []float64   // the batch matrix, column-major
	cols   [][]float64 // its columns
	mat    features.Matrix
	out    []float64 // n rows of outputs
	unseen []bool    // n rows of nIn flags: the value fell into the unknown bucket

	resp  []byte
	event []byte // a row's text for the sink, built from its values (OIP)
	oip   oipState

	explain    int                   // 0: no explanations; explainAll; or the k largest contributions
	explainSet bool                  // the request had an "explain" member
	xs         []explain.Explanation // each row's explanation
	top        []int                 // the contributions shown, largest first
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooledBytes: a scratch that grew beyond this (a huge batch) is
// dropped rather than pooled, so one large request does not pin its
// buffers for the life of the process.
const maxPooledBytes = 4 << 20

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(sc *scratch) {
	const valueBytes = 64        // the size of a features.Value, roughly
	const explanationBytes = 256 // an Explanation of a few inputs, roughly
	if cap(sc.buf)+cap(sc.resp)+cap(sc.event)+8*(cap(sc.slab)+cap(sc.out))+valueBytes*cap(sc.vals)+explanationBytes*cap(sc.xs) > maxPooledBytes {
		return
	}
	sc.doc = nil
	sc.rd.Reset(nil)
	sc.oip.rd.Reset(nil)
	clear(sc.raw[:cap(sc.raw)]) // drop references to the body
	sc.raw = sc.raw[:0]
	scratchPool.Put(sc)
}

// reset prepares sc for a request to m.
func (sc *scratch) reset(m *Model) {
	sc.nIn = len(m.inputs)
	sc.n = 0
	sc.vals = sc.vals[:0]
	sc.raw = sc.raw[:0]
	sc.got = grow(sc.got, sc.nIn)
	clear(sc.got)
	sc.oip = oipState{rd: sc.oip.rd}
	sc.explain, sc.explainSet = 0, false
}

// addRow appends a row of zero values and returns its index.
func (sc *scratch) addRow() int {
	sc.addRows(1)
	return sc.n - 1
}

// addRows appends k rows of zero values.
func (sc *scratch) addRows(k int) {
	old := len(sc.vals)
	sc.vals = grow(sc.vals, old+k*sc.nIn)
	clear(sc.vals[old:])
	sc.n += k
}

// row returns row i's values.
func (sc *scratch) row(i int) []features.Value {
	return sc.vals[i*sc.nIn : (i+1)*sc.nIn]
}

// grow returns s resized to n, keeping its contents and reusing its
// array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		t := make([]T, n, n+n/4)
		copy(t, s)
		return t
	}
	return s[:n]
}

// score runs sc's rows through the feature encoder and the model.
func (m *Model) score(sc *scratch) {
	m.encodeFeatures(sc)
	m.predict(sc)
}

// encodeFeatures computes the feature vectors of sc's rows: into sc.feat
// for one row, into the column-major sc.mat for a batch.
func (m *Model) encodeFeatures(sc *scratch) {
	n, nIn := sc.n, sc.nIn
	sc.unseen = grow(sc.unseen, n*nIn)
	if n == 1 {
		sc.feat = m.enc.Encode(sc.row(0), sc.feat, sc.unseen)
		return
	}
	w := m.enc.Width()
	sc.slab = grow(sc.slab, n*w)
	sc.cols = grow(sc.cols, w)
	for j := range sc.cols {
		sc.cols[j] = sc.slab[j*n : (j+1)*n]
	}
	for i := range n {
		sc.feat = m.enc.Encode(sc.row(i), sc.feat, sc.unseen[i*nIn:(i+1)*nIn])
		for j, v := range sc.feat {
			sc.cols[j][i] = v
		}
	}
	sc.mat = features.Matrix{Rows: n, Cols: m.Bundle.Features.Columns, Data: sc.cols}
}

// predict scores the encoded rows: one row through PredictRow, a batch
// through Predict (which walks several rows through each tree at
// once); both give the same numbers.
func (m *Model) predict(sc *scratch) {
	if sc.n == 1 {
		sc.out = grow(sc.out, m.outputs)
		m.Bundle.Model.PredictRow(sc.feat, sc.out)
		return
	}
	sc.out = m.Bundle.Model.Predict(&sc.mat)
}

// checkOutputs makes sure every output is a probability (a finite
// number, for a regression), so that the response is valid JSON; a model
// that gives NaN is a server bug.
func (m *Model) checkOutputs(sc *scratch) error {
	for i, p := range sc.out[:sc.n*m.outputs] {
		ok := p >= 0 && p <= 1
		if m.regression {
			ok = !math.IsNaN(p) && !math.IsInf(p, 0)
		}
		if !ok {
			return fmt.Errorf("%w: the model gave %v for row %d", ErrInternal, p, i/m.outputs)
		}
	}
	return nil
}

// outputs returns row i's outputs.
func (sc *scratch) outputs(m *Model, i int) []float64 {
	return sc.out[i*m.outputs : (i+1)*m.outputs]
}

// anyUnseen reports whether row i has an input in the unknown bucket.
func (sc *scratch) anyUnseen(i int) bool {
	for _, u := range sc.unseen[i*sc.nIn : (i+1)*sc.nIn] {
		if u {
			return true
		}
	}
	return false
}

// headline is the probability that stands for a row's outputs in the
// probability histogram: the positive class's for a binary model, the
// predicted class's otherwise.
func (m *Model) headline(out []float64) float64 {
	if m.outputs == 1 {
		return out[0]
	}
	return out[m.Label(out)]
}
