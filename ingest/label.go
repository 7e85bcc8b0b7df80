package ingest

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Labels are the training targets derived from a table by a LabelSpec.
type Labels struct {
	// Classes names the classes; Y[i] indexes it. A binary label has the
	// classes "0" and "1" (1 is the positive rule holding).
	Classes []string
	// Y is the class of each row, or -1 where the source value is null.
	// It is nil for a regression.
	Y []int32
	// Values is the target of each row of a regression (NaN where the
	// source value is null); nil for a classification.
	Values []float64
}

// Len is the number of rows.
func (l *Labels) Len() int {
	if l.Values != nil {
		return len(l.Values)
	}
	return len(l.Y)
}

// Rate returns the share of labelled rows in class k.
func (l *Labels) Rate(k int32) float64 {
	var n, hit int
	for _, y := range l.Y {
		if y >= 0 {
			n++
			if y == k {
				hit++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hit) / float64(n)
}

var labelRule = regexp.MustCompile(`^\s*(>=|<=|==|!=|>|<)\s*(.*?)\s*$`)

// ParseRule reads a binary label's positive rule: an operator (> >= < <=
// == !=) and a value ("> 15", "== yes"), or a bare value, which means
// equality ("rain" is "== rain").
func ParseRule(rule string) (op, value string, err error) {
	if m := labelRule.FindStringSubmatch(rule); m != nil {
		if m[2] == "" {
			return "", "", fmt.Errorf("rule %q has an operator but no value", rule)
		}
		return m[1], m[2], nil
	}
	v := strings.TrimSpace(rule)
	if v == "" {
		return "", "", fmt.Errorf("the rule is empty")
	}
	return "==", v, nil
}

// Derive computes the labels of tbl. A binary label applies the Positive
// rule ("> 15") to the column; a multiclass label takes the column's
// distinct values, sorted, as the classes; a regression takes the
// column's values.
func (l LabelSpec) Derive(tbl arrow.Table) (*Labels, error) {
	return l.DeriveWith(tbl, nil)
}

// DeriveWith is Derive with the classes of a multiclass label fixed in
// advance (those of the training split), so that every split uses the
// same class indices; a value outside them gets -1. classes is ignored
// for a binary label or a regression, and nil means "the table's own
// classes".
func (l LabelSpec) DeriveWith(tbl arrow.Table, classes []string) (*Labels, error) {
	j := tbl.Schema().FieldIndices(l.Column)
	if len(j) != 1 {
		return nil, fmt.Errorf("label: column %q is not in the data", l.Column)
	}
	col := tbl.Column(j[0]).Data()
	if l.Regression() {
		return l.target(col)
	}
	out := &Labels{Y: make([]int32, 0, col.Len())}
	if l.Kind == "multiclass" {
		return out, l.multiclass(col, out, classes)
	}
	op, arg, err := ParseRule(l.Positive)
	if err != nil {
		return nil, fmt.Errorf("label: %w", err)
	}
	out.Classes = []string{"0", "1"}
	cmp := func(c int) bool {
		switch op {
		case ">":
			return c > 0
		case ">=":
			return c >= 0
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case "==":
			return c == 0
		}
		return c != 0
	}
	var num float64
	if col.DataType().ID() == arrow.INT64 || col.DataType().ID() == arrow.FLOAT64 {
		if num, err = strconv.ParseFloat(arg, 64); err != nil {
			return nil, fmt.Errorf("label: %q is not a number", arg)
		}
	}
	for _, chunk := range col.Chunks() {
		for i := 0; i < chunk.Len(); i++ {
			if chunk.IsNull(i) {
				out.Y = append(out.Y, -1)
				continue
			}
			var c int
			switch a := chunk.(type) {
			case *array.Int64:
				c = compareFloat(float64(a.Value(i)), num)
			case *array.Float64:
				c = compareFloat(a.Value(i), num)
			case *array.String:
				c = strings.Compare(a.Value(i), arg)
			case *array.Boolean:
				c = strings.Compare(strconv.FormatBool(a.Value(i)), arg)
			default:
				return nil, fmt.Errorf("label: column %q is %s; a binary label needs a number, string or bool", l.Column, chunk.DataType())
			}
			if cmp(c) {
				out.Y = append(out.Y, 1)
			} else {
				out.Y = append(out.Y, 0)
			}
		}
	}
	return out, nil
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (l LabelSpec) multiclass(col *arrow.Chunked, out *Labels, classes []string) error {
	str := make([]string, 0, col.Len())
	set := map[string]bool{}
	for _, chunk := range col.Chunks() {
		for i := 0; i < chunk.Len(); i++ {
			if chunk.IsNull(i) {
				str = append(str, "\x00null")
				continue
			}
			s := chunk.ValueStr(i)
			set[s] = true
			str = append(str, s)
		}
	}
	if classes != nil {
		out.Classes = classes
	} else {
		for s := range set {
			out.Classes = append(out.Classes, s)
		}
		sort.Strings(out.Classes)
	}
	index := make(map[string]int32, len(out.Classes))
	for k, c := range out.Classes {
		index[c] = int32(k)
	}
	for _, s := range str {
		if k, ok := index[s]; ok {
			out.Y = append(out.Y, k)
		} else {
			out.Y = append(out.Y, -1)
		}
	}
	return nil
}

// Label policies for rows whose label column is null (LabelSpec.Missing).
const (
	MissingError = "error"
	MissingDrop  = "drop"
)

// Keep tells which rows of tbl (a whole table, or one chunk of a scan)
// stay under the label's policy for a null label: under label.missing:
// drop, the rows whose label column is null leave (keep[i] is false);
// under any other policy every row stays. It returns nil when every row
// stays. A streaming reader drops the unlabelled rows of each chunk with
// it; DropUnlabelled drops those of a loaded table.
func (l LabelSpec) Keep(tbl arrow.Table) ([]bool, error) {
	keep, err := l.keep(tbl)
	if err != nil {
		return nil, fmt.Errorf("label keep: %w", err)
	}
	return keep, nil
}

func (l LabelSpec) keep(tbl arrow.Table) ([]bool, error) {
	if l.Missing != MissingDrop {
		return nil, nil
	}
	j := tbl.Schema().FieldIndices(l.Column)
	if len(j) != 1 {
		return nil, fmt.Errorf("column %q is not in the data", l.Column)
	}
	col := tbl.Column(j[0]).Data()
	if col.NullN() == 0 {
		return nil, nil
	}
	keep := make([]bool, 0, tbl.NumRows())
	for _, ch := range col.Chunks() {
		for i := 0; i < ch.Len(); i++ {
			keep = append(keep, ch.IsValid(i))
		}
	}
	return keep, nil
}

// DropUnlabelled leaves out the rows of ds whose label column is null,
// when the label's policy is "drop", and returns how many it dropped. The
// parts' provenance follows, so that later issues still name the file
// row. With any other policy it does nothing. The rows it drops are
// those label.Keep leaves out.
func DropUnlabelled(ctx context.Context, ds *Dataset, label LabelSpec) (int64, error) {
	keep, err := label.keep(ds.Table)
	if err != nil {
		return 0, fmt.Errorf("drop unlabelled: %w", err)
	}
	if keep == nil {
		return 0, nil
	}
	assign := keepAssign(keep)
	kept, err := gather(ctx, ds.Table, assign, 1)
	if err != nil {
		return 0, fmt.Errorf("drop unlabelled: %w", err)
	}
	// Each part keeps the file rows of its kept table rows.
	var row, offset int64
	for k := range ds.Parts {
		p := &ds.Parts[k]
		var rows []int64
		for r := int64(0); r < p.Rows; r++ {
			if assign[row+r] == 0 {
				fileRow := r
				if p.kept != nil {
					fileRow = p.kept[r]
				}
				rows = append(rows, fileRow)
			}
		}
		row += p.Rows
		if int64(len(rows)) != p.Rows {
			p.kept = rows
		}
		p.Offset, p.Rows = offset, int64(len(rows))
		offset += p.Rows
	}
	dropped := ds.Table.NumRows() - kept[0].NumRows()
	ds.Table.Release()
	ds.Table = kept[0]
	return dropped, nil
}

// keepAssign turns a keep mask into gather's assignment: 0 for a row
// kept, -1 for one left out.
func keepAssign(keep []bool) []int8 {
	assign := make([]int8, len(keep))
	for i, k := range keep {
		if !k {
			assign[i] = -1
		}
	}
	return assign
}
