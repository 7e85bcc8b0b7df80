package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
)

// ErrInvalid is wrapped by every error about the content of a config
// file. Their text is "config: FILE:LINE: KEY: what is wrong" (the line
// and key where they are known); an unknown key, metric or model name
// ends with the nearest known one: "(did you mean format?)".
var ErrInvalid = errors.New("invalid config")

// invalidError is an error about the content of a config file.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }

// invalid returns the error of Parse for a problem at file:line (line 0:
// unknown) and key path key ("" for none).
func invalid(file string, line int, key, msg string) error {
	at := file
	if line > 0 {
		at = fmt.Sprintf("%s:%d", file, line)
	}
	if key != "" {
		at += ": " + key
	}
	return &invalidError{at + ": " + msg}
}

// Config is one pipeline: where the data is, what it must look like, what
// to learn, and how to judge, store, serve and watch the result.
type Config struct {
	// Name is the model name in the registry ("flights-delay").
	Name string `yaml:"name"`

	Data   ingest.Source    `yaml:"data"`
	Schema ingest.Schema    `yaml:"schema"`
	Label  ingest.LabelSpec `yaml:"label"`
	Split  ingest.SplitSpec `yaml:"split"`

	Features features.Spec `yaml:"features,omitempty"`
	// Models are the candidates of model selection.
	Models    []train.ModelSpec `yaml:"models,omitempty"`
	Selection SelectionSpec     `yaml:"selection,omitempty"`
	Evaluate  EvaluateSpec      `yaml:"evaluate,omitempty"`
	// Seed seeds every random choice of a run (folds, subsampling,
	// initialisation); the same seed and data give the same models.
	Seed uint64 `yaml:"seed,omitempty"`

	Gate     GateSpec     `yaml:"gate,omitempty"`
	Registry RegistrySpec `yaml:"registry,omitempty"`
	Cache    CacheSpec    `yaml:"cache,omitempty"`
	Schedule ScheduleSpec `yaml:"schedule,omitempty"`
	Monitor  MonitorSpec  `yaml:"monitor,omitempty"`

	// Path is the file the config was read from (not a YAML key).
	Path string `yaml:"-"`
	// Hash is the sha256 of the file's bytes (not a YAML key).
	Hash string `yaml:"-"`
}

// Load reads, decodes and validates the config file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(b, path)
	if err != nil {
		return nil, err
	}
	cfg.resolvePaths(filepath.Dir(path))
	return cfg, nil
}

// Parse decodes and validates config bytes. name is used in errors only;
// relative paths are left as they are.
func Parse(b []byte, name string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		line, msg := yamlLine(cleanYAMLError(err))
		return nil, fmt.Errorf("config: %w", invalid(name, line, "", msg))
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("config: %w", invalid(name, 0, "", "the file is empty"))
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	cfg := &Config{}
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("config: %w", describeDecodeError(err, name, &root))
	}
	sum := sha256.Sum256(b)
	cfg.Path, cfg.Hash = name, hex.EncodeToString(sum[:])
	if err := cfg.validate(); err != nil {
		var ke *keyError
		if errors.As(err, &ke) {
			return nil, fmt.Errorf("config: %w", invalid(name, lineOf(&root, ke.path), ke.path, ke.msg))
		}
		return nil, fmt.Errorf("config: %w", invalid(name, 0, "", err.Error()))
	}
	return cfg, nil
}

// isURL reports whether a path is an object-storage URL (s3://BUCKET/KEY,
// package storage), which is never relative.
func isURL(p string) bool { return strings.HasPrefix(p, "s3://") }

// resolvePaths makes relative paths relative to dir.
func (c *Config) resolvePaths(dir string) {
	if c.Data.Path != "" && !filepath.IsAbs(c.Data.Path) && !isURL(c.Data.Path) {
		c.Data.ConfigDir = dir
	}
	for _, p := range []*string{&c.Data.Path, &c.Registry.Path, &c.Cache.Path} {
		if *p != "" && !filepath.IsAbs(*p) && !isURL(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// YAML returns the resolved config as YAML that Parse reads back, with
// absolute paths: a run record's config.yaml, which `mlpipe run --resume`
// runs again from any directory.
func (c *Config) YAML() ([]byte, error) {
	abs := *c
	for _, p := range []*string{&abs.Data.Path, &abs.Registry.Path, &abs.Cache.Path} {
		if *p != "" && !filepath.IsAbs(*p) && !isURL(*p) {
			a, err := filepath.Abs(*p)
			if err != nil {
				return nil, fmt.Errorf("config: %w", err)
			}
			*p = a
		}
	}
	return yaml.Marshal(&abs)
}

// Section returns the config's top-level section key (such as "features"
// or "seed") as plain values (maps, slices, strings, numbers), keyed as
// in the YAML file, for comparing two configs section by section.
func (c *Config) Section(key string) (any, error) {
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var all map[string]any
	if err := yaml.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return all[key], nil
}

// JSON returns the resolved config as indented JSON, for run records.
func (c *Config) JSON() ([]byte, error) {
	return json.MarshalIndent(c, "", "  ")
}

// keyError is a validation failure at a YAML key path ("split.test_from").
type keyError struct {
	path, msg string
}

func (e *keyError) Error() string { return e.path + ": " + e.msg }

func keyErr(path, format string, args ...any) error {
	return &keyError{path: path, msg: fmt.Sprintf(format, args...)}
}

func (c *Config) validate() error {
	if c.Name == "" {
		return keyErr("name", "is required (the model name in the registry)")
	}
	if !validName.MatchString(c.Name) {
		return keyErr("name", "%q: use letters, digits, '-' and '_' only", c.Name)
	}
	if c.Data.Path == "" {
		return keyErr("data.path", "is required")
	}
	if f := c.Data.Format; f != "" && f != "auto" && !slices.Contains(ingest.Formats, f) {
		return keyErr("data.format", "unknown format %q (%s)", f, didYouMean(f, append([]string{"auto"}, ingest.Formats...)))
	}
	if _, err := ingest.Delimiter(c.Data.Delimiter); err != nil {
		return keyErr("data.delimiter", "%v", err)
	}
	workbook := ingest.Workbook(c.Data)
	if c.Data.Delimiter != "" && workbook {
		return keyErr("data.delimiter", "does not apply to an Excel workbook, whose cells are fields already")
	}
	if c.Data.Sheet != "" && !workbook {
		return keyErr("data.sheet", "applies to an Excel workbook (data.format: xlsx, or a .xlsx path)")
	}
	if c.Data.SkipRows < 0 {
		return keyErr("data.skip_rows", "must be >= 0, got %d", c.Data.SkipRows)
	}
	if err := c.validateSchema(); err != nil {
		return err
	}
	w := c.Data.Window
	if w.LastDays < 0 {
		return keyErr("data.window.last_days", "must be positive, got %d", w.LastDays)
	}
	if w.LastDays > 0 && !w.Since.IsZero() {
		return keyErr("data.window.last_days", "cannot be combined with since")
	}
	if !w.Since.IsZero() && !w.Until.IsZero() && !w.Since.Before(w.Until) {
		return keyErr("data.window.until", "must be after since")
	}
	if (w.LastDays > 0 || !w.Since.IsZero() || !w.Until.IsZero()) && !c.hasColumn(w.Column) {
		return keyErr("data.window.column", "%q is not a column of the schema", w.Column)
	}
	if err := c.validateLabel(); err != nil {
		return err
	}
	if err := c.validateSplit(); err != nil {
		return err
	}
	if err := c.validateFeatures(); err != nil {
		return err
	}
	return c.validateLater()
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

var arrowTypes = map[string]bool{
	"int64": true, "float64": true, "bool": true, "string": true,
	"timestamp[s]": true, "timestamp[ms]": true, "timestamp[us]": true, "timestamp[ns]": true,
}

func (c *Config) validateSchema() error {
	if len(c.Schema.Columns) == 0 {
		return keyErr("schema.columns", "is required: list the columns of the data")
	}
	seen := map[string]bool{}
	for i, col := range c.Schema.Columns {
		at := fmt.Sprintf("schema.columns[%d]", i)
		if col.Name == "" {
			return keyErr(at+".name", "is required")
		}
		if seen[col.Name] {
			return keyErr(at+".name", "duplicate column %q", col.Name)
		}
		seen[col.Name] = true
		if !arrowTypes[col.Type] {
			return keyErr(at+".type", "unknown type %q (%s)", col.Type, didYouMean(col.Type, []string{"int64", "float64", "bool", "string", "timestamp[us]"}))
		}
		numeric := col.Type == "int64" || col.Type == "float64"
		if (col.Min != nil || col.Max != nil) && !numeric {
			return keyErr(at+".min", "ranges apply to int64 and float64 columns, not %s", col.Type)
		}
		if col.Min != nil && col.Max != nil && *col.Min > *col.Max {
			return keyErr(at+".max", "%g is below min %g", *col.Max, *col.Min)
		}
		if len(col.Categories) > 0 && col.Type != "string" {
			return keyErr(at+".categories", "apply to string columns, not %s", col.Type)
		}
		if col.Format != "" || col.Timezone != "" {
			key := at + ".format"
			if col.Format == "" {
				key = at + ".timezone"
			}
			if !strings.HasPrefix(col.Type, "timestamp") {
				return keyErr(key, "applies to timestamp columns, not %s", col.Type)
			}
			if err := ingest.CheckTimeFormat(col.Format, col.Timezone); err != nil {
				return keyErr(key, "%v", err)
			}
		}
	}
	return nil
}

func (c *Config) hasColumn(name string) bool { return c.column(name) != nil }

func (c *Config) column(name string) *ingest.ColumnSpec {
	for i := range c.Schema.Columns {
		if c.Schema.Columns[i].Name == name {
			return &c.Schema.Columns[i]
		}
	}
	return nil
}

func (c *Config) validateLabel() error {
	l := c.Label
	if l.Column == "" {
		return keyErr("label.column", "is required")
	}
	col := c.column(l.Column)
	if col == nil {
		return keyErr("label.column", "%q is not a column of the schema", l.Column)
	}
	switch l.Missing {
	case "", ingest.MissingError, ingest.MissingDrop:
	default:
		return keyErr("label.missing", "unknown policy %q (want error or drop)", l.Missing)
	}
	switch l.Kind {
	case "", "binary":
		if l.Positive == "" {
			return keyErr("label.positive", `is required for a binary label (for example "> 15")`)
		}
		op, value, err := ingest.ParseRule(l.Positive)
		if err != nil {
			return keyErr("label.positive", "%v: want a value (rain), or an operator (> >= < <= == !=) and a value (> 15)", err)
		}
		if col.Type == "int64" || col.Type == "float64" {
			if _, err := strconv.ParseFloat(value, 64); err != nil {
				return keyErr("label.positive", "%q: %q is not a number, and column %q is %s", l.Positive, value, l.Column, col.Type)
			}
		} else if op != "==" && op != "!=" {
			return keyErr("label.positive", "%q: only == and != apply to a %s column", l.Positive, col.Type)
		}
	case "multiclass":
		if l.Positive != "" {
			return keyErr("label.positive", "does not apply to a multiclass label")
		}
	case ingest.KindRegression:
		return c.validateRegressionLabel(col)
	default:
		return keyErr("label.kind", "unknown kind %q (want binary, multiclass or regression)", l.Kind)
	}
	if l.Transform != "" {
		return keyErr("label.transform", "applies to a regression target, not a %s label", c.Task())
	}
	return nil
}

func (c *Config) validateSplit() error {
	s := c.Split
	switch s.Method {
	case "", "time":
		if s.Group != "" {
			return keyErr("split.group", "applies to a random split: a time split puts each row in the split of its time")
		}
		if !c.hasColumn(s.Column) {
			return keyErr("split.column", "%q is not a column of the schema", s.Column)
		}
		if col := c.column(s.Column); !strings.HasPrefix(col.Type, "timestamp") {
			return keyErr("split.column", "%q is %s; a time split needs a timestamp column", s.Column, col.Type)
		}
		if s.TestDays != 0 || s.ValidDays != 0 {
			switch {
			case s.TestDays <= 0:
				return keyErr("split.test_days", "must be a positive number of days with validation_days")
			case s.ValidDays <= 0:
				return keyErr("split.validation_days", "must be a positive number of days with test_days")
			case !s.ValidFrom.IsZero() || !s.TestFrom.IsZero() || !s.TestUntil.IsZero():
				return keyErr("split.test_days", "use either the days counted back from the end of the data or fixed dates (validation_from, test_from), not both")
			}
			return nil
		}
		if s.ValidFrom.IsZero() {
			return keyErr("split.validation_from", "is required for a time split (or validation_days and test_days)")
		}
		if s.TestFrom.IsZero() {
			return keyErr("split.test_from", "is required for a time split")
		}
		if !s.ValidFrom.Before(s.TestFrom) {
			return keyErr("split.test_from", "must be after validation_from")
		}
		if !s.TestUntil.IsZero() && !s.TestFrom.Before(s.TestUntil) {
			return keyErr("split.test_until", "must be after test_from")
		}
	case "random":
		if s.ValidFraction <= 0 || s.ValidFraction >= 1 {
			return keyErr("split.validation_fraction", "must be in (0, 1), got %g", s.ValidFraction)
		}
		if s.TestFraction <= 0 || s.TestFraction >= 1 {
			return keyErr("split.test_fraction", "must be in (0, 1), got %g", s.TestFraction)
		}
		if s.ValidFraction+s.TestFraction >= 1 {
			return keyErr("split.test_fraction", "validation_fraction + test_fraction must leave rows to train on")
		}
		if s.Group != "" {
			if !c.hasColumn(s.Group) {
				return keyErr("split.group", "%q is not a column of the schema", s.Group)
			}
			if t := c.column(s.Group).Type; t == "float64" {
				return keyErr("split.group", "%q is %s; a group is named by a string, integer, bool or timestamp column", s.Group, t)
			}
			if s.Group == c.Label.Column {
				return keyErr("split.group", "%q is the label's column", s.Group)
			}
		}
	default:
		return keyErr("split.method", "unknown method %q (%s)", s.Method, didYouMean(s.Method, []string{"time", "random"}))
	}
	return nil
}

// The sections below are read and validated now and used by the stages
// that the open issues add (promotion gate, registry, scheduler,
// monitor). Each moves to the package that owns it when that package is
// built.

// SelectionSpec is how model selection ranks candidates on validation.
type SelectionSpec struct {
	// Metric: for a binary label roc_auc (default), pr_auc, log_loss or
	// brier; for a multiclass one log_loss (default), accuracy or
	// macro_f1; for a regression rmse (default), mae or r2 (see Metrics).
	Metric string `yaml:"metric,omitempty" json:"metric,omitempty"`
	// CVFolds ranks the candidates by k-fold cross-validation on the
	// training split instead of by their score on the validation split:
	// 0 (default) means DefaultCVFolds folds when the training split has
	// fewer than CVBelowRows rows and none otherwise, 1 means none, k >= 2
	// means k folds (at most MaxCVFolds). Folds are seeded (seed) and,
	// for a class label, stratified. The best candidate is then fitted
	// again on the whole training split (see train/selection).
	CVFolds int `yaml:"cv_folds,omitempty" json:"cv_folds,omitempty"`
	// Trials is the number of random-search trials, shared in turn among
	// the models that have a `search:` (default DefaultTrials when one
	// has; it is an error without one).
	Trials int `yaml:"trials,omitempty" json:"trials,omitempty"`
	// TimeBudget stops random search from starting a trial once this
	// much time has passed since selection began ("10m"; default none).
	// The trials already fitted stay on the leaderboard.
	TimeBudget time.Duration `yaml:"time_budget,omitempty" json:"time_budget,omitempty"`
}

// Defaults and limits of SelectionSpec.
const (
	// DefaultCVFolds is the number of folds of automatic cross-validation,
	// scikit-learn's default (cv=5).
	DefaultCVFolds = 5
	// CVBelowRows: below this many training rows selection cross-validates
	// by default. At the usual 60/20/20 split, 5,000 training rows come
	// with a validation split of about 1,700, where the standard error of
	// a ROC AUC near 0.8 is about 0.011 (Hanley and McNeil, Radiology 143,
	// 1982) and of an accuracy near 0.9 about 0.007: as large as the
	// differences between candidates, so one split's ranking is mostly
	// noise. Every example dataset but flights is below it; so few rows
	// fit in well under a second per candidate, and k+1 fits cost little.
	CVBelowRows = 5_000
	// MaxCVFolds bounds cv_folds: beyond 20 folds each held-out fold is
	// 5% of the rows or less, and the fits cost more than they tell.
	MaxCVFolds = 20
	// DefaultTrials is the number of random-search trials when a model
	// has a search and selection.trials is not set.
	DefaultTrials = 20
)

// EvaluateSpec tunes the evaluation on the test split.
type EvaluateSpec struct {
	// CostRatio, when set, chooses the decision threshold by the lowest
	// expected cost, a false positive costing CostRatio false negatives;
	// otherwise the threshold maximises F1 on validation.
	CostRatio float64 `yaml:"cost_ratio,omitempty" json:"cost_ratio,omitempty"`
	// SliceBy is a categorical column to report metrics per value of
	// (e.g. origin); Slices how many of the busiest values (default 20).
	SliceBy string `yaml:"slice_by,omitempty" json:"slice_by,omitempty"`
	Slices  int    `yaml:"slices,omitempty" json:"slices,omitempty"`
}

// GateSpec is the promotion gate: a candidate replaces the production
// model only if it beats it on Metric by at least MinImprovement on the
// same test data.
type GateSpec struct {
	Metric         string  `yaml:"metric,omitempty" json:"metric,omitempty"`
	MinImprovement float64 `yaml:"min_improvement,omitempty" json:"min_improvement,omitempty"`
	// MinValue, when set, is the least test score a candidate needs at
	// all (for a lower-is-better metric, the most it may have).
	MinValue *float64 `yaml:"min_value,omitempty" json:"min_value,omitempty"`
	// MaxRegression is how much worse than production a candidate may
	// score and still be kept out of production quietly; a candidate
	// worse by more is rejected (exit code 5). Default 0.
	MaxRegression float64 `yaml:"max_regression,omitempty" json:"max_regression,omitempty"`
}

// RegistrySpec says where runs and model versions are stored.
type RegistrySpec struct {
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
}

// CacheSpec says where the step cache keeps stage outputs (see
// docs/architecture.md). Empty: no cache.
type CacheSpec struct {
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
}

// ScheduleSpec is when scheduled retraining runs (`mlpipe schedule`): a
// standard 5-field cron spec ("0 3 * * *") or a descriptor ("@daily",
// "@every 6h"), in Timezone (an IANA name; default UTC, see Location),
// under Policy.
type ScheduleSpec struct {
	Cron     string `yaml:"cron,omitempty" json:"cron,omitempty"`
	Timezone string `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	// Policy is "always" (retrain at every tick; the default), "drift"
	// or "estimated" (run the monitor first, under that policy, and
	// retrain only when it recommends it, or when the production model
	// is older than MaxAge).
	Policy string `yaml:"policy,omitempty" json:"policy,omitempty"`
	// MaxAge retrains under the drift or estimated policy whatever the monitor says
	// once the production model is this old (default 0: no limit).
	MaxAge time.Duration `yaml:"max_age,omitempty" json:"max_age,omitempty"`
}

// MonitorSpec is how `mlpipe monitor` judges a window of the prediction
// log (docs/monitoring.md has the formulas). A key left out, or 0, takes
// the default noted; the effect-size defaults are matched so that each
// flags a shift of the mean of a normal feature by 0.46 standard
// deviations, where PSI over the training deciles reaches 0.2.
type MonitorSpec struct {
	// Policy is the rule whose verdict `mlpipe monitor` exits with (6:
	// retrain): "drift" (default: at least drift_share of the features
	// drift) or "estimated" (the ROC AUC estimated without labels falls
	// more than estimated_auc_drop below the test split's, or the domain
	// classifier fires). Under either, labelled predictions whose ROC AUC
	// fell more than auc_drop (a regression's RMSE rose more than
	// rmse_rise) recommend retraining too.
	Policy string `yaml:"policy,omitempty" json:"policy,omitempty"`
	// Thresholds is "calibrated" (default: each feature's thresholds are
	// drawn from its week-to-week variability on the training data,
	// which registration measures) or "fixed" (psi_threshold and the
	// others judge every feature, as for a bundle without calibration).
	Thresholds string `yaml:"thresholds,omitempty" json:"thresholds,omitempty"`
	// FalseAlarmRate is the share of windows like the training period's
	// on which a feature may be called drifted: the calibrated
	// thresholds are that quantile of the null (default 0.05).
	FalseAlarmRate float64 `yaml:"false_alarm_rate,omitempty" json:"false_alarm_rate,omitempty"`
	// Series overrides the thresholds of single features, by the
	// monitor's series name ("distance", "date:hour"):
	// {distance: {psi_threshold: 0.05}}. A key left out keeps the
	// feature's calibrated (or fixed) threshold.
	Series map[string]SeriesThresholds `yaml:"series,omitempty" json:"series,omitempty"`
	// EstimatedAUCDrop: the estimated policy retrains when the ROC AUC
	// estimated without labels is below the test split's by more than
	// this (default 0.02). Binary labels only.
	EstimatedAUCDrop float64 `yaml:"estimated_auc_drop,omitempty" json:"estimated_auc_drop,omitempty"`
	// DomainAUC is the domain classifier's threshold for a bundle without
	// a calibrated one (default 0.6).
	DomainAUC float64 `yaml:"domain_auc,omitempty" json:"domain_auc,omitempty"`
	// DriftShare: retraining is recommended when at least this share of
	// the features with enough data drift (default 0.5).
	DriftShare float64 `yaml:"drift_share,omitempty" json:"drift_share,omitempty"`
	// PSIThreshold: a feature drifts when its PSI exceeds it (default
	// 0.2, the customary "major shift").
	PSIThreshold float64 `yaml:"psi_threshold,omitempty" json:"psi_threshold,omitempty"`
	// KSThreshold: a numeric feature drifts when the two-sample KS
	// statistic D exceeds it (default 0.18).
	KSThreshold float64 `yaml:"ks_threshold,omitempty" json:"ks_threshold,omitempty"`
	// JSThreshold: a categorical feature drifts when the Jensen–Shannon
	// distance (base 2, in [0, 1]) exceeds it (default 0.19).
	JSThreshold float64 `yaml:"js_threshold,omitempty" json:"js_threshold,omitempty"`
	// WassersteinThreshold: a numeric feature drifts when the Wasserstein
	// distance divided by the training standard deviation exceeds it
	// (default 0.46).
	WassersteinThreshold float64 `yaml:"wasserstein_threshold,omitempty" json:"wasserstein_threshold,omitempty"`
	// AUCDrop: retraining is recommended when the ROC AUC of the labelled
	// predictions is below the test split's by more than this (default
	// 0.05). Class labels only.
	AUCDrop float64 `yaml:"auc_drop,omitempty" json:"auc_drop,omitempty"`
	// RMSERise: for a regression, retraining is recommended when the RMSE
	// of the labelled predictions exceeds the test split's by more than
	// this share of it (default 0.2: 20% worse).
	RMSERise float64 `yaml:"rmse_rise,omitempty" json:"rmse_rise,omitempty"`
	// MinSamples is the fewest rows a feature (and labelled rows the
	// performance) needs to be judged; fewer are reported as "not enough
	// data", never as drift (default 1000).
	MinSamples int `yaml:"min_samples,omitempty" json:"min_samples,omitempty"`
	// Window is how far back `mlpipe monitor` looks when neither --from
	// nor --last is given: days ("7d"), a Go duration ("36h") or both
	// ("1d12h") (default 7d). See ParseWindow.
	Window string `yaml:"window,omitempty" json:"window,omitempty"`
}

// SeriesThresholds are the thresholds of one monitored feature that
// MonitorSpec.Series sets (0: the feature's own).
type SeriesThresholds struct {
	PSIThreshold         float64 `yaml:"psi_threshold,omitempty" json:"psi_threshold,omitempty"`
	KSThreshold          float64 `yaml:"ks_threshold,omitempty" json:"ks_threshold,omitempty"`
	JSThreshold          float64 `yaml:"js_threshold,omitempty" json:"js_threshold,omitempty"`
	WassersteinThreshold float64 `yaml:"wasserstein_threshold,omitempty" json:"wasserstein_threshold,omitempty"`
}

// DefaultMonitorWindow is MonitorSpec.Window's default.
const DefaultMonitorWindow = "7d"

var windowRE = regexp.MustCompile(`^(?:(\d+)d)?(.*)$`)

// ParseWindow reads a window length: whole days ("7d"), a Go duration
// ("36h", "90m"), or days then a duration ("1d12h"). It must be
// positive.
func ParseWindow(s string) (time.Duration, error) {
	m := windowRE.FindStringSubmatch(strings.TrimSpace(s))
	var d time.Duration
	if m[1] != "" {
		days, err := strconv.Atoi(m[1])
		if err != nil || days > 100_000 {
			return 0, fmt.Errorf("window %q: too many days", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	}
	if m[2] != "" || m[1] == "" {
		rest, err := time.ParseDuration(m[2])
		if err == nil && rest < 0 {
			err = errors.New("negative")
		}
		if err != nil {
			return 0, fmt.Errorf("window %q: want days (7d), a duration (36h) or both (1d12h)", s)
		}
		d += rest
	}
	if d <= 0 {
		return 0, fmt.Errorf("window %q: must be positive", s)
	}
	return d, nil
}

// featureKeyRE splits a features.Spec error into its key path and message.
var featureKeyRE = regexp.MustCompile(`^(features\[\d+\](?:\.\w+)?): (.*)$`)

func (c *Config) validateFeatures() error {
	types := map[string]string{}
	for _, col := range c.Schema.Columns {
		types[col.Name] = col.Type
	}
	numeric := c.Task() != train.Multiclass
	if err := c.Features.Check(types, numeric); err != nil {
		if m := featureKeyRE.FindStringSubmatch(err.Error()); m != nil {
			return keyErr(m[1], "%s", m[2])
		}
		return keyErr("features", "%v", err)
	}
	for i, t := range c.Features {
		for _, col := range append([]string{t.Column}, t.Columns...) {
			if col != "" && col == c.Label.Column {
				return keyErr(fmt.Sprintf("features[%d]", i), "column %q is the label's source; using it as a feature leaks the answer", col)
			}
		}
	}
	return nil
}

func (c *Config) validateModels() error {
	searched := false
	for i := range c.Models {
		m := &c.Models[i]
		at := fmt.Sprintf("models[%d]", i)
		if !catalog.Known(m.Name) {
			return keyErr(at+".name", "unknown model %q (%s)", m.Name, didYouMean(m.Name, catalog.Names()))
		}
		// YAML gives mappings with non-text keys ({1: 5}) as
		// map[any]any, which neither JSON nor the trainers read.
		for k, v := range m.Params {
			m.Params[k] = textKeys(v)
		}
		for _, vs := range m.Grid {
			textKeys(vs)
		}
		m.Search = textKeys(m.Search)
		for _, params := range m.Candidates() {
			if err := catalog.CheckParams(m.Name, params); err != nil {
				return keyErr(at+".params", "%v", err)
			}
			if err := catalog.CheckTask(m.Name, params, c.Task()); err != nil {
				return keyErr(at, "%v", err)
			}
			if err := c.checkClassWeight(params[catalog.ClassWeightParam]); err != nil {
				return keyErr(at+".params.class_weight", "%v", err)
			}
		}
		if m.Search == nil {
			continue
		}
		searched = true
		sp, err := catalog.ParseSpace(m.Name, m.Search)
		if err != nil {
			return keyErr(at+".search", "%v", err)
		}
		for _, param := range slices.Sorted(maps.Keys(sp)) {
			if _, ok := m.Grid[param]; ok {
				return keyErr(at+".search", "%s is both in the grid and searched: keep one", param)
			}
			if _, ok := m.Params[param]; ok {
				return keyErr(at+".search", "%s is both fixed in params and searched: keep one", param)
			}
			if param == catalog.ClassWeightParam && c.Task() == train.Regression {
				return keyErr(at+".search", "class_weight applies to a class label, not a regression")
			}
		}
	}
	if c.Evaluate.CostRatio != 0 && c.Task() != train.Binary {
		return keyErr("evaluate.cost_ratio", "applies to a binary label (it chooses the decision threshold), not a %s; to weigh classes, give the models class_weight", c.Task())
	}
	if c.Evaluate.CostRatio < 0 {
		return keyErr("evaluate.cost_ratio", "must be > 0, got %g", c.Evaluate.CostRatio)
	}
	if s := c.Evaluate.SliceBy; s != "" && !c.hasColumn(s) {
		return keyErr("evaluate.slice_by", "%q is not a column of the schema", s)
	}
	if c.Evaluate.Slices < 0 {
		return keyErr("evaluate.slices", "must be >= 0, got %d", c.Evaluate.Slices)
	}
	sel := c.Selection
	switch {
	case sel.CVFolds < 0 || sel.CVFolds > MaxCVFolds:
		return keyErr("selection.cv_folds", "must be in [0, %d] (0: automatic, 1: none), got %d", MaxCVFolds, sel.CVFolds)
	case sel.Trials < 0:
		return keyErr("selection.trials", "must be >= 0, got %d", sel.Trials)
	case sel.Trials > 0 && !searched:
		return keyErr("selection.trials", "no model has a search: add search: default (or ranges) to a model")
	case sel.TimeBudget < 0:
		return keyErr("selection.time_budget", "must be >= 0, got %s", sel.TimeBudget)
	case sel.TimeBudget > 0 && !searched:
		return keyErr("selection.time_budget", "no model has a search: the budget bounds random search")
	}
	return nil
}

// checkClassWeight checks the class names of an explicit class_weight
// against what the config knows of the label's classes before any data
// is read: a binary label's (1, 0, positive, negative) and a multiclass
// label's schema categories, when the schema lists them.
func (c *Config) checkClassWeight(v any) error {
	cw, err := train.ParseClassWeight(v)
	if err != nil || cw.Weights == nil {
		return err
	}
	switch c.Task() {
	case train.Binary:
		return cw.CheckClasses([]string{"0", "1"})
	case train.Multiclass:
		if col := c.column(c.Label.Column); col != nil && len(col.Categories) > 0 {
			return cw.CheckClasses(col.Categories)
		}
	}
	return nil
}

// textKeys returns v with every mapping inside it keyed by text: YAML
// decodes a mapping with a non-text key ({1: 5}) as map[any]any.
func textKeys(v any) any {
	switch v := v.(type) {
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[fmt.Sprint(k)] = textKeys(x)
		}
		return out
	case map[string]any:
		for k, x := range v {
			v[k] = textKeys(x)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = textKeys(x)
		}
		return v
	}
	return v
}

func (c *Config) validateLater() error {
	if err := c.validateModels(); err != nil {
		return err
	}
	if err := c.checkMetric("selection.metric", c.Selection.Metric); err != nil {
		return err
	}
	if err := c.checkMetric("gate.metric", c.Gate.Metric); err != nil {
		return err
	}
	if c.Gate.MinImprovement < 0 {
		return keyErr("gate.min_improvement", "must be >= 0, got %g", c.Gate.MinImprovement)
	}
	if c.Gate.MaxRegression < 0 {
		return keyErr("gate.max_regression", "must be >= 0, got %g", c.Gate.MaxRegression)
	}
	if s := c.Schedule.Cron; s != "" {
		if _, err := ParseCron(s); err != nil {
			return keyErr("schedule.cron", "%q: %v", s, err)
		}
	}
	switch c.Schedule.Policy {
	case "", "always", "drift", "estimated":
	default:
		return keyErr("schedule.policy", "unknown policy %q (%s)", c.Schedule.Policy, didYouMean(c.Schedule.Policy, []string{"always", "drift", "estimated"}))
	}
	if c.Schedule.MaxAge < 0 {
		return keyErr("schedule.max_age", "must be >= 0")
	}
	if tz := c.Schedule.Timezone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			return keyErr("schedule.timezone", "%q: %v", tz, err)
		}
	}
	return c.validateMonitor()
}

func (c *Config) validateMonitor() error {
	m := c.Monitor
	for _, r := range []struct {
		key string
		v   float64
		max float64 // 0: no upper bound
	}{
		{"drift_share", m.DriftShare, 1}, {"psi_threshold", m.PSIThreshold, 0}, {"ks_threshold", m.KSThreshold, 1},
		{"js_threshold", m.JSThreshold, 1}, {"wasserstein_threshold", m.WassersteinThreshold, 0}, {"auc_drop", m.AUCDrop, 1},
		{"rmse_rise", m.RMSERise, 0}, {"false_alarm_rate", m.FalseAlarmRate, 1}, {"estimated_auc_drop", m.EstimatedAUCDrop, 1},
		{"domain_auc", m.DomainAUC, 1},
	} {
		switch {
		case r.max > 0 && (r.v < 0 || r.v > r.max):
			return keyErr("monitor."+r.key, "must be in [0, %g], got %g", r.max, r.v)
		case r.v < 0:
			return keyErr("monitor."+r.key, "must be >= 0, got %g", r.v)
		}
	}
	switch m.Policy {
	case "", "drift", "estimated":
	default:
		return keyErr("monitor.policy", "unknown policy %q (%s)", m.Policy, didYouMean(m.Policy, []string{"drift", "estimated"}))
	}
	switch m.Thresholds {
	case "", "calibrated", "fixed":
	default:
		return keyErr("monitor.thresholds", "unknown value %q (%s)", m.Thresholds, didYouMean(m.Thresholds, []string{"calibrated", "fixed"}))
	}
	for _, name := range slices.Sorted(maps.Keys(m.Series)) {
		o := m.Series[name]
		for _, r := range []struct {
			key string
			v   float64
			max float64
		}{{"psi_threshold", o.PSIThreshold, 0}, {"ks_threshold", o.KSThreshold, 1}, {"js_threshold", o.JSThreshold, 1}, {"wasserstein_threshold", o.WassersteinThreshold, 0}} {
			switch {
			case r.max > 0 && (r.v < 0 || r.v > r.max):
				return keyErr("monitor.series."+name+"."+r.key, "must be in [0, %g], got %g", r.max, r.v)
			case r.v < 0:
				return keyErr("monitor.series."+name+"."+r.key, "must be >= 0, got %g", r.v)
			}
		}
	}
	if m.MinSamples < 0 {
		return keyErr("monitor.min_samples", "must be >= 0, got %d", m.MinSamples)
	}
	if m.AUCDrop != 0 && c.Task() == train.Regression {
		return keyErr("monitor.auc_drop", "applies to a class label; a regression's retraining trigger is monitor.rmse_rise")
	}
	if m.RMSERise != 0 && c.Task() != train.Regression {
		return keyErr("monitor.rmse_rise", "applies to a regression; a class label's retraining trigger is monitor.auc_drop")
	}
	if m.Window != "" {
		if _, err := ParseWindow(m.Window); err != nil {
			return keyErr("monitor.window", "%v", err)
		}
	}
	return nil
}
