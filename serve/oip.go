package serve

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mlpipe/mlpipe/internal/jsonread"
	"github.com/mlpipe/mlpipe/internal/jsonw"
)

// The Open Inference Protocol (KServe v2) REST API:
// https://github.com/kserve/open-inference-protocol, file
// specification/protocol/inference_rest.md. A request carries one
// tensor per raw input, each a column of N values (shape [N], or [N, 1]);
// the response carries the outputs "probability" (FP64, [N] for a binary
// model or [N, K]) and "label" (BYTES: the class name) of a classifier,
// or "prediction" (FP64, [N]) of a regression, "unknown" (BYTES: the
// comma-separated inputs that fell into the unknown bucket, "" for
// none), and, when the request asks (the parameter "explain": true, or
// the output named), "explanation" (explain.go). docs/serving.md lists
// where the spec leaves a choice and what this server does.

// The outputs, as bits of oipState.want. A regression's "prediction"
// takes the bit of a classifier's "probability": the model's numbers.
const (
	outProbability = 1 << iota
	outLabel
	outUnknown
	outExplanation
	outAll        = outProbability | outLabel | outUnknown // what a request that names none gets
	outPrediction = outProbability
)

// outputNames are the output names of a classifier and of a regression,
// by bit.
var (
	outputNames           = []string{"probability", "label", "unknown", "explanation"}
	regressionOutputNames = []string{"prediction", "", "unknown", "explanation"}
)

// outputNames returns m's output names, by bit ("" for none): no
// "explanation" for a model that cannot explain.
func (m *Model) outputNames() []string {
	names := outputNames
	if m.regression {
		names = regressionOutputNames
	}
	if m.explainer().ex == nil {
		return names[:len(names)-1]
	}
	return names
}

// oipState is the part of a request's scratch that belongs to OIP.
type oipState struct {
	rd    jsonread.Reader // reads one input's data
	id    []byte          // the request's "id"
	hasID bool
	want  int // requested outputs (outAll when the request names none)
}

// decodeOIP reads an inference request into sc's rows.
func (m *Model) decodeOIP(sc *scratch, body []byte, maxBatch int) error {
	sc.reset(m)
	sc.doc = body
	rd := &sc.rd
	rd.Reset(body)
	switch k := rd.Peek(); k {
	case jsonread.Object:
	case jsonread.Invalid:
		if len(body) == 0 || rd.Offset() == len(body) {
			return badf("empty body: want an inference request {\"inputs\": [...]}")
		}
		return syntaxErr(rd.Skip())
	default:
		return badf("the body is %s; want an inference request {\"inputs\": [...]}", k)
	}
	if err := rd.BeginObject(); err != nil {
		return syntaxErr(err)
	}
	sawInputs := false
	for {
		key, more, err := rd.Key()
		if err != nil {
			return syntaxErr(err)
		}
		if !more {
			break
		}
		switch string(key) {
		case "id":
			if err := expect(rd, jsonread.String, place{field: `field "id"`, i: -1}, "a string"); err != nil {
				return err
			}
			id, err := rd.Str()
			if err != nil {
				return syntaxErr(err)
			}
			sc.oip.id, sc.oip.hasID = id, true
		case "parameters":
			if err := decodeParameters(sc); err != nil {
				return err
			}
		case "inputs":
			if sawInputs {
				return badf("duplicate field \"inputs\"")
			}
			sawInputs = true
			if err := m.decodeInputs(sc, maxBatch); err != nil {
				return err
			}
		case "outputs":
			if err := m.decodeOutputs(sc); err != nil {
				return err
			}
		default:
			return badf("unknown field %q (an inference request has id, parameters, inputs and outputs)", key)
		}
	}
	if err := rd.Finish(); err != nil {
		return syntaxErr(err)
	}
	if !sawInputs {
		return badf("missing field \"inputs\"")
	}
	for j, ok := range sc.got {
		if !ok {
			return badf("missing input %q (the model's inputs are %s)", m.inputs[j].name, m.inputList())
		}
	}
	if sc.oip.want == 0 {
		sc.oip.want = outAll
	}
	switch {
	case sc.explain != 0:
		sc.oip.want |= outExplanation
	case sc.oip.want&outExplanation != 0:
		sc.explain = explainAll
	}
	return nil
}

// decodeParameters reads the request's parameters: "explain" (a bool)
// asks for the explanation output; the others are checked and ignored.
func decodeParameters(sc *scratch) error {
	at := place{field: "parameters", i: -1}
	return readParameters(&sc.rd, at, func(key []byte) (bool, error) {
		if string(key) != "explain" {
			return false, nil
		}
		if err := expect(&sc.rd, jsonread.Bool, at.with(".explain"), "true or false"); err != nil {
			return true, err
		}
		b, err := sc.rd.Bool()
		if err != nil {
			return true, syntaxErr(err)
		}
		if b {
			sc.explain = explainAll
		}
		return true, nil
	})
}

// skipParameters checks that a "parameters" value is an object of
// strings, numbers and bools, and discards it: no parameter changes what
// this server does.
func skipParameters(rd *jsonread.Reader, at place) error {
	return readParameters(rd, at, nil)
}

// readParameters checks that a "parameters" value is an object of
// strings, numbers and bools. read, if not nil, is offered each member
// first: it reads the value of one it knows and returns true.
func readParameters(rd *jsonread.Reader, at place, read func(key []byte) (bool, error)) error {
	if err := expect(rd, jsonread.Object, at, "an object"); err != nil {
		return err
	}
	if err := rd.BeginObject(); err != nil {
		return syntaxErr(err)
	}
	for {
		key, more, err := rd.Key()
		if err != nil {
			return syntaxErr(err)
		}
		if !more {
			return nil
		}
		if read != nil {
			done, err := read(key)
			if err != nil {
				return err
			}
			if done {
				continue
			}
		}
		switch k := rd.Peek(); k {
		case jsonread.String, jsonread.Number, jsonread.Bool:
			if err := rd.Skip(); err != nil {
				return syntaxErr(err)
			}
		case jsonread.Invalid:
			return syntaxErr(rd.Skip())
		default:
			return badf("%s.%s: a parameter is a string, number or bool, got %s", at, key, k)
		}
	}
}

// place names a part of a request in messages ("inputs[2].parameters");
// it is formatted only when an error needs it, so reading a valid
// request does not build these strings.
type place struct {
	field string // "inputs", "outputs" or a top-level field
	i     int    // the element of field; -1 for the field itself
	sub   string // a member below it, such as ".parameters"
}

func (p place) String() string {
	if p.i < 0 {
		return p.field + p.sub
	}
	return p.field + "[" + strconv.Itoa(p.i) + "]" + p.sub
}

func (p place) with(sub string) place { p.sub = sub; return p }

// expect checks that the next value is of kind want. A malformed value is
// a syntax error; a value of another kind is "AT: want WHAT, got KIND".
func expect(rd *jsonread.Reader, want jsonread.Kind, at place, what string) error {
	switch k := rd.Peek(); k {
	case want:
		return nil
	case jsonread.Invalid:
		return syntaxErr(rd.Skip())
	default:
		return badf("%s: want %s, got %s", at, what, k)
	}
}

// decodeOutputs reads the requested outputs.
func (m *Model) decodeOutputs(sc *scratch) error {
	rd := &sc.rd
	if err := expect(rd, jsonread.Array, place{field: `field "outputs"`, i: -1}, `an array of {"name": ...}`); err != nil {
		return err
	}
	if err := rd.BeginArray(); err != nil {
		return syntaxErr(err)
	}
	for i := 0; ; i++ {
		more, err := rd.Next()
		if err != nil {
			return syntaxErr(err)
		}
		if !more {
			return nil
		}
		at := place{field: "outputs", i: i}
		if err := expect(rd, jsonread.Object, at, `an object {"name": ...}`); err != nil {
			return err
		}
		if err := rd.BeginObject(); err != nil {
			return syntaxErr(err)
		}
		named := false
		for {
			key, more, err := rd.Key()
			if err != nil {
				return syntaxErr(err)
			}
			if !more {
				break
			}
			switch string(key) {
			case "name":
				if err := expect(rd, jsonread.String, at.with(".name"), "a string"); err != nil {
					return err
				}
				name, err := rd.Str()
				if err != nil {
					return syntaxErr(err)
				}
				bit := 0
				var known []string
				for k, n := range m.outputNames() {
					if n == "" {
						continue
					}
					known = append(known, n)
					if string(name) == n {
						bit = 1 << k
					}
				}
				if bit == 0 {
					return badf("%s: unknown output %q (the outputs of this %s model are %s)", at, name, m.Task(), strings.Join(known, ", "))
				}
				sc.oip.want |= bit
				named = true
			case "parameters":
				if err := skipParameters(rd, at.with(".parameters")); err != nil {
					return err
				}
			default:
				return badf("%s: unknown field %q (an output has name and parameters)", at, key)
			}
		}
		if !named {
			return badf("%s: missing field \"name\"", at)
		}
	}
}

// decodeInputs reads the "inputs" array: one tensor per raw input.
func (m *Model) decodeInputs(sc *scratch, maxBatch int) error {
	rd := &sc.rd
	if err := expect(rd, jsonread.Array, place{field: `field "inputs"`, i: -1}, "an array of tensors"); err != nil {
		return err
	}
	if err := rd.BeginArray(); err != nil {
		return syntaxErr(err)
	}
	for i := 0; ; i++ {
		more, err := rd.Next()
		if err != nil {
			return syntaxErr(err)
		}
		if !more {
			return nil
		}
		if err := m.decodeTensor(sc, i, maxBatch); err != nil {
			return err
		}
	}
}

// decodeTensor reads one input tensor and its data into column j of
// sc's rows.
func (m *Model) decodeTensor(sc *scratch, i, maxBatch int) error {
	rd := &sc.rd
	at := place{field: "inputs", i: i}
	if err := expect(rd, jsonread.Object, at, "a tensor object"); err != nil {
		return err
	}
	if err := rd.BeginObject(); err != nil {
		return syntaxErr(err)
	}
	var name, datatype, data []byte
	var shape [2]uint64
	dims := -1
	for {
		key, more, err := rd.Key()
		if err != nil {
			return syntaxErr(err)
		}
		if !more {
			break
		}
		switch string(key) {
		case "name", "datatype":
			sub := ".name" // a constant, so a valid request formats nothing
			if string(key) == "datatype" {
				sub = ".datatype"
			}
			if err := expect(rd, jsonread.String, at.with(sub), "a string"); err != nil {
				return err
			}
			s, err := rd.Str()
			if err != nil {
				return syntaxErr(err)
			}
			if string(key) == "name" {
				name = s
			} else {
				datatype = s
			}
		case "shape":
			if dims, err = readShape(rd, at, &shape); err != nil {
				return err
			}
		case "parameters":
			if err := skipParameters(rd, at.with(".parameters")); err != nil {
				return err
			}
		case "data":
			if err := expect(rd, jsonread.Array, at.with(".data"), "an array"); err != nil {
				return err
			}
			if data, err = rd.Raw(); err != nil {
				return syntaxErr(err)
			}
		default:
			return badf("%s: unknown field %q (a tensor has name, shape, datatype, parameters and data)", at, key)
		}
	}
	switch {
	case name == nil:
		return badf("%s: missing field \"name\"", at)
	case datatype == nil:
		return badf("%s (%s): missing field \"datatype\"", at, name)
	case dims < 0:
		return badf("%s (%s): missing field \"shape\"", at, name)
	case data == nil:
		return badf("%s (%s): missing field \"data\"", at, name)
	}
	j, ok := m.byName[string(name)]
	if !ok {
		return badf("%s: unknown input %q (the model's inputs are %s)", at, name, m.inputList())
	}
	in := &m.inputs[j]
	if sc.got[j] {
		return badf("input %q: given twice", in.name)
	}
	sc.got[j] = true
	if string(datatype) != in.oipType {
		return badf("input %q: datatype %q; want %s (see GET /v2/models/%s)", in.name, datatype, in.oipType, m.Name)
	}
	if dims == 0 || dims > 2 || (dims == 2 && shape[1] != 1) {
		return badf("input %q: shape %s; want [N] or [N, 1] (one column of N rows)", in.name, shapeText(shape, dims))
	}
	n := shape[0]
	switch {
	case n == 0:
		return badf("input %q: shape [0]: want at least one row", in.name)
	case n > uint64(maxBatch):
		return fmt.Errorf("%w: input %q has %d rows; the batch limit is %d", ErrTooLarge, in.name, n, maxBatch)
	case sc.n == 0:
		sc.addRows(int(n))
	case int(n) != sc.n:
		return badf("input %q: shape [%d], but an earlier input has %d rows", in.name, n, sc.n)
	}
	drd := &sc.oip.rd
	drd.Reset(data)
	count := 0
	if err := m.readColumn(sc, drd, j, &count); err != nil {
		return err
	}
	if count != sc.n {
		return badf("input %q: %d values, but the shape says %d", in.name, count, sc.n)
	}
	return nil
}

// readShape reads a shape: an array of at most two non-negative whole
// numbers (more dimensions are an error). It returns the number of
// dimensions.
func readShape(rd *jsonread.Reader, at place, shape *[2]uint64) (int, error) {
	if k := rd.Peek(); k != jsonread.Array {
		if k == jsonread.Invalid {
			return 0, syntaxErr(rd.Skip())
		}
		return 0, badf("%s.shape: want an array of dimensions, got %s", at, k)
	}
	if err := rd.BeginArray(); err != nil {
		return 0, syntaxErr(err)
	}
	dims := 0
	for {
		more, err := rd.Next()
		if err != nil {
			return 0, syntaxErr(err)
		}
		if !more {
			return dims, nil
		}
		if k := rd.Peek(); k != jsonread.Number {
			if k == jsonread.Invalid {
				return 0, syntaxErr(rd.Skip())
			}
			return 0, badf("%s.shape: a dimension is a number, got %s", at, k)
		}
		txt, err := rd.Number()
		if err != nil {
			return 0, syntaxErr(err)
		}
		d, err := strconv.ParseUint(string(txt), 10, 64)
		if err != nil {
			return 0, badf("%s.shape: dimension %.40s is not a non-negative whole number", at, txt)
		}
		if dims >= 2 {
			return 0, badf("%s.shape: more than 2 dimensions; want [N] or [N, 1]", at)
		}
		shape[dims] = d
		dims++
	}
}

func shapeText(shape [2]uint64, dims int) string {
	switch dims {
	case 0:
		return "[]"
	case 1:
		return fmt.Sprintf("[%d]", shape[0])
	}
	return fmt.Sprintf("[%d, %d]", shape[0], shape[1])
}

// readColumn reads a tensor's data into column j, row by row: a flat
// array of N values, or the same nested as [[v], [v], ...] (the spec
// allows either form).
func (m *Model) readColumn(sc *scratch, rd *jsonread.Reader, j int, count *int) error {
	if err := rd.BeginArray(); err != nil {
		return syntaxErr(err)
	}
	for {
		more, err := rd.Next()
		if err != nil {
			return syntaxErr(err)
		}
		if !more {
			return nil
		}
		if rd.Peek() == jsonread.Array {
			if err := m.readColumn(sc, rd, j, count); err != nil {
				return err
			}
			continue
		}
		if *count >= sc.n {
			return badf("input %q: more values than the shape's %d", m.inputs[j].name, sc.n)
		}
		if err := m.readValue(rd, j, &sc.vals[*count*sc.nIn+j]); err != nil {
			return fmt.Errorf("%w: input %q, row %d: %w", ErrBadRequest, m.inputs[j].name, *count, err)
		}
		*count++
	}
}

// appendOIP writes the inference response.
func (m *Model) appendOIP(b []byte, sc *scratch, requestID string) []byte {
	b = append(b, `{"model_name":`...)
	b = jsonw.AppendString(b, m.Name)
	if m.Version > 0 {
		b = append(b, `,"model_version":"`...)
		b = append(b, m.versionS...)
		b = append(b, '"')
	}
	b = append(b, `,"id":`...)
	if sc.oip.hasID {
		b = jsonw.AppendString(b, sc.oip.id)
	} else {
		b = jsonw.AppendString(b, requestID)
	}
	b = append(b, `,"outputs":[`...)
	n, k := sc.n, m.outputs
	first := true
	if sc.oip.want&outProbability != 0 {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"name":"`...)
		b = append(b, m.outputNames()[0]...)
		b = append(b, `","datatype":"FP64","shape":[`...)
		b = strconv.AppendInt(b, int64(n), 10)
		if k > 1 {
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(k), 10)
		}
		b = append(b, `],"data":[`...)
		for i, p := range sc.out[:n*k] {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.AppendFloat(b, p, 64)
		}
		b = append(b, "]}"...)
	}
	if sc.oip.want&outLabel != 0 && !m.regression {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"name":"label","datatype":"BYTES","shape":[`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `],"data":[`...)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, m.classJSON[m.Label(sc.outputs(m, i))]...)
		}
		b = append(b, "]}"...)
	}
	if sc.oip.want&outUnknown != 0 {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"name":"unknown","datatype":"BYTES","shape":[`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `],"data":[`...)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			var buf [64]byte
			list := buf[:0]
			for j, u := range sc.unseen[i*sc.nIn : (i+1)*sc.nIn] {
				if u {
					if len(list) > 0 {
						list = append(list, ',')
					}
					list = append(list, m.inputs[j].name...)
				}
			}
			b = jsonw.AppendString(b, list)
		}
		b = append(b, "]}"...)
	}
	if sc.oip.want&outExplanation != 0 {
		if !first {
			b = append(b, ',')
		}
		b = m.appendOIPExplanation(b, sc)
	}
	return append(b, "]}\n"...)
}

// oipInfer is POST /v2/models/{name}[/versions/{version}]/infer.
func (s *Server) oipInfer(c call) {
	m, err := s.modelFor(c.name, c.version)
	if err != nil {
		s.fail(c, err)
		return
	}
	sc := getScratch()
	defer putScratch(sc)
	body, err := s.body(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := m.decodeOIP(sc, body, s.opts.MaxBatch); err != nil {
		s.fail(c, err)
		return
	}
	s.settle(c, m, sc.n)
	m.score(sc)
	if err := m.checkOutputs(sc); err != nil {
		s.fail(c, err)
		return
	}
	if err := m.explainRows(sc, s.opts.MaxExplain); err != nil {
		s.fail(c, err)
		return
	}
	rid := c.id
	sc.resp = m.appendOIP(sc.resp[:0], sc, rid)
	writeRaw(c, http.StatusOK, sc.resp)
	s.metrics.scored(m, sc, apiOIP)
	if s.sink != nil {
		s.emitPredictions(c, m, sc, apiOIP, true)
	}
}

// tensorMeta is a $metadata_tensor.
type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

// oipModelMetadata is GET /v2/models/{name}[/versions/{version}].
func (s *Server) oipModelMetadata(c call) {
	m, err := s.modelFor(c.name, c.version)
	if err != nil {
		s.fail(c, err)
		return
	}
	ins := make([]tensorMeta, len(m.inputs))
	for j, in := range m.inputs {
		ins[j] = tensorMeta{Name: in.name, Datatype: in.oipType, Shape: []int{-1}}
	}
	probShape := []int{-1}
	if m.outputs > 1 {
		probShape = []int{-1, m.outputs}
	}
	outs := []tensorMeta{
		{Name: "probability", Datatype: "FP64", Shape: probShape},
		{Name: "label", Datatype: "BYTES", Shape: []int{-1}},
		{Name: "unknown", Datatype: "BYTES", Shape: []int{-1}},
	}
	if m.regression {
		outs = []tensorMeta{{Name: "prediction", Datatype: "FP64", Shape: []int{-1}}, outs[2]}
	}
	resp := struct {
		Name     string       `json:"name"`
		Versions []string     `json:"versions,omitempty"`
		Platform string       `json:"platform"`
		Inputs   []tensorMeta `json:"inputs"`
		Outputs  []tensorMeta `json:"outputs"`
		// Parameters carry what the protocol has no field for: the task.
		Parameters map[string]string `json:"parameters"`
	}{
		Name:       m.Name,
		Platform:   "mlpipe_" + m.Bundle.Kind,
		Inputs:     ins,
		Outputs:    outs,
		Parameters: map[string]string{"task": string(m.Task())},
	}
	if ex := m.explainer().ex; ex != nil {
		shape := []int{-1, len(ex.Inputs()) + 1}
		if m.outputs > 1 {
			shape = []int{-1, m.outputs, len(ex.Inputs()) + 1}
		}
		resp.Outputs = append(resp.Outputs, tensorMeta{Name: "explanation", Datatype: "FP64", Shape: shape})
	}
	if m.Version > 0 {
		resp.Versions = []string{m.versionS}
	}
	writeJSON(c, http.StatusOK, resp)
}

// oipModelReady is GET /v2/models/{name}[/versions/{version}]/ready.
func (s *Server) oipModelReady(c call) {
	m, err := s.modelFor(c.name, c.version)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, map[string]any{"name": m.Name, "ready": true})
}

// oipServerMetadata is GET /v2.
func (s *Server) oipServerMetadata(c call) {
	writeJSON(c, http.StatusOK, map[string]any{"name": "mlserve", "version": s.opts.ServerVersion, "extensions": []string{}})
}

// oipLive is GET /v2/health/live.
func (s *Server) oipLive(c call) {
	writeJSON(c, http.StatusOK, map[string]bool{"live": true})
}

// oipReady is GET /v2/health/ready: 503 until a model is loaded.
func (s *Server) oipReady(c call) {
	if err := s.ready(); err != nil {
		writeJSON(c, http.StatusServiceUnavailable, map[string]any{"ready": false, "error": err.Error()})
		return
	}
	writeJSON(c, http.StatusOK, map[string]bool{"ready": true})
}
