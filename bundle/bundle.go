package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/manifest"
	"github.com/mlpipe/mlpipe/model"
	"github.com/mlpipe/mlpipe/model/kinds"
)

// The files of a bundle.
const (
	InfoFile        = "training.json"
	FeaturesFile    = "features.json"
	ModelFile       = "model.json"
	SignatureFile   = "signature.json"
	LeaderboardFile = "leaderboard.json"
	ProfileFile     = "profile.json"
	EvaluationFile  = "evaluation.json"
	// RecordFile is the bundle's Record: outside its content and its
	// manifest (see Record).
	RecordFile = "record.json"
	// ManifestFile lists every other file with its sha256
	// (internal/manifest); its own sha256 is the bundle's digest.
	ManifestFile = manifest.File
)

// Sentinel errors.
var (
	// ErrNotBundle means a directory has no training.json.
	ErrNotBundle = errors.New("not a model bundle")
	// ErrCorrupt means a bundle's files do not match its manifest, or it
	// has none: the error names the file. It is manifest.ErrMismatch.
	ErrCorrupt = manifest.ErrMismatch
)

// Info describes a fitted model: what serving and evaluation need beside
// the feature pipeline and the model themselves.
type Info struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Task is the model's task (binary, multiclass or regression); empty
	// in bundles written before regression, which are classifiers.
	Task model.Task `json:"task,omitempty"`
	// Target names what a regression predicts: the label column.
	Target    string   `json:"target,omitempty"`
	Classes   []string `json:"classes"`
	Threshold float64  `json:"threshold"`
	// Metric and Valid are the selection metric and the model's score on
	// the validation split.
	Metric string  `json:"metric"`
	Valid  float64 `json:"valid"`
	// Lineage: what the model is a function of.
	ConfigHash  string `json:"config_hash"`
	Fingerprint string `json:"data_fingerprint"`
	CodeVersion string `json:"code_version"`
	// RunID and CreatedAt say which run made the bundle and when. They
	// are kept in the Record, not in training.json, so that they are not
	// part of the bundle's digest.
	RunID     string    `json:"-"`
	CreatedAt time.Time `json:"-"`
	// InputsKey is the step-cache key of the training that fitted the
	// model: bundles with the same key were fitted from the same data,
	// config and code ("" when the run had no cache).
	InputsKey string `json:"inputs_key,omitempty"`
}

// Record is how a bundle came to be, kept beside its content in
// record.json: the run that made it, when, and the promotion gate's
// decision when it was registered. The record is outside the manifest:
// the same model, trained twice from the same data, config and code, has
// the same files and so the same digest, while each run keeps its own
// record. Nothing that serving reads is in it.
type Record struct {
	RunID     string    `json:"run_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Gate is the promotion gate's decision (pipeline.GateDecision), if
	// the bundle was made by a run with a registry.
	Gate json.RawMessage `json:"gate,omitempty"`
}

// Bundle is a loaded bundle.
type Bundle struct {
	Info
	Features  *features.Pipeline
	Model     model.Model
	Signature *Signature // nil for a bundle written without test data
	// Digest is the sha256 of the manifest ("sha256:..."): the bundle's
	// identity. Load and Write set it.
	Digest string
	// Gate is the gate decision Write puts in the record (nil: none).
	Gate json.RawMessage
	// Files are the files of the bundle besides those Write writes:
	// files the caller put in the directory first (the monitor's
	// reference sample) for Write to list in the manifest. After Load,
	// every file the manifest lists.
	Files []string

	dir      string // where Load read it
	manifest *manifest.Manifest
}

// Write saves b's info, features, model and signature into dir (created
// if needed), the extra values as JSON files named by their keys, the
// record (b.RunID, b.CreatedAt and b.Gate), and last the manifest over
// those files and b.Files, fsynced. It returns the digest. Each file is
// written atomically; the directory as a whole is not (the registry
// makes a version appear atomically by renaming a directory), but a
// directory cut short has no manifest, and Load refuses it. The
// directory may hold other files (the --out directory of a run does);
// the manifest does not list them and Load does not read them.
func Write(dir string, b *Bundle, extra map[string]any) (string, error) {
	paths, err := write(dir, b, extra)
	if err != nil {
		return "", err
	}
	_, digest, err := manifest.Write(dir, append(paths, b.Files...))
	if err != nil {
		return "", fmt.Errorf("write bundle: %w", err)
	}
	return digest, nil
}

// write writes the files of Write but the manifest, and returns the
// names of those in the bundle's content.
func write(dir string, b *Bundle, extra map[string]any) ([]string, error) {
	if b.Model == nil || b.Features == nil {
		return nil, errors.New("write bundle: no model or feature pipeline")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	var buf bytes.Buffer
	if err := model.Save(&buf, b.Model); err != nil {
		return nil, err
	}
	if err := fsx.WriteFile(filepath.Join(dir, ModelFile), buf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	paths := []string{ModelFile}
	files := map[string]any{InfoFile: &b.Info, FeaturesFile: b.Features}
	if b.Signature != nil {
		files[SignatureFile] = b.Signature
	}
	for name, v := range extra {
		files[name] = v
	}
	for name, v := range files {
		if err := fsx.WriteJSON(filepath.Join(dir, name), v); err != nil {
			return nil, fmt.Errorf("write bundle: %w", err)
		}
		paths = append(paths, name)
	}
	rec := Record{RunID: b.RunID, CreatedAt: b.CreatedAt.UTC(), Gate: b.Gate}
	if err := fsx.WriteJSON(filepath.Join(dir, RecordFile), rec); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	return paths, nil
}

// ReadInfo reads only a bundle's training.json and its record (for the
// run id and creation time), without verifying the manifest: for
// listings. Load verifies.
func ReadInfo(dir string) (*Info, error) {
	var info Info
	if err := fsx.ReadJSON(filepath.Join(dir, InfoFile), &info); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load bundle: %s: %w (no %s)", dir, ErrNotBundle, InfoFile)
		}
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	rec, err := ReadRecord(dir)
	if err != nil {
		return nil, err
	}
	info.RunID, info.CreatedAt = rec.RunID, rec.CreatedAt
	return &info, nil
}

// ReadRecord reads a bundle's record; a bundle without one has an empty
// record.
func ReadRecord(dir string) (*Record, error) {
	var rec Record
	if err := fsx.ReadJSON(filepath.Join(dir, RecordFile), &rec); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	return &rec, nil
}

// Verify checks every file the manifest of the bundle in dir lists and
// returns the bundle's digest. A difference, or a missing manifest, is
// an error wrapping ErrCorrupt that names the file.
func Verify(dir string) (string, error) {
	_, digest, err := verify(os.DirFS(dir), dir)
	return digest, err
}

// VerifyFS is Verify on a file system (the bundle inside an exported
// executable, say); name says where it is, for the error.
func VerifyFS(fsys fs.FS, name string) (string, error) {
	_, digest, err := verify(fsys, name)
	return digest, err
}

func verify(fsys fs.FS, name string) (*manifest.Manifest, string, error) {
	m, digest, err := manifest.Verify(fsys)
	if errors.Is(err, manifest.ErrNoManifest) {
		return nil, "", fmt.Errorf("verify bundle %s: %w: no %s (a bundle cut short, or written before bundles had manifests: `mlpipe registry check --repair` adopts a registry's)", name, ErrCorrupt, ManifestFile)
	}
	if err != nil {
		return nil, "", fmt.Errorf("verify bundle %s: %w", name, err)
	}
	return m, digest, nil
}

// Load verifies a bundle directory against its manifest (Verify), then
// reads it, parsing each file from bytes checked against the manifest.
// training.json, features.json and model.json must be listed;
// signature.json is optional.
func Load(dir string) (*Bundle, error) {
	if _, err := os.Stat(filepath.Join(dir, InfoFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load bundle: %s: %w (no %s)", dir, ErrNotBundle, InfoFile)
	}
	m, digest, err := verify(os.DirFS(dir), dir)
	if err != nil {
		return nil, err
	}
	b := Bundle{Digest: digest, dir: dir, manifest: m}
	for _, e := range m.Files {
		b.Files = append(b.Files, e.Path)
	}
	if err := b.readJSON(InfoFile, &b.Info); err != nil {
		return nil, err
	}
	rec, err := ReadRecord(dir)
	if err != nil {
		return nil, err
	}
	b.RunID, b.CreatedAt = rec.RunID, rec.CreatedAt
	b.Features = &features.Pipeline{}
	if err := b.readJSON(FeaturesFile, b.Features); err != nil {
		return nil, err
	}
	if w := b.Features.Width(); w == 0 {
		return nil, fmt.Errorf("load bundle: %s: the feature pipeline has no columns", dir)
	}
	modelJSON, err := b.ReadFile(ModelFile)
	if err != nil {
		return nil, err
	}
	if b.Model, err = kinds.Unmarshal(modelJSON); err != nil {
		return nil, fmt.Errorf("load bundle: %s: %s: %w", dir, ModelFile, err)
	}
	var sig Signature
	switch err := b.readJSON(SignatureFile, &sig); {
	case err == nil:
		b.Signature = &sig
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	return &b, nil
}

// ReadFile returns a file of a loaded bundle, checked against the
// manifest as it is read: a file the manifest does not list is not the
// bundle's (a --out directory holds other files too) and is
// fs.ErrNotExist; one that differs from the manifest is ErrCorrupt.
func (b *Bundle) ReadFile(name string) ([]byte, error) {
	if b.manifest == nil {
		return nil, fmt.Errorf("read %s: the bundle was not loaded from a directory", name)
	}
	e, ok := b.manifest.Find(name)
	if !ok {
		return nil, fmt.Errorf("load bundle %s: %s: %w (not in the manifest)", b.dir, name, fs.ErrNotExist)
	}
	data, err := os.ReadFile(filepath.Join(b.dir, name))
	if err != nil {
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	if sum := sha256.Sum256(data); int64(len(data)) != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
		return nil, fmt.Errorf("load bundle %s: %w: %s changed after it was verified", b.dir, ErrCorrupt, name)
	}
	return data, nil
}

func (b *Bundle) readJSON(name string, v any) error {
	data, err := b.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("load bundle %s: %s: %w", b.dir, name, err)
	}
	return nil
}

// Signature is what a client sends and what it gets back: the raw input
// columns with their types, one example row, and the probabilities the
// model gives for it. Serving scores the example when it loads a model,
// and refuses one that answers otherwise.
type Signature struct {
	Inputs  []features.Input `json:"inputs"`
	Example features.Row     `json:"example"`
	// ExampleOutput is the model's output for Example (one probability
	// for a binary model, one per class for a multiclass one, the
	// predicted value for a regression).
	ExampleOutput []float64 `json:"example_output"`
}

// NewSignature builds the signature from the first row of tbl, through
// the single-row path that serving uses.
func NewSignature(p *features.Pipeline, m model.Model, tbl arrow.Table) (*Signature, error) {
	sig := &Signature{Inputs: p.Inputs, Example: features.Row{}}
	for _, in := range p.Inputs {
		j := tbl.Schema().FieldIndices(in.Name)
		if len(j) != 1 || tbl.NumRows() == 0 {
			return nil, fmt.Errorf("signature: no example value for %q", in.Name)
		}
		sig.Example[in.Name] = firstValue(tbl.Column(j[0]).Data())
	}
	out, err := sig.Score(p, m)
	if err != nil {
		return nil, err
	}
	sig.ExampleOutput = out
	return sig, nil
}

// Score runs the example through the single-row path and returns the
// model's output for it.
func (sig *Signature) Score(p *features.Pipeline, m model.Model) ([]float64, error) {
	row, err := p.TransformRow(sig.Example, nil)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	out := make([]float64, m.Outputs())
	m.PredictRow(row, out)
	return out, nil
}

// firstValue returns a column's first value as a JSON request carries it.
func firstValue(col *arrow.Chunked) any {
	for _, ch := range col.Chunks() {
		if ch.Len() == 0 {
			continue
		}
		if ch.IsNull(0) {
			return nil
		}
		switch a := ch.(type) {
		case *array.Int64:
			return a.Value(0)
		case *array.Float64:
			return a.Value(0)
		case *array.Boolean:
			return a.Value(0)
		case *array.String:
			return a.Value(0)
		case *array.Timestamp:
			unit := a.DataType().(*arrow.TimestampType).Unit
			return a.Value(0).ToTime(unit).UTC().Format("2006-01-02T15:04:05")
		}
		return ch.ValueStr(0)
	}
	return nil
}
