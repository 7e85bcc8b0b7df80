package serve

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/jsonread"
)

// The native JSON API (documented in openapi.json) and the health and
// documentation routes.

func (s *Server) healthz(c call) {
	writeRaw(c, http.StatusOK, []byte(`{"status":"ok"}`+"\n"))
}

func (s *Server) readyz(c call) {
	if err := s.ready(); err != nil {
		writeJSON(c, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
		return
	}
	m := s.model.Load()
	writeJSON(c, http.StatusOK, map[string]any{"status": "ready", "model": m.Name, "version": m.Version})
}

//go:embed openapi.json
var openapiDoc []byte

// openapi serves the API's document; once a model is loaded, with the
// served model's name, version, task and outputs as "x-mlpipe-model" at
// the top (an OpenAPI extension field).
func (s *Server) openapi(c call) {
	m := s.model.Load()
	if m == nil {
		writeRaw(c, http.StatusOK, openapiDoc)
		return
	}
	writeRaw(c, http.StatusOK, m.openapi)
}

// withModel returns openapiDoc with m's "x-mlpipe-model" member first.
func (m *Model) withModel() []byte {
	x, _ := json.Marshal(map[string]any{"name": m.Name, "version": m.Version, "task": m.Task(), "outputs": m.nativeOutputs()})
	i := bytes.IndexByte(openapiDoc, '{') + 1
	out := append([]byte(nil), openapiDoc[:i]...)
	out = append(out, "\n  \"x-mlpipe-model\": "...)
	out = append(out, x...)
	out = append(out, ',')
	return append(out, openapiDoc[i:]...)
}

// predict is POST /v1/models/{name}/predict.
func (s *Server) predict(c call) {
	m, err := s.modelFor(c.name, "")
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
	batch, err := m.decodeNative(sc, body, s.opts.MaxBatch, s.sink != nil)
	if err != nil {
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
	sc.resp = m.appendNative(sc.resp[:0], sc, rid, batch)
	writeRaw(c, http.StatusOK, sc.resp)
	s.metrics.scored(m, sc, apiNative)
	if s.sink != nil {
		s.emitPredictions(c, m, sc, apiNative, batch)
	}
}

// modelInfo is GET /v1/models/{name}: what the model reads and returns,
// and where it comes from.
func (s *Server) modelInfo(c call) {
	m, err := s.modelFor(c.name, "")
	if err != nil {
		s.fail(c, err)
		return
	}
	type inputInfo struct {
		Name        string   `json:"name"`
		Type        string   `json:"type"`
		Nullable    bool     `json:"nullable"`
		Categorical bool     `json:"categorical,omitempty"`
		Min         *float64 `json:"min,omitempty"`
		Max         *float64 `json:"max,omitempty"`
	}
	var ins []inputInfo
	for _, in := range m.inputs {
		ii := inputInfo{Name: in.name, Type: in.typ, Nullable: in.nullable, Categorical: in.categorical}
		if in.kind == features.InputNumber {
			lo, hi := -maxFloat(in), maxFloat(in)
			if in.nonNegative {
				lo = 0
			}
			ii.Min, ii.Max = &lo, &hi
		}
		ins = append(ins, ii)
	}
	b := m.Bundle
	info := map[string]any{
		"name":           m.Name,
		"version":        m.Version,
		"kind":           b.Kind,
		"task":           m.Task(),
		"outputs":        m.nativeOutputs(),
		"inputs":         ins,
		"example":        b.Signature.Example,
		"example_output": b.Signature.ExampleOutput,
		"metric":         b.Metric,
		"valid":          b.Valid,
		"explanations":   m.explainInfo(),
		"lineage": map[string]any{
			"run_id": b.RunID, "config_hash": b.ConfigHash, "data_fingerprint": b.Fingerprint,
			"code_version": b.CodeVersion, "created_at": b.CreatedAt,
		},
		"loaded_at": m.LoadedAt.UTC().Format(time.RFC3339Nano),
	}
	if m.regression {
		info["target"] = b.Target
	} else {
		info["classes"], info["threshold"] = m.classes, m.threshold
	}
	writeJSON(c, http.StatusOK, info)
}

// nativeOutputs names the members of a native prediction.
func (m *Model) nativeOutputs() []string {
	switch {
	case m.regression:
		return []string{"prediction", "unknown"}
	case m.outputs == 1:
		return []string{"probability", "label", "unknown"}
	}
	return []string{"probabilities", "label", "unknown"}
}

// maxFloat is the largest magnitude an input accepts.
func maxFloat(in input) float64 {
	switch {
	case in.maxAbs > 0 && in.integer:
		return min(in.maxAbs, maxExactInt)
	case in.maxAbs > 0:
		return in.maxAbs
	case in.integer:
		return maxExactInt
	}
	return 1.7976931348623157e308
}

// maxLabelID is the longest prediction id a label may name.
const maxLabelID = 256

// labels is POST /v1/models/{name}/labels: delayed ground truth, one
// ({"id": ..., "label": ...}) or several ({"labels": [...]}), passed to
// the sink. The label is a JSON bool, number or string.
func (s *Server) labels(c call) {
	m, err := s.modelFor(c.name, "")
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
	evs, err := decodeLabels(&sc.rd, body, s.opts.MaxBatch)
	if err != nil {
		s.fail(c, err)
		return
	}
	rid := c.id
	now := time.Now()
	for i := range evs {
		evs[i].RequestID, evs[i].Time, evs[i].Model = rid, now, m.Name
	}
	writeJSON(c, http.StatusAccepted, map[string]any{"id": rid, "accepted": len(evs)})
	s.metrics.labels.Add(float64(len(evs)))
	if s.sink != nil {
		for _, ev := range evs {
			s.sink.Label(ev)
		}
	}
}

// decodeLabels reads a labels body.
func decodeLabels(rd *jsonread.Reader, body []byte, maxBatch int) ([]LabelEvent, error) {
	rd.Reset(body)
	if k := rd.Peek(); k != jsonread.Object {
		if k == jsonread.Invalid {
			if len(body) == 0 || rd.Offset() == len(body) {
				return nil, badf("empty body: want {\"id\": ..., \"label\": ...} or {\"labels\": [...]}")
			}
			return nil, syntaxErr(rd.Skip())
		}
		return nil, badf("the body is %s; want {\"id\": ..., \"label\": ...} or {\"labels\": [...]}", k)
	}
	if err := rd.BeginObject(); err != nil {
		return nil, syntaxErr(err)
	}
	key, more, err := rd.Key()
	if err != nil {
		return nil, syntaxErr(err)
	}
	var evs []LabelEvent
	if more && string(key) == "labels" {
		if k := rd.Peek(); k != jsonread.Array {
			if k == jsonread.Invalid {
				return nil, syntaxErr(rd.Skip())
			}
			return nil, badf("\"labels\" is %s; want an array of {\"id\": ..., \"label\": ...}", k)
		}
		if err := rd.BeginArray(); err != nil {
			return nil, syntaxErr(err)
		}
		for {
			more, err := rd.Next()
			if err != nil {
				return nil, syntaxErr(err)
			}
			if !more {
				break
			}
			if len(evs) >= maxBatch {
				return nil, fmt.Errorf("%w: more than %d labels in one request (the batch limit)", ErrTooLarge, maxBatch)
			}
			at := "labels[" + strconv.Itoa(len(evs)) + "]: "
			if k := rd.Peek(); k != jsonread.Object {
				if k == jsonread.Invalid {
					return nil, syntaxErr(rd.Skip())
				}
				return nil, badf("%sis %s; want {\"id\": ..., \"label\": ...}", at, k)
			}
			if err := rd.BeginObject(); err != nil {
				return nil, syntaxErr(err)
			}
			key, more, err := rd.Key()
			if err != nil {
				return nil, syntaxErr(err)
			}
			ev, err := decodeLabel(rd, at, key, more)
			if err != nil {
				return nil, err
			}
			evs = append(evs, ev)
		}
		if _, more, err := rd.Key(); err != nil || more {
			if err != nil {
				return nil, syntaxErr(err)
			}
			return nil, badf("a {\"labels\": [...]} body has no other field")
		}
		if len(evs) == 0 {
			return nil, badf("\"labels\" is empty")
		}
	} else {
		ev, err := decodeLabel(rd, "", key, more)
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	if err := rd.Finish(); err != nil {
		return nil, syntaxErr(err)
	}
	return evs, nil
}

// decodeLabel reads the members of one label object, the first name
// having been read.
func decodeLabel(rd *jsonread.Reader, at string, key []byte, more bool) (LabelEvent, error) {
	var ev LabelEvent
	var hasID, hasLabel bool
	for more {
		switch string(key) {
		case "id":
			if hasID {
				return ev, badf("%sduplicate field \"id\"", at)
			}
			hasID = true
			if k := rd.Peek(); k != jsonread.String {
				if k == jsonread.Invalid {
					return ev, syntaxErr(rd.Skip())
				}
				return ev, badf("%sfield \"id\": want a string, got %s", at, k)
			}
			id, err := rd.Str()
			if err != nil {
				return ev, syntaxErr(err)
			}
			if len(id) == 0 || len(id) > maxLabelID {
				return ev, badf("%sfield \"id\": want a prediction id of 1 to %d bytes", at, maxLabelID)
			}
			ev.ID = string(id)
		case "label":
			if hasLabel {
				return ev, badf("%sduplicate field \"label\"", at)
			}
			hasLabel = true
			switch k := rd.Peek(); k {
			case jsonread.Bool, jsonread.Number, jsonread.String:
				raw, err := rd.Raw()
				if err != nil {
					return ev, syntaxErr(err)
				}
				// A number must be a float64, as predict requires of its
				// inputs: 1e400 would be logged as text.
				if k == jsonread.Number {
					if x, err := strconv.ParseFloat(string(raw), 64); err != nil || math.IsInf(x, 0) {
						return ev, badf("%sfield \"label\": %s is out of the range of a float64", at, raw)
					}
				}
				ev.Label = append(json.RawMessage(nil), raw...)
			case jsonread.Invalid:
				return ev, syntaxErr(rd.Skip())
			default:
				return ev, badf("%sfield \"label\": want a bool, number or string, got %s", at, k)
			}
		default:
			return ev, badf("%sunknown field %q (a label has \"id\" and \"label\")", at, key)
		}
		var err error
		key, more, err = rd.Key()
		if err != nil {
			return ev, syntaxErr(err)
		}
	}
	switch {
	case !hasID:
		return ev, badf("%smissing field \"id\" (the prediction's id)", at)
	case !hasLabel:
		return ev, badf("%smissing field \"label\"", at)
	}
	return ev, nil
}
