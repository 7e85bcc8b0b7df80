package features

import "fmt"

// Kind says how a model should read a column of a Matrix.
type Kind uint8

const (
	// Numeric columns hold real values. NaN means missing.
	Numeric Kind = iota
	// Categorical columns hold integer codes in [0, Card). Linear models
	// read them as a one-hot block of width Card (a sparse row with one
	// active index), tree models split on them natively. A code is never
	// NaN: unseen and missing values have their own codes (see Column.Unknown).
	Categorical
)

func (k Kind) String() string {
	switch k {
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ColumnInfo describes one output column of a fitted pipeline.
type ColumnInfo struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Card is the number of codes of a Categorical column, 0 otherwise.
	Card int `json:"card,omitempty"`
	// Levels names the codes of a Categorical column, when they have names
	// (len(Levels) == Card). It is for reports and importance tables only.
	Levels []string `json:"levels,omitempty"`
}

// Matrix is the design matrix that trainers consume: column-major, one
// []float64 per output column, all of length Rows.
//
// It is the contract between features and train: features.Pipeline
// produces it, every trainer reads it. Row i of the matrix is the vector
// that Pipeline.TransformRow returns for the same raw input.
type Matrix struct {
	Rows int
	Cols []ColumnInfo
	Data [][]float64 // Data[j][i] is column j of row i
}

// NewMatrix allocates a Rows x len(cols) matrix of zeros.
func NewMatrix(rows int, cols []ColumnInfo) *Matrix {
	m := &Matrix{Rows: rows, Cols: cols, Data: make([][]float64, len(cols))}
	for j := range cols {
		m.Data[j] = make([]float64, rows)
	}
	return m
}

// Row copies row i into dst (grown if needed) and returns it.
func (m *Matrix) Row(i int, dst []float64) []float64 {
	if cap(dst) < len(m.Cols) {
		dst = make([]float64, len(m.Cols))
	}
	dst = dst[:len(m.Cols)]
	for j, col := range m.Data {
		dst[j] = col[i]
	}
	return dst
}

// Slice returns the rows [lo, hi) as a matrix that shares memory with m.
func (m *Matrix) Slice(lo, hi int) *Matrix {
	out := &Matrix{Rows: hi - lo, Cols: m.Cols, Data: make([][]float64, len(m.Data))}
	for j, col := range m.Data {
		out.Data[j] = col[lo:hi]
	}
	return out
}

// Take returns a new matrix holding the rows at idx, in that order.
func (m *Matrix) Take(idx []int) *Matrix {
	out := NewMatrix(len(idx), m.Cols)
	for j, col := range m.Data {
		dst := out.Data[j]
		for k, i := range idx {
			dst[k] = col[i]
		}
	}
	return out
}

// FromRows builds a matrix from row vectors, each of len(cols).
func FromRows(rows [][]float64, cols []ColumnInfo) *Matrix {
	m := NewMatrix(len(rows), cols)
	for i, r := range rows {
		for j := range cols {
			m.Data[j][i] = r[j]
		}
	}
	return m
}
