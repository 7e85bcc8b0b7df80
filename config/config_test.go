package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/config"
)

func TestLoadDefault(t *testing.T) {
	cfg, err := config.Load("../configs/flights.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "flights-delay" {
		t.Errorf("name = %q", cfg.Name)
	}
	// Relative data paths are resolved against the config file's directory.
	if want := filepath.Join("..", "configs", "..", "data", "flights-3m.parquet"); cfg.Data.Path != filepath.Clean(want) && cfg.Data.Path != want {
		t.Errorf("data.path = %q, want %q", cfg.Data.Path, want)
	}
	if cfg.Data.ConfigDir != filepath.Join("..", "configs") {
		t.Errorf("data's config dir = %q, want ../configs (named when the path does not resolve)", cfg.Data.ConfigDir)
	}
	if got := cfg.Split.ValidFrom.Format("2006-01-02"); got != "2001-05-01" {
		t.Errorf("split.validation_from = %s", got)
	}
	if len(cfg.Hash) != 64 {
		t.Errorf("hash = %q, want 64 hex digits", cfg.Hash)
	}
}

// base is a small valid config; each case edits one line of it.
const base = `name: m
data:
  path: x.parquet
schema:
  columns:
    - {name: t, type: "timestamp[us]"}
    - {name: y, type: int64}
    - {name: c, type: string}
label:
  column: y
  positive: "> 1"
split:
  column: t
  validation_from: 2001-05-01
  test_from: 2001-06-01
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old with new in base
		want     string // substring of the error
	}{
		{"OK", "", "", ""},
		{"ErrUnknownTopKey", "name: m", "name: m\nnmae: x", "cfg.yaml:2: nmae: unknown key"},
		{"ErrUnknownNestedKey", "  path: x.parquet", "  path: x.parquet\n  formatt: csv", "cfg.yaml:4: data.formatt: unknown key"},
		{"ErrUnknownKeyInList", `{name: c, type: string}`, `{name: c, type: string, nulable: true}`, "schema.columns[2].nulable: unknown key"},
		{"ErrBadFormat", "  path: x.parquet", "  path: x.parquet\n  format: xls", `data.format: unknown format "xls"`},
		{"OK/sheet", "  path: x.parquet", "  path: x.xlsx\n  sheet: s", ""},
		{"ErrSheetNotWorkbook", "  path: x.parquet", "  path: x.parquet\n  sheet: s", "data.sheet: applies to an Excel workbook"},
		{"ErrDelimiterWorkbook", "  path: x.parquet", "  path: x.xlsx\n  delimiter: \";\"", "data.delimiter: does not apply to an Excel workbook"},
		{"ErrBadType", `type: int64}`, `type: int}`, `cfg.yaml:7: schema.columns[1].type: unknown type "int"`},
		{"ErrWrongYAMLType", "validation_from: 2001-05-01", "validation_from: [1]", "split.validation_from: cannot use seq"},
		{"ErrMissingName", "name: m", "", "name: is required"},
		{"ErrLabelColumn", "column: y", "column: z", `label.column: "z" is not a column`},
		{"ErrLabelRule", `positive: "> 1"`, `positive: "about 1"`, "label.positive"},
		{"ErrLabelKind", "column: y\n", "column: y\n  kind: ordinal\n", `label.kind: unknown kind "ordinal"`},
		{"ErrSplitOrder", "test_from: 2001-06-01", "test_from: 2001-04-01", "cfg.yaml:15: split.test_from: must be after validation_from"},
		{"OK/trailing-days", "  validation_from: 2001-05-01\n  test_from: 2001-06-01", "  validation_days: 7\n  test_days: 7", ""},
		{"ErrTrailingDaysAndDates", "  test_from: 2001-06-01", "  test_from: 2001-06-01\n  validation_days: 7\n  test_days: 7", "split.test_days: use either"},
		{"ErrTrailingDaysHalf", "  validation_from: 2001-05-01\n  test_from: 2001-06-01", "  test_days: 7", "split.validation_days: must be a positive"},
		{"ErrSplitColumnType", "  column: t\n  validation", "  column: c\n  validation", `split.column: "c" is string`},
		{"OK/group", "  column: t\n  validation_from: 2001-05-01\n  test_from: 2001-06-01", "  method: random\n  validation_fraction: 0.2\n  test_fraction: 0.2\n  group: c", ""},
		{"ErrGroupTimeSplit", "  column: t\n", "  column: t\n  group: c\n", "split.group: applies to a random split"},
		{"ErrGroupColumn", "  column: t\n  validation_from: 2001-05-01\n  test_from: 2001-06-01", "  method: random\n  validation_fraction: 0.2\n  test_fraction: 0.2\n  group: nope", `split.group: "nope" is not a column`},
		{"ErrGroupLabel", "  column: t\n  validation_from: 2001-05-01\n  test_from: 2001-06-01", "  method: random\n  validation_fraction: 0.2\n  test_fraction: 0.2\n  group: y", `split.group: "y" is the label's column`},
		{"ErrDuplicateColumn", `{name: c, type: string}`, `{name: y, type: string}`, `duplicate column "y"`},
		{"ErrNotYAML", "name: m", "name: [m", "config: cfg.yaml:1: did not find expected"},
		{"OK/later-sections", "name: m", "name: m\ngate: {metric: pr_auc}\nschedule: {cron: \"@daily\"}\nmonitor: {drift_share: 0.3}", ""},
		{"ErrGateMetric", "name: m", "name: m\ngate: {metric: auc}", `gate.metric: unknown metric "auc"`},
		{"ErrCron", "name: m", "name: m\nschedule: {cron: \"61 * * * *\"}", `schedule.cron: "61 * * * *"`},
		{"ErrCronTZPanic", "name: m", "name: m\nschedule: {cron: \"TZ=UTC\"}", `schedule.cron: "TZ=UTC": a time zone prefix is not allowed here`},
		{"ErrCronEmptyDescriptor", "name: m", "name: m\nschedule: {cron: \"@every\"}", `schedule.cron: "@every"`},
		{"ErrPolicy", "name: m", "name: m\nschedule: {policy: sometimes}", `schedule.policy: unknown policy "sometimes"`},
		{"OK/drift-policy", "name: m", "name: m\nschedule: {cron: \"@every 6h\", policy: drift, max_age: 168h}", ""},
		{"ErrTimezone", "name: m", "name: m\nschedule: {timezone: Mars/Olympus}", `schedule.timezone: "Mars/Olympus"`},
		{"ErrDriftShare", "name: m", "name: m\nmonitor: {drift_share: 2}", "monitor.drift_share: must be in [0, 1]"},
		{"OK/features", "name: m", "name: m\nfeatures: [{column: t, transform: time}, {column: c, transform: categorical, target_encoding: true}]", ""},
		{"ErrFeatureColumn", "name: m", "name: m\nfeatures: [{column: nope, transform: numeric}]", `features[0].column: "nope" is not a column`},
		{"ErrFeatureType", "name: m", "name: m\nfeatures: [{column: c, transform: numeric}]", `features[0].column: "c" is string`},
		{"ErrFeatureTransform", "name: m", "name: m\nfeatures: [{column: c, transform: hash}]", `features[0].transform: unknown transform "hash"`},
		{"ErrFeatureLeak", "name: m", "name: m\nfeatures: [{column: y, transform: numeric}]", `features[0]: column "y" is the label's source`},
		{"ErrUnknownGateKey", "name: m", "name: m\ngate: {metrc: roc_auc}", "config: cfg.yaml:2: gate.metrc: unknown key (did you mean metric?)"},
		// Did you mean: keys at every level, and names.
		{"ErrKeyTypoTop", "name: m", "name: m\nsplitt: {}", "config: cfg.yaml:2: splitt: unknown key (did you mean split?)"},
		{"ErrKeyTypoNested", "  path: x.parquet", "  path: x.parquet\n  formatt: csv", "config: cfg.yaml:4: data.formatt: unknown key (did you mean format?)"},
		{"ErrKeyTypoInList", `{name: c, type: string}`, `{name: c, type: string, nulable: true}`, "schema.columns[2].nulable: unknown key (did you mean nullable?)"},
		{"ErrKeyTypoInline", "column: y\n", "column: y\n  positve: \"> 1\"\n", "label.positve: unknown key (did you mean positive?)"},
		{"ErrKeyFar", "name: m", "name: m\nwhatever: 1", "config: cfg.yaml:2: whatever: unknown key (want name, data, schema, label, split, features, models, selection, evaluate, seed, gate, registry, cache, schedule, monitor)\n"},
		{"ErrSelectionMetricTypo", "name: m", "name: m\nselection: {metric: rocauc}", `config: cfg.yaml:2: selection.metric: unknown metric "rocauc" (did you mean roc_auc?)`},
		{"ErrGateMetricTypo", "name: m", "name: m\ngate: {metric: roc-auc}", `config: cfg.yaml:2: gate.metric: unknown metric "roc-auc" (did you mean roc_auc?)`},
		{"ErrGateMetricFar", "name: m", "name: m\ngate: {metric: lift}", `gate.metric: unknown metric "lift" (want roc_auc, pr_auc, log_loss, brier for a binary label)`},
		{"ErrModelTypo", "name: m", "name: m\nmodels: [{name: gdbt}]", `models[0].name: unknown model "gdbt" (did you mean gbdt?)`},
		{"ErrFormatTypo", "  path: x.parquet", "  path: x.parquet\n  format: parqet", `data.format: unknown format "parqet" (did you mean parquet?)`},
		{"ErrPolicyTypo", "name: m", "name: m\nschedule: {policy: drfit}", `schedule.policy: unknown policy "drfit" (did you mean drift?)`},
		{"OK/text-options", "  path: x.parquet", "  path: x.csv.gz\n  format: tsv\n  delimiter: \";\"\n  header: false\n  skip_rows: 1", ""},
		{"ErrDelimiter", "  path: x.parquet", "  path: x.parquet\n  delimiter: \"::\"", `cfg.yaml:4: data.delimiter: delimiter "::": want one ASCII character other than a quote, CR or LF`},
		{"ErrSkipRows", "  path: x.parquet", "  path: x.parquet\n  skip_rows: -1", `data.skip_rows: must be >= 0, got -1`},
		{"OK/time-format", `{name: t, type: "timestamp[us]"}`, `{name: t, type: "timestamp[us]", format: "%b %d %Y", timezone: Europe/Paris}`, ""},
		{"ErrTimeFormat", `{name: t, type: "timestamp[us]"}`, `{name: t, type: "timestamp[us]", format: "%b %Q"}`, `cfg.yaml:6: schema.columns[0].format: format "%b %Q": unknown directive %Q`},
		{"ErrTimeZone", `{name: t, type: "timestamp[us]"}`, `{name: t, type: "timestamp[us]", timezone: Mars/Olympus}`, `schema.columns[0].timezone: time zone "Mars/Olympus"`},
		{"ErrFormatNotTimestamp", `{name: c, type: string}`, `{name: c, type: string, format: "%Y"}`, `schema.columns[2].format: applies to timestamp columns, not string`},
		{"OK/bare-positive", `positive: "> 1"`, `positive: 1`, ""},
		{"OK/label-missing", `positive: "> 1"`, "positive: \"> 1\"\n  missing: drop", ""},
		{"ErrLabelMissing", `positive: "> 1"`, "positive: \"> 1\"\n  missing: skip", `label.missing: unknown policy "skip" (want error or drop)`},
		// Trainer parameters: names, types and ranges, before any data.
		{"ErrParamTypo", "name: m", "name: m\nmodels: [{name: logreg, params: {max_iters: 5}}]", `cfg.yaml:2: models[0].params: logreg: unknown parameter "max_iters" (did you mean max_iter?)`},
		{"ErrParamType", "name: m", "name: m\nmodels: [{name: gbdt, params: {rounds: fifty}}]", `models[0].params: gbdt: rounds: want a whole number, got "fifty"`},
		{"ErrParamRange", "name: m", "name: m\nmodels: [{name: logreg, params: {c: -1}}]", `models[0].params: logreg: c is -1, want > 0`},
		{"ErrGridRange", "name: m", "name: m\nmodels: [{name: gbdt, grid: {subsample: [0.5, 1.5]}}]", `models[0].params: gbdt: subsample 1.5 is not in (0, 1]`},
		{"ErrGridTypo", "name: m", "name: m\nmodels: [{name: gbdt, grid: {max_leafs: [4, 8]}}]", `models[0].params: gbdt: unknown parameter "max_leafs" (did you mean max_leaves?)`},
		// Class weights.
		{"OK/class-weight", "name: m", "name: m\nmodels: [{name: gbdt, params: {class_weight: balanced}}, {name: logreg, params: {class_weight: {1: 5}}}]", ""},
		{"OK/class-weight-positive", "name: m", "name: m\nmodels: [{name: logreg, params: {class_weight: {positive: 5, negative: 1}}}]", ""},
		{"ErrClassWeightClass", "name: m", "name: m\nmodels: [{name: logreg, params: {class_weight: {yes: 5}}}]", `models[0].params.class_weight: class_weight names class "yes", which the label does not have (its classes: 0, 1)`},
		{"ErrClassWeightFamily", "name: m", "name: m\nmodels: [{name: golearn-rf, params: {class_weight: balanced}}]", `models[0].params: golearn-rf does not take class_weight (gbdt and logreg do)`},
		{"ErrCostRatioMulticlass", "column: y\n  positive: \"> 1\"", "column: y\n  kind: multiclass\nevaluate: {cost_ratio: 3}", `evaluate.cost_ratio: applies to a binary label (it chooses the decision threshold), not a multiclass; to weigh classes, give the models class_weight`},
		// Random search and cross-validation.
		{"OK/search", "name: m", "name: m\nmodels: [{name: gbdt, search: default}, {name: logreg, search: {c: {min: 0.01, max: 100, log: true}}}]\nselection: {trials: 8, time_budget: 5m, cv_folds: 3}", ""},
		{"ErrSearchParam", "name: m", "name: m\nmodels: [{name: gbdt, search: {learnig_rate: default}}]", `models[0].search: learnig_rate: unknown parameter of gbdt (did you mean learning_rate?)`},
		{"ErrSearchRange", "name: m", "name: m\nmodels: [{name: gbdt, search: {subsample: {min: -1, max: 1}}}]", `models[0].search: subsample: -1 is not a valid value: gbdt: subsample -1 is not in (0, 1]`},
		{"ErrSearchAndParams", "name: m", "name: m\nmodels: [{name: logreg, params: {c: 2}, search: default}]", `models[0].search: c is both fixed in params and searched: keep one`},
		{"ErrSearchNothing", "name: m", "name: m\nmodels: [{name: golearn-id3, search: default}]", `models[0].search: golearn-id3 has no parameter to search`},
		{"ErrTrialsNoSearch", "name: m", "name: m\nmodels: [{name: gbdt}]\nselection: {trials: 5}", `selection.trials: no model has a search`},
		{"ErrCVFolds", "name: m", "name: m\nselection: {cv_folds: 50}", `selection.cv_folds: must be in [0, 20] (0: automatic, 1: none), got 50`},
		{"ErrTimeBudget", "name: m", "name: m\nmodels: [{name: gbdt, search: default}]\nselection: {time_budget: -1m}", `selection.time_budget: must be >= 0, got -1m0s`},
		// Features: each option where its transform reads it.
		{"ErrFeatureTransformTypo", "name: m", "name: m\nfeatures: [{column: c, transform: categorial}]", `features[0].transform: unknown transform "categorial" (did you mean categorical?)`},
		{"ErrTimePartTypo", "name: m", "name: m\nfeatures: [{column: t, transform: time, parts: [hour, day_of_weak]}]", `features[0].parts: "day_of_weak" is not a time part (did you mean day_of_week?)`},
		{"ErrPartsNotTime", "name: m", "name: m\nfeatures: [{column: c, transform: categorical, parts: [hour]}]", `features[0].parts: apply to a time transform, not categorical`},
		{"ErrLogNotNumeric", "name: m", "name: m\nfeatures: [{column: c, transform: categorical, log: true}]", `features[0].log: applies to a numeric transform, not categorical`},
		{"ErrMinFrequencyNumeric", "name: m", "name: m\nfeatures: [{column: y, transform: numeric, min_frequency: 5}]", `features[0].min_frequency: applies to categorical and cross transforms, not numeric`},
		{"ErrSmoothingWithoutTE", "name: m", "name: m\nfeatures: [{column: c, transform: categorical, smoothing: 5}]", `features[0].smoothing: is the target encoding's prior weight: it needs target_encoding: true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := base
			if tt.old != "" {
				if !strings.Contains(src, tt.old) {
					t.Fatalf("test bug: %q not in base", tt.old)
				}
				src = strings.Replace(src, tt.old, tt.new, 1)
			}
			_, err := config.Parse([]byte(src), "cfg.yaml")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error()+"\n", tt.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
		})
	}
}

// TestExamplesLoad loads every example config: none may fall foul of a
// check (TestExampleConfigs in pipeline runs them).
func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob("../configs/*.yaml")
	if err != nil || len(files) < 7 {
		t.Fatalf("%d example configs (%v)", len(files), err)
	}
	for _, f := range files {
		if _, err := config.Load(f); err != nil {
			t.Error(err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want os.ErrNotExist", err)
	}
}
