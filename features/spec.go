package features

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/internal/suggest"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// Spec is the `features:` section of a pipeline config: the transforms to
// fit, in output order. Each reads one raw column (a cross reads two).
type Spec []TransformSpec

// TransformSpec is one transform of a Spec.
type TransformSpec struct {
	// Column is the raw input column (for "time", "numeric",
	// "categorical").
	Column string `yaml:"column,omitempty" json:"column,omitempty"`
	// Columns are the raw input columns of a "cross".
	Columns []string `yaml:"columns,omitempty" json:"columns,omitempty"`
	// Transform is "time", "numeric", "categorical" or "cross".
	Transform string `yaml:"transform" json:"transform"`

	// Parts of a "time" transform: hour, minute_of_day, day_of_week,
	// day_of_month, month, day_of_year, year, quarter (1-4), is_weekend
	// (1 on Saturday and Sunday, else 0). Default: hour, minute_of_day,
	// day_of_week, day_of_month (month is left out by default: a model
	// trained on January–April has never seen June, so a month feature
	// cannot generalise to a later period). hour and day_of_week are
	// categorical (one-hot for linear models), the others numeric. A part
	// that is constant on the training split (hour on date-only data) is
	// reported as a warning (ConstantParts).
	Parts []string `yaml:"parts,omitempty" json:"parts,omitempty"`

	// Log applies log1p before standardising a "numeric" column (for
	// skewed positive values).
	Log bool `yaml:"log,omitempty" json:"log,omitempty"`

	// MinFrequency is the number of training rows a category needs to get
	// its own code in a "categorical" or "cross" transform; rarer ones
	// share code 0 with unseen and missing values. Default 1.
	MinFrequency int `yaml:"min_frequency,omitempty" json:"min_frequency,omitempty"`
	// Codes emits the category codes (default true for "categorical",
	// false for "cross", whose cardinality is in the thousands).
	Codes *bool `yaml:"codes,omitempty" json:"codes,omitempty"`
	// TargetEncoding adds a smoothed mean of the label per category (the
	// positive rate of a binary label, the mean target of a regression),
	// fitted out of fold on the training rows.
	TargetEncoding bool `yaml:"target_encoding,omitempty" json:"target_encoding,omitempty"`
	// Smoothing is the prior's weight in the target encoding, in rows
	// (default 20).
	Smoothing float64 `yaml:"smoothing,omitempty" json:"smoothing,omitempty"`
}

// Transform kinds.
const (
	KindTime        = "time"
	KindNumeric     = "numeric"
	KindCategorical = "categorical"
	KindCross       = "cross"
)

// Time parts.
var timeParts = map[string]Kind{
	"hour": Categorical, "minute_of_day": Numeric, "day_of_week": Categorical,
	"day_of_month": Numeric, "month": Numeric, "day_of_year": Numeric,
	"year": Numeric, "quarter": Numeric, "is_weekend": Numeric,
}

var defaultParts = []string{"hour", "minute_of_day", "day_of_week", "day_of_month"}

// TimeParts lists the parts a time transform can emit, in the order the
// docs give them.
func TimeParts() []string {
	return []string{"hour", "minute_of_day", "day_of_week", "day_of_month", "month", "day_of_year", "year", "quarter", "is_weekend"}
}

// DefaultTimeParts are the parts of a time transform that lists none.
func DefaultTimeParts() []string { return slices.Clone(defaultParts) }

// Kinds lists the transforms of a Spec.
func Kinds() []string { return []string{KindTime, KindNumeric, KindCategorical, KindCross} }

// Check validates the spec against the raw column types (contract type
// names: "int64", "float64", "bool", "string", "timestamp[us]", ...). It
// returns an error naming the offending entry, e.g. "features[2].column".
// numericLabel says whether the label is one number per row (a binary
// class or a regression target), whose mean a target encoding takes.
func (s Spec) Check(types map[string]string, numericLabel bool) error {
	for i, t := range s {
		at := fmt.Sprintf("features[%d]", i)
		switch t.Transform {
		case KindTime, KindNumeric, KindCategorical:
			typ, ok := types[t.Column]
			if !ok {
				return fmt.Errorf("%s.column: %q is not a column of the schema", at, t.Column)
			}
			if len(t.Columns) > 0 {
				return fmt.Errorf("%s.columns: only a cross takes columns", at)
			}
			switch {
			case t.Transform == KindTime && !strings.HasPrefix(typ, "timestamp"):
				return fmt.Errorf("%s.column: %q is %s; a time transform needs a timestamp", at, t.Column, typ)
			case t.Transform == KindNumeric && typ != "int64" && typ != "float64":
				return fmt.Errorf("%s.column: %q is %s; a numeric transform needs int64 or float64", at, t.Column, typ)
			case t.Transform == KindCategorical && typ != "string" && typ != "bool" && typ != "int64":
				return fmt.Errorf("%s.column: %q is %s; a categorical transform needs string, bool or int64", at, t.Column, typ)
			}
		case KindCross:
			if len(t.Columns) != 2 {
				return fmt.Errorf("%s.columns: a cross takes two columns", at)
			}
			for _, c := range t.Columns {
				if typ, ok := types[c]; !ok || (typ != "string" && typ != "int64" && typ != "bool") {
					return fmt.Errorf("%s.columns: %q is not a string, int64 or bool column of the schema", at, c)
				}
			}
		default:
			want := "want time, numeric, categorical or cross"
			if h := suggest.DidYouMean(t.Transform, []string{KindTime, KindNumeric, KindCategorical, KindCross}, nil); h != "" {
				want = h
			}
			return fmt.Errorf("%s.transform: unknown transform %q (%s)", at, t.Transform, want)
		}
		if len(t.Parts) > 0 && t.Transform != KindTime {
			return fmt.Errorf("%s.parts: apply to a time transform, not %s", at, t.Transform)
		}
		seen := map[string]bool{}
		for _, p := range t.Parts {
			if _, ok := timeParts[p]; !ok {
				want := "want " + strings.Join(TimeParts(), ", ")
				if h := suggest.DidYouMean(p, TimeParts(), nil); h != "" {
					want = h
				}
				return fmt.Errorf("%s.parts: %q is not a time part (%s)", at, p, want)
			}
			if seen[p] {
				return fmt.Errorf("%s.parts: %q is listed twice", at, p)
			}
			seen[p] = true
		}
		if t.MinFrequency < 0 || t.Smoothing < 0 {
			return fmt.Errorf("%s: min_frequency and smoothing must be >= 0", at)
		}
		coded := t.Transform == KindCategorical || t.Transform == KindCross
		switch {
		case t.Log && t.Transform != KindNumeric:
			return fmt.Errorf("%s.log: applies to a numeric transform, not %s", at, t.Transform)
		case t.MinFrequency != 0 && !coded:
			return fmt.Errorf("%s.min_frequency: applies to categorical and cross transforms, not %s", at, t.Transform)
		case t.Codes != nil && !coded:
			return fmt.Errorf("%s.codes: applies to categorical and cross transforms, not %s", at, t.Transform)
		case t.Smoothing != 0 && !t.TargetEncoding:
			return fmt.Errorf("%s.smoothing: is the target encoding's prior weight: it needs target_encoding: true", at)
		case t.Codes != nil && !*t.Codes && !t.TargetEncoding:
			return fmt.Errorf("%s.codes: false with no target encoding leaves the transform with no output", at)
		}
		if t.TargetEncoding && !numericLabel {
			return fmt.Errorf("%s.target_encoding: needs a binary or regression label (it is the label's mean per category)", at)
		}
		if t.TargetEncoding && t.Transform != KindCategorical && t.Transform != KindCross {
			return fmt.Errorf("%s.target_encoding: applies to categorical and cross transforms", at)
		}
	}
	return nil
}

// ConstantParts lists the time parts of spec whose value is the same on
// every row of tbl, the training split, as "column: part" (hour and
// minute_of_day on date-only data, year on a single year): such a part
// carries no information, and a config that asks for it most likely
// expects data it does not have. Rows with a missing time are skipped; a
// part of a column with no times at all is not listed. It is
// ConstantPartsFrom over the table's rows.
func ConstantParts(tbl arrow.Table, spec Spec) []string {
	out, err := constantParts(context.Background(), inMemory{tbl}, spec)
	if err != nil {
		// A table's ranges fail only if fn does, and it does not.
		panic(fmt.Sprintf("features: constant parts: %v", err))
	}
	return out
}

// ConstantPartsFrom is ConstantParts over the rows of src, read a range
// at a time in order; it stops reading once every part was seen to vary
// (the usual case: within a few rows). An error reading src is returned.
func ConstantPartsFrom(ctx context.Context, src tables.Source, spec Spec) ([]string, error) {
	return constantParts(ctx, src, spec)
}

// partsSeen is what ConstantParts knows of one time step's parts.
type partsSeen struct {
	column string
	parts  []string
	first  []float64 // each part's value on the first row with a time
	varies []bool
	left   int  // parts not yet seen to vary
	seen   bool // a row with a time was seen
}

// add looks at the times of part's rows.
func (s *partsSeen) add(part arrow.Table) {
	for _, ch := range column(part, s.column).Chunks() {
		a, ok := ch.(*array.Timestamp)
		if !ok {
			continue
		}
		unit := a.DataType().(*arrow.TimestampType).Unit
		for i, v := range a.TimestampValues() {
			if !a.IsValid(i) {
				continue
			}
			us := toMicros(int64(v), unit)
			for k, p := range s.parts {
				if s.varies[k] {
					continue
				}
				x := timeValue(p, us, true)
				if !s.seen {
					s.first[k] = x
				} else if x != s.first[k] {
					s.varies[k] = true
					s.left--
				}
			}
			s.seen = true
			if s.left == 0 {
				return
			}
		}
	}
}

// errAllVary stops constantParts' reading once every part varies.
var errAllVary = errors.New("every part varies")

func constantParts(ctx context.Context, src rangeReader, spec Spec) ([]string, error) {
	var steps []*partsSeen
	for _, t := range spec {
		if t.Transform != KindTime {
			continue
		}
		if j := src.Schema().FieldIndices(t.Column); len(j) != 1 {
			continue
		}
		parts := t.Parts
		if len(parts) == 0 {
			parts = defaultParts
		}
		steps = append(steps, &partsSeen{column: t.Column, parts: parts,
			first: make([]float64, len(parts)), varies: make([]bool, len(parts)), left: len(parts)})
	}
	if len(steps) == 0 {
		return nil, nil
	}
	err := src.Ranges(ctx, fitRows, func(_ int64, part arrow.Table) error {
		done := true
		for _, s := range steps {
			if s.left > 0 {
				s.add(part)
				done = done && s.left == 0
			}
		}
		if done {
			return errAllVary
		}
		return nil
	})
	if err != nil && !errors.Is(err, errAllVary) {
		return nil, fmt.Errorf("constant parts: %w", err)
	}
	var out []string
	for _, s := range steps {
		if !s.seen {
			continue
		}
		for k, p := range s.parts {
			if !s.varies[k] {
				out = append(out, s.column+": "+p)
			}
		}
	}
	return out, nil
}
