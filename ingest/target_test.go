package ingest_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/ingest"
)

// TestValidateTarget checks the issues of a regression's label column:
// each names the column and (for a value) its first row.
func TestValidateTarget(t *testing.T) {
	ptr := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		csv  string // columns x, y
		typ  string // the type of y
		max  *float64
		tf   string // label.transform
		want []string
		msg  string
	}{
		{"OK", "x,y\n1,2.5\n2,-3\n3,0\n", "float64", nil, "", nil, ""},
		{"OKLog1p", "x,y\n1,2.5\n2,-0.5\n3,0\n", "float64", nil, "log1p", nil, ""},
		{"ErrConstant", "x,y\n1,7\n2,7\n3,7\n", "int64", nil, "", []string{"error label y 0 0"}, `the regression target "y" is constant (every row is 7): there is nothing to learn`},
		{"ErrNaN", "x,y\n1,2\n2,NaN\n3,Inf\n", "float64", nil, "", []string{"error nan y 2 2"}, "NaN or infinite value NaN (2 rows; this is the first)"},
		{"ErrOutOfRange", "x,y\n1,2\n2,3\n3,400\n", "int64", ptr(100), "", []string{"error range y 3 1"}, "value 400 is above the maximum 100"},
		{"ErrNull", "x,y\n1,2\n2,\n3,4\n4,\n", "float64", nil, "", []string{"error label y 2 2"}, "no label (the column is null): set label.missing: drop to leave such rows out (2 rows; this is the first)"},
		{"OKLarge", "x,y\n1,1e150\n2,-1e150\n3,0\n", "float64", nil, "", nil, ""},
		{"ErrHuge", "x,y\n1,2\n2,-1.7e308\n3,1e151\n", "float64", nil, "", []string{"error label y 2 2"}, "target -1.7e+308 is beyond ±1e+150: the squared errors that training and the metrics sum would overflow; rescale the target (2 rows; this is the first)"},
		{"ErrLog1pDomain", "x,y\n1,2\n2,0\n3,-1\n4,-5\n", "float64", nil, "log1p", []string{"error label y 3 2"}, "target -1 is at or below -1: label.transform log1p needs every target above -1 (2 rows; this is the first)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data.csv")
			if err := os.WriteFile(path, []byte(tt.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			schema := ingest.Schema{Columns: []ingest.ColumnSpec{{Name: "x", Type: "int64"}, {Name: "y", Type: tt.typ, Max: tt.max, Nullable: true}}}
			label := ingest.LabelSpec{Name: "y", Column: "y", Kind: ingest.KindRegression, Transform: tt.tf}
			ds, err := load(t, path, schema)
			if err != nil {
				t.Fatal(err)
			}
			r := ingest.Validate(ds, schema, label)
			var got []string
			for _, is := range r.Issues {
				got = append(got, strings.Join([]string{string(is.Severity), is.Code, is.Column, itoa(is.Row), itoa(is.Count)}, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("issues:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if tt.msg != "" && (len(r.Issues) == 0 || r.Issues[0].Message != tt.msg) {
				t.Errorf("first issue %+v, want message %q", r.Issues, tt.msg)
			}
			if len(tt.want) > 0 {
				return
			}
			l, err := label.Derive(ds.Table)
			if err != nil {
				t.Fatal(err)
			}
			if l.Y != nil || l.Len() != 3 {
				t.Errorf("Derive: %d values, Y %v; want 3 values and no classes", l.Len(), l.Y)
			}
		})
	}
}

func TestDeriveTarget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, []byte("s,y\na,1\nb,\nc,-2.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	schema := ingest.Schema{Columns: []ingest.ColumnSpec{{Name: "s", Type: "string"}, {Name: "y", Type: "float64", Nullable: true}}}
	ds, err := load(t, path, schema)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ingest.LabelSpec{Column: "y", Kind: ingest.KindRegression}.Derive(ds.Table)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Values) != 3 || l.Values[0] != 1 || !math.IsNaN(l.Values[1]) || l.Values[2] != -2.5 {
		t.Errorf("Values = %v, want [1 NaN -2.5]", l.Values)
	}
	_, err = ingest.LabelSpec{Column: "s", Kind: ingest.KindRegression}.Derive(ds.Table)
	if err == nil || !strings.Contains(err.Error(), `column "s" is utf8; a regression target must be a number`) {
		t.Errorf("Derive of a string column: %v", err)
	}
}
