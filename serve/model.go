package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest/profile"
	"github.com/mlpipe/mlpipe/model"
)

// Model is a loaded bundle that passed its checks, with the lookups the
// request path needs computed once. It is immutable and safe for
// concurrent use; a reload builds a new one and swaps it in.
type Model struct {
	// Name is the model's name (the bundle's training.json).
	Name string
	// Version is the registry version, 0 for a bundle served from a
	// directory outside a registry.
	Version int
	// Dir is the bundle directory.
	Dir string
	// LoadedAt is when the bundle was loaded.
	LoadedAt time.Time
	// Bundle is the loaded bundle.
	Bundle *bundle.Bundle

	enc        *features.Encoder
	inputs     []input
	byName     map[string]int
	regression bool     // the one output is the predicted value, not a probability
	outputs    int      // the model's outputs per row: 1 (binary, regression) or K
	classes    []string // class names: 2 for a binary model, K for a multiclass one, none for a regression
	threshold  float64
	// buckets are the bounds of the prediction histogram of a regression
	// (see predictionBuckets).
	buckets []float64
	// openapi is /openapi.json for this model (withModel).
	openapi  []byte
	versionS string // Version as text ("" when 0)
	// Pre-encoded JSON pieces of responses.
	classJSON [][]byte // each class name as a JSON string
	headJSON  []byte   // `"model":"NAME","version":N` (native)
	// explain is built by explainer(), once: at load unless the
	// LoadOptions say LazyExplainer.
	explain     explainer
	explainOnce sync.Once
	// What a request's rows are charged to the budget (rowCost).
	rowBytes          int64
	minNative, minOIP int
}

// input is one raw input as the request decoders check it.
type input struct {
	name    string
	typ     string // contract type
	kind    features.InputKind
	integer bool   // int64: the number must be a whole number
	oipType string // the Open Inference Protocol datatype
	// nullable: null is accepted (the training data had nulls in this
	// column, or the signature example has one).
	nullable bool
	// nonNegative: a negative number is refused (the training data had
	// none).
	nonNegative bool
	// maxAbs: a number whose magnitude exceeds it is refused as absurd
	// (0: no limit). See boundFactor.
	maxAbs float64
	// categorical: the value may fall into the unknown bucket.
	categorical bool
}

// boundFactor: a number more than this many times the largest magnitude
// seen in training (profile.json) is refused as absurd. Ten times leaves
// room for honest growth (a longer route than any flown in training)
// while catching unit mistakes and garbage (1e308, -1).
const boundFactor = 10

// maxExactInt is 2^53: the largest magnitude at which every integer is a
// float64; int64 inputs beyond it would not be read exactly.
const maxExactInt = 1 << 53

// exampleTolerance is how far the served output of the signature example
// may be from the recorded one. The recording and serving run the same
// code, so on one architecture they agree bit for bit; the tolerance only
// admits last-bit differences of another CPU's fused multiply-add.
const exampleTolerance = 1e-9

// LoadModel loads the bundle in dir and checks it: it must have a
// signature, its inputs must be types the server reads, and scoring the
// signature's example through the serving path (request decoding, the
// fast feature encoder and the model) and through the training code's
// single-row path (Signature.Score) must both reproduce the recorded
// ExampleOutput. version is the registry version (0 if none). Errors
// wrap ErrBundle. The explainer's tables are built now, so that the
// first explained request does not pay for them (see LoadModelWith).
func LoadModel(dir string, version int) (*Model, error) {
	return LoadModelWith(dir, version, LoadOptions{})
}

// LoadOptions change what LoadModelWith prepares.
type LoadOptions struct {
	// LazyExplainer leaves the explainer's tables (for the default gbdt,
	// a fifth of the load's CPU) to the first explained request: for a
	// caller that scores batches and may never explain, as `mlpipe
	// predict` without --explain (package score builds its own
	// explainer when asked). mlserve builds them at load.
	LazyExplainer bool
}

// LoadModelWith is LoadModel with options.
func LoadModelWith(dir string, version int, opts LoadOptions) (m *Model, err error) {
	defer func() {
		// A bundle whose model does not fit its features can panic when
		// scored; that is a bad bundle, not a reason to crash.
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("load model %s: %w: scoring the example panicked: %v", dir, ErrBundle, p)
		}
	}()
	b, err := bundle.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load model: %w: %w", ErrBundle, err)
	}
	m, err = newModel(dir, version, b, opts)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w: %w", dir, ErrBundle, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("load model %s: %w: %w", dir, ErrBundle, err)
	}
	return m, nil
}

func newModel(dir string, version int, b *bundle.Bundle, opts LoadOptions) (*Model, error) {
	if b.Signature == nil {
		return nil, fmt.Errorf("no %s: serving needs its example to check the model", bundle.SignatureFile)
	}
	enc, err := features.NewEncoder(b.Features)
	if err != nil {
		return nil, err
	}
	m := &Model{
		Name: b.Name, Version: version, Dir: dir, LoadedAt: time.Now(), Bundle: b,
		enc: enc, byName: map[string]int{}, outputs: b.Model.Outputs(),
		regression: b.Model.Task() == model.Regression,
		classes:    b.Classes, threshold: b.Threshold,
	}
	if m.Name == "" {
		return nil, errors.New("the bundle has no model name")
	}
	if version > 0 {
		m.versionS = strconv.Itoa(version)
	}
	switch {
	case m.regression && m.outputs != 1:
		return nil, fmt.Errorf("a regression model with %d outputs", m.outputs)
	case m.regression:
	case m.outputs == 1 && len(m.classes) != 2:
		return nil, fmt.Errorf("a binary model needs 2 class names, the bundle has %d", len(m.classes))
	case m.outputs > 1 && len(m.classes) != m.outputs:
		return nil, fmt.Errorf("the model has %d outputs and %d class names", m.outputs, len(m.classes))
	case m.outputs < 1:
		return nil, fmt.Errorf("the model has %d outputs", m.outputs)
	}
	if !m.regression && m.outputs == 1 && !(m.threshold >= 0 && m.threshold <= 1) {
		return nil, fmt.Errorf("threshold %v is not a probability", m.threshold)
	}
	if got, want := b.Features.Width(), enc.Width(); got != want {
		return nil, fmt.Errorf("feature width %d, encoder width %d", got, want)
	}
	prof, err := readProfile(b)
	if err != nil {
		return nil, err
	}
	for i, in := range enc.Inputs() {
		kind := enc.Kind(i)
		spec := input{name: in.Name, typ: in.Type, kind: kind, integer: in.Type == "int64", categorical: enc.Categorical(i)}
		switch {
		case in.Type == "int64":
			spec.oipType = "INT64"
		case in.Type == "float64":
			spec.oipType = "FP64"
		case kind == features.InputBool:
			spec.oipType = "BOOL"
		default:
			spec.oipType = "BYTES" // strings, and timestamps as ISO text
		}
		if v, ok := b.Signature.Example[in.Name]; ok && v == nil {
			spec.nullable = true
		}
		if c := prof[in.Name]; c != nil {
			spec.nullable = spec.nullable || c.Nulls > 0
			if kind == features.InputNumber && c.Numeric != nil {
				spec.nonNegative = c.Numeric.Min >= 0
				spec.maxAbs = boundFactor * max(math.Abs(c.Numeric.Min), math.Abs(c.Numeric.Max))
			}
		}
		m.byName[in.Name] = i
		m.inputs = append(m.inputs, spec)
	}
	for _, c := range m.classes {
		q, _ := json.Marshal(c)
		m.classJSON = append(m.classJSON, q)
	}
	m.rowBytes, m.minNative, m.minOIP = m.rowCost()
	if !opts.LazyExplainer {
		m.explainer()
	}
	if m.regression {
		m.buckets = predictionBuckets(prof[b.Target])
	}
	m.openapi = m.withModel()
	name, _ := json.Marshal(m.Name)
	m.headJSON = append([]byte(`"model":`), name...)
	if version > 0 {
		m.headJSON = append(m.headJSON, `,"version":`...)
		m.headJSON = strconv.AppendInt(m.headJSON, int64(version), 10)
	}
	return m, nil
}

// readProfile reads the training profile of a bundle (profile.json),
// if its manifest lists one, by column name. Without it, numbers are
// only checked to be finite and null is accepted where the example has
// it. A profile that is there but unreadable is an error: the bundle is
// damaged.
func readProfile(b *bundle.Bundle) (map[string]*profile.ColumnProfile, error) {
	data, err := b.ReadFile(bundle.ProfileFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p profile.Profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", bundle.ProfileFile, err)
	}
	out := make(map[string]*profile.ColumnProfile, len(p.Columns))
	for i := range p.Columns {
		out[p.Columns[i].Name] = &p.Columns[i]
	}
	return out, nil
}

// check scores the signature example through both single-row paths and
// compares each with the recorded output.
func (m *Model) check() error {
	sig := m.Bundle.Signature
	if len(sig.ExampleOutput) != m.outputs {
		return fmt.Errorf("signature: %d example outputs, the model has %d", len(sig.ExampleOutput), m.outputs)
	}
	ref, err := sig.Score(m.Bundle.Features, m.Bundle.Model)
	if err != nil {
		return err
	}
	body, err := json.Marshal(sig.Example)
	if err != nil {
		return fmt.Errorf("signature example: %w", err)
	}
	sc := getScratch()
	defer putScratch(sc)
	if _, err := m.decodeNative(sc, body, 1, false); err != nil {
		return fmt.Errorf("signature example does not decode as a request: %w", err)
	}
	m.score(sc)
	for k, want := range sig.ExampleOutput {
		for _, got := range []float64{ref[k], sc.out[k]} {
			if !(math.Abs(got-want) <= exampleTolerance) {
				return fmt.Errorf("signature example scores %v, recorded %v (output %d)", got, want, k)
			}
		}
	}
	return nil
}

// Inputs returns the model's raw inputs (from the signature).
func (m *Model) Inputs() []features.Input { return m.enc.Inputs() }

// Task is what the model predicts: binary, multiclass or regression.
func (m *Model) Task() model.Task {
	if m.regression {
		return model.Regression
	}
	return model.ClassTask(len(m.classes))
}

// predictionBuckets are the upper bounds of the prediction histogram of
// a regression on /metrics: the training target's quantiles at every 5%
// (from profile.json), so that each bucket holds about a twentieth of
// the predictions while they look like the training targets. Without the
// target's profile (a bundle written without it), none: the histogram
// then has Prometheus's default buckets.
func predictionBuckets(c *profile.ColumnProfile) []float64 {
	if c == nil || c.Numeric == nil {
		return nil
	}
	var out []float64
	for _, q := range c.Numeric.Quantiles {
		if q.P <= 0 || q.P >= 1 || math.Mod(math.Round(q.P*1000), 50) != 0 {
			continue // the 1% tails and the ends
		}
		if len(out) == 0 || q.Value > out[len(out)-1] {
			out = append(out, q.Value)
		}
	}
	return out
}

// Label returns the predicted class for one row's outputs: for a binary
// model, the positive class (the second class name) when its probability
// reaches the bundle's threshold; otherwise the class with the highest
// probability (the first of ties).
func (m *Model) Label(out []float64) int {
	if m.outputs == 1 {
		if out[0] >= m.threshold {
			return 1
		}
		return 0
	}
	best := 0
	for k, p := range out {
		if p > out[best] {
			best = k
		}
	}
	return best
}
