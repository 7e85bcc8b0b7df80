package ingest_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/ingest"
)

func TestValidate(t *testing.T) {
	cfg := flights(t)
	floatDistance := cfg.Schema
	floatDistance.Columns = append([]ingest.ColumnSpec(nil), cfg.Schema.Columns...)
	floatDistance.Columns[2].Type = "float64"
	nullableDelay := cfg.Schema
	nullableDelay.Columns = append([]ingest.ColumnSpec(nil), cfg.Schema.Columns...)
	nullableDelay.Columns[1].Nullable = true
	fewAirports := cfg.Schema
	fewAirports.Columns = append([]ingest.ColumnSpec(nil), cfg.Schema.Columns...)
	fewAirports.Columns[3].Categories = []string{"ORD", "ATL"}

	tests := []struct {
		name   string
		path   string
		schema ingest.Schema
		// want lists the expected issues as "severity code column row count".
		want []string
		msg  string // substring of the first issue's message
	}{
		{"OK", "../testdata/flights-10k.parquet", cfg.Schema, nil, ""},
		{"ErrNullInNonNullable", "../testdata/bad/null-origin.csv", cfg.Schema,
			[]string{"error null origin 7 1"}, "null in a non-nullable column"},
		{"ErrOutOfRange", "../testdata/bad/out-of-range.csv", cfg.Schema,
			[]string{"error range distance 5 1"}, "value 99999 is above the maximum 6000"},
		// nan-inf.csv: NaN on line 3, +Inf on line 4, -Inf on line 5
		// (rows 2, 3 and 4).
		{"ErrNaNInf", "../testdata/bad/nan-inf.csv", floatDistance,
			[]string{"error nan distance 2 3"}, "NaN or infinite value NaN (3 rows; this is the first)"},
		{"ErrEmpty", "../testdata/bad/header-only.csv", cfg.Schema,
			[]string{"error empty  0 0"}, "the data has no rows"},
		{"ErrLabelAllNull", "../testdata/bad/label-nulls.csv", nullableDelay,
			[]string{"error label delay 0 0"}, `the label "delayed" is computed from this column, which has no values`},
		{"ErrLabelAllNullNonNullable", "../testdata/bad/label-nulls.csv", cfg.Schema,
			[]string{"error label delay 0 0"}, `the label "delayed" is computed from this column, which has no values`},
		// 9,000 rows have an origin other than ORD or ATL:
		//   awk -F, 'NR>1 && $4!="ORD" && $4!="ATL"' testdata/flights-10k.csv | wc -l
		{"WarnNewCategory", "../testdata/flights-10k.csv", fewAirports,
			[]string{"warning category origin 1 9000"}, "is not in the allowed set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := load(t, tt.path, tt.schema)
			if err != nil {
				t.Fatal(err)
			}
			r := ingest.Validate(ds, tt.schema, cfg.Label)
			var got []string
			for _, is := range r.Issues {
				got = append(got, strings.Join([]string{string(is.Severity), is.Code, is.Column, itoa(is.Row), itoa(is.Count)}, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("issues:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			wantErr := false
			for _, w := range tt.want {
				wantErr = wantErr || strings.HasPrefix(w, "error")
			}
			if err := r.Err(); (err != nil) != wantErr || (err != nil && !errors.Is(err, ingest.ErrInvalid)) {
				t.Errorf("Err() = %v, want an ErrInvalid: %v", err, wantErr)
			}
			if tt.msg != "" && (len(r.Issues) == 0 || !strings.Contains(r.Issues[0].Message, tt.msg)) {
				t.Errorf("first issue %+v, want message containing %q", r.Issues, tt.msg)
			}
			for _, is := range r.Issues {
				if is.Row > 0 && is.File != tt.path {
					t.Errorf("issue %+v does not name the file %s", is, tt.path)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
