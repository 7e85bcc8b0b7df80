package evaluate

// Explanations summarises a model's explanations (package explain) on a
// sample of the evaluated rows: the global importance of each raw input,
// the mean magnitude of its contributions, and the points of the summary
// plot, each sampled row's value of the input against its contribution.
// The pipeline's evaluate stage fills it for a model that can explain
// itself; it is nil otherwise.
type Explanations struct {
	// Method is "tree_shap" (gbdt) or "linear_shap" (logreg).
	Method string `json:"method"`
	// Margin says what the contributions add up to with the base value.
	Margin string `json:"margin"`
	// Rows is the number of rows explained: a seeded random sample of
	// the Of evaluated rows, whose indices (0-based, increasing) are
	// Sample.
	Rows   int   `json:"rows"`
	Of     int   `json:"of"`
	Sample []int `json:"sample"`
	// Base is each output's base value.
	Base []float64 `json:"base"`
	// Importance lists the inputs, largest mean |contribution| first.
	Importance []InputImportance `json:"importance"`
	// Inputs holds the summary plot's points of each input, in the order
	// of Importance: those of every Step-th sampled row (Sample[0],
	// Sample[Step], ...), at most a few hundred.
	Inputs []InputPoints `json:"inputs"`
	Step   int           `json:"step"`
}

// InputImportance is one raw input's global importance.
type InputImportance struct {
	Input string `json:"input"`
	// MeanAbs is the mean over the explained rows of the magnitude of
	// the input's contribution (for a K-class model, of the sum over the
	// classes of the magnitudes), in units of the margin.
	MeanAbs float64 `json:"mean_abs"`
	// Share is MeanAbs over the sum of every input's.
	Share float64 `json:"share"`
}

// InputPoints are the summary plot's points of one input: for each
// explained row, its value and its contribution (to the margin of the
// predicted class, for a K-class model), rounded to 4 significant
// digits. A row whose number or time is missing has no point.
type InputPoints struct {
	Input string `json:"input"`
	// Kind is "number" (Values are the input's values), "time" (Values
	// are the hour of the day, 0 to 24) or "category" (Categories are
	// the values, "" when missing).
	Kind          string    `json:"kind"`
	Values        []float64 `json:"values,omitempty"`
	Categories    []string  `json:"categories,omitempty"`
	Contributions []float64 `json:"contributions"`
}
