package ingest

import "time"

// Source says where a dataset comes from. It is the `data:` section of a
// pipeline config. Relative paths are resolved by the caller (the config
// loader resolves them against the config file's directory).
type Source struct {
	// Path is a file, a glob ("data/daily/*.parquet") or a directory whose
	// files are partitions of one dataset (read in name order).
	Path string `yaml:"path" json:"path"`
	// Format is "auto" (by file extension; the default), "parquet",
	// "arrow" (IPC file), "arrows" (IPC stream), "csv", "tsv" (CSV with
	// a tab delimiter), "jsonl" (JSON Lines) or "json" (a JSON array of
	// objects) or "xlsx" (an Excel workbook). CSV, TSV, JSON Lines and JSON files may be gzip- or
	// zstd-compressed (".csv.gz", ".jsonl.zst"): compression is detected
	// from the file's first bytes, whatever its name.
	Format string `yaml:"format,omitempty" json:"format,omitempty"`
	// Delimiter separates the fields of a CSV file: one byte, such as
	// ";", "|", " " or "\t" (default "," and a tab for TSV).
	Delimiter string `yaml:"delimiter,omitempty" json:"delimiter,omitempty"`
	// Header says whether the first line of a CSV file (after SkipRows)
	// names the columns (default true). When false, the fields of each
	// row are the schema's columns, in schema order.
	Header *bool `yaml:"header,omitempty" json:"header,omitempty"`
	// SkipRows is how many lines at the top of a CSV file come before
	// the header (or the first row): a title, or a line of counts such as
	// scikit-learn's "569,30,malignant,benign" (default 0).
	SkipRows int `yaml:"skip_rows,omitempty" json:"skip_rows,omitempty"`
	// Sheet is the worksheet of an Excel workbook to read (default the
	// workbook's first). A worksheet is read as CSV text: Header and
	// SkipRows apply to its rows (xlsx.go).
	Sheet string `yaml:"sheet,omitempty" json:"sheet,omitempty"`
	// Window keeps only the rows whose time column falls inside it.
	Window Window `yaml:"window,omitempty" json:"window,omitzero"`
	// ConfigDir is the directory of the config file that relative paths
	// were resolved against (set by the config loader, not a YAML key);
	// an error about a path that does not resolve names it.
	ConfigDir string `yaml:"-" json:"-"`
}

// Window is a half-open time interval [Since, Until) over Column. Zero
// fields are unbounded. LastDays, when set, means "the LastDays days
// before Until" (Until defaults to the time the load starts, and Since
// must then be zero); it is how a scheduled run trains on a trailing
// window of a directory of daily files.
type Window struct {
	Column   string    `yaml:"column,omitempty" json:"column,omitempty"`
	Since    time.Time `yaml:"since,omitempty" json:"since,omitzero"`
	Until    time.Time `yaml:"until,omitempty" json:"until,omitzero"`
	LastDays int       `yaml:"last_days,omitempty" json:"last_days,omitempty"`
}

// Schema is the contract a dataset must meet: the `schema:` section of a
// pipeline config.
type Schema struct {
	Columns []ColumnSpec `yaml:"columns" json:"columns"`
	// AllowExtra keeps columns the schema does not name (they are an error
	// otherwise).
	AllowExtra bool `yaml:"allow_extra_columns,omitempty" json:"allow_extra_columns,omitempty"`
}

// ColumnSpec is one column of the contract.
type ColumnSpec struct {
	Name string `yaml:"name" json:"name"`
	// Type is an Arrow type name: "int64", "float64", "bool", "string",
	// "timestamp[us]" (naive local time; "timestamp[ms]", "timestamp[s]"
	// and "timestamp[ns]" work too).
	Type     string `yaml:"type" json:"type"`
	Nullable bool   `yaml:"nullable,omitempty" json:"nullable,omitempty"`
	// Min and Max bound numeric values (inclusive). Nil means unbounded.
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	// Categories, when set, is the allowed set of a string column. A value
	// outside it is a validation warning (a new category), not an error.
	Categories []string `yaml:"categories,omitempty" json:"categories,omitempty"`
	// Format says how a timestamp column is written in a text source
	// (CSV, TSV, JSON Lines, JSON): a strftime pattern such as
	// "%b %d %Y" (for "Jun 12 1998"; ParseFormat lists the directives),
	// or "epoch_s" / "epoch_ms" for seconds / milliseconds since
	// 1970-01-01 UTC. Empty: ISO 8601 (2001-06-15, 2001-06-15 08:30,
	// 2001-06-15T08:30:00, with a fraction, "Z" or an offset allowed).
	Format string `yaml:"format,omitempty" json:"format,omitempty"`
	// Timezone is an IANA zone name ("Europe/Paris", "UTC") for a
	// timestamp column: values that name an instant (with "Z" or an
	// offset, epoch numbers, or a Parquet or Arrow timestamp with a zone)
	// are converted to its wall-clock time; values without an offset are
	// taken as already in it. Empty: naive time, values keep the
	// wall-clock time they are written with (the offset is dropped; a
	// zoned Parquet or Arrow column is read in its own zone), and epoch
	// numbers are read as UTC.
	Timezone string `yaml:"timezone,omitempty" json:"timezone,omitempty"`
}

// LabelSpec says how the training target is derived from a column: the
// `label:` section of a pipeline config.
type LabelSpec struct {
	// Name of the target ("delayed").
	Name string `yaml:"name" json:"name"`
	// Column the target is computed from ("delay").
	Column string `yaml:"column" json:"column"`
	// Kind is "binary" (the default), "multiclass" or "regression" (the
	// column's value itself, an int64 or float64 column, is the target).
	Kind string `yaml:"kind,omitempty" json:"kind,omitempty"`
	// Positive is the rule for a binary label over a numeric column, as an
	// operator and a number: "> 15", ">= 1", "== 1", "< 0". For a string or
	// bool column it can also be a value: "== yes", "== true". A bare
	// value means equality: "rain" is "== rain", "1" is "== 1".
	Positive string `yaml:"positive,omitempty" json:"positive,omitempty"`
	// Missing is what a row whose label column is null becomes: "error"
	// (the default; validation fails and names the first such row) or
	// "drop" (the row is left out before the split, and the count is
	// reported).
	Missing string `yaml:"missing,omitempty" json:"missing,omitempty"`
	// Transform, for a regression, is "log1p" to fit the models on
	// log(1+y) (a target with a long right tail: prices, counts) while
	// metrics and predictions stay on the original scale; empty means
	// none. Every target must then be above -1.
	Transform string `yaml:"transform,omitempty" json:"transform,omitempty"`
}

// Regression reports whether the label is a number to predict rather than
// a class.
func (l LabelSpec) Regression() bool { return l.Kind == KindRegression }

// KindRegression is LabelSpec.Kind for a numeric target.
const KindRegression = "regression"

// TransformLog1p is LabelSpec.Transform for fitting on log(1+y).
const TransformLog1p = "log1p"

// SplitSpec says how rows are divided into train, validation and test:
// the `split:` section of a pipeline config.
type SplitSpec struct {
	// Method is "time" (the default; no shuffling, for forecasting) or
	// "random" (seeded, for data with no time order).
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	// Column is the time column for Method "time".
	Column string `yaml:"column,omitempty" json:"column,omitempty"`
	// For Method "time": train is t < ValidFrom, validation is
	// ValidFrom <= t < TestFrom, test is TestFrom <= t (< TestUntil if set).
	ValidFrom time.Time `yaml:"validation_from,omitempty" json:"validation_from,omitzero"`
	TestFrom  time.Time `yaml:"test_from,omitempty" json:"test_from,omitzero"`
	TestUntil time.Time `yaml:"test_until,omitempty" json:"test_until,omitzero"`
	// For Method "time" on a moving window (a schedule, a backtest):
	// instead of fixed dates, the last TestDays days of the data are test
	// and the ValidDays days before them validation. The days are counted
	// back from midnight after the data's last time.
	ValidDays int `yaml:"validation_days,omitempty" json:"validation_days,omitempty"`
	TestDays  int `yaml:"test_days,omitempty" json:"test_days,omitempty"`
	// For Method "random": the shares of validation and test rows, and the seed.
	ValidFraction float64 `yaml:"validation_fraction,omitempty" json:"validation_fraction,omitempty"`
	TestFraction  float64 `yaml:"test_fraction,omitempty" json:"test_fraction,omitempty"`
	Seed          uint64  `yaml:"seed,omitempty" json:"seed,omitempty"`
	// Group, for Method "random", names a column whose rows belong
	// together (a patient, a customer, a household): rows with the same
	// value go to the same split, so that no group is both learned from
	// and tested on. The shares are then of groups, not rows.
	Group string `yaml:"group,omitempty" json:"group,omitempty"`
}
