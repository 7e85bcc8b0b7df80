package profile

// Profile is per-column statistics of a table. Computed on the training
// split, it is saved in the model bundle as the baseline that the drift
// monitor compares live traffic with: numeric columns keep quantiles (the
// monitor's PSI bins) and a histogram; categorical columns keep the
// frequency of every category up to a limit, and the share of the rest.
type Profile struct {
	Rows    int64           `json:"rows"`
	Columns []ColumnProfile `json:"columns"`
}

// ColumnProfile is one column's statistics. Exactly one of Numeric and
// Categorical is set.
type ColumnProfile struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Count is the number of non-null values; Nulls the number of nulls.
	Count int64 `json:"count"`
	Nulls int64 `json:"nulls"`

	Numeric     *NumericProfile     `json:"numeric,omitempty"`
	Categorical *CategoricalProfile `json:"categorical,omitempty"`
}

// NumericProfile summarises an int64, float64 or timestamp column.
// Timestamps are profiled as seconds since 1970-01-01 (wall clock), and
// MinTime and MaxTime give the range as text.
type NumericProfile struct {
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"` // sample standard deviation
	// NaN counts NaN and ±Inf values, which the other statistics skip.
	NaN int64 `json:"nan,omitempty"`
	// Quantiles are exact, at the probabilities in QuantileProbs.
	Quantiles []Quantile `json:"quantiles"`
	Histogram Histogram  `json:"histogram"`
	Distinct  int64      `json:"distinct"`
	MinTime   string     `json:"min_time,omitempty"`
	MaxTime   string     `json:"max_time,omitempty"`
}

// Quantile is the value at probability P (the smallest value with at
// least P of the data at or below it).
type Quantile struct {
	P     float64 `json:"p"`
	Value float64 `json:"value"`
}

// Histogram counts values in len(Counts) equal-width bins between
// Edges[0] and Edges[len(Edges)-1]; each bin is [lo, hi) except the last,
// which is closed.
type Histogram struct {
	Edges  []float64 `json:"edges"`
	Counts []int64   `json:"counts"`
}

// CategoricalProfile summarises a string or bool column.
type CategoricalProfile struct {
	Distinct int64 `json:"distinct"`
	// Top holds the most frequent categories, most frequent first (ties
	// by value), at most ProfileOptions.MaxCategories of them (package ingest).
	Top []Frequency `json:"top"`
	// OtherCount and OtherShare are the rows of the categories not in Top.
	OtherCount int64   `json:"other_count"`
	OtherShare float64 `json:"other_share"`
}

// Frequency is one category's count and share of the non-null values.
type Frequency struct {
	Value string  `json:"value"`
	Count int64   `json:"count"`
	Share float64 `json:"share"`
}

// QuantileProbs are the probabilities at which Profile records
// quantiles: every 5% plus the 1% tails.
var QuantileProbs = []float64{0, 0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
	0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99, 1}

// Column returns the profile of the named column, or nil.
func (p *Profile) Column(name string) *ColumnProfile {
	for i := range p.Columns {
		if p.Columns[i].Name == name {
			return &p.Columns[i]
		}
	}
	return nil
}
