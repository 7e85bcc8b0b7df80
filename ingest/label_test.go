package ingest_test

import (
	"context"
	"testing"

	"github.com/mlpipe/mlpipe/ingest"
)

func TestParseRule(t *testing.T) {
	for _, tc := range []struct {
		rule, op, value, err string
	}{
		{"> 15", ">", "15", ""},
		{">=1", ">=", "1", ""},
		{"== light rain", "==", "light rain", ""},
		{"rain", "==", "rain", ""},
		{" 0 ", "==", "0", ""},
		{"!= no", "!=", "no", ""},
		{">", "", "", `rule ">" has an operator but no value`},
		{"  ", "", "", "the rule is empty"},
	} {
		op, value, err := ingest.ParseRule(tc.rule)
		if op != tc.op || value != tc.value || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("ParseRule(%q) = %q, %q, %v; want %q, %q, %s", tc.rule, op, value, err, tc.op, tc.value, tc.err)
		}
	}
}

// TestLabelMissing: rows 3 and 7 of labels-missing.csv (lines 4 and 8)
// have no weather. The default policy fails validation naming the first;
// "drop" warns, counts them, and DropUnlabelled leaves them out, after
// which rows still map to their file rows.
func TestLabelMissing(t *testing.T) {
	const path = "../testdata/ingest/labels-missing.csv"
	schema := weatherSchema // weather is not nullable: the policy decides
	rain := ingest.LabelSpec{Name: "rain", Column: "weather", Positive: "rain"}

	ds, err := loadSource(t, ingest.Source{Path: path}, schema)
	if err != nil {
		t.Fatal(err)
	}
	r := ingest.Validate(ds, schema, rain)
	want := path + `: row 3, column "weather": no label (the column is null): set label.missing: drop to leave such rows out (2 rows; this is the first)`
	if r.OK() || len(r.Issues) != 1 || r.Issues[0].String() != want || r.Issues[0].Code != ingest.CodeLabel {
		t.Errorf("policy error: issues %v, want one error:\n  %s", r.Issues, want)
	}

	rain.Missing = ingest.MissingDrop
	r = ingest.Validate(ds, schema, rain)
	want = path + `: row 3, column "weather": no label (the column is null): the row is dropped (label.missing: drop); 2 of 10 rows (2 rows; this is the first)`
	if !r.OK() || r.Dropped != 2 || len(r.Issues) != 1 || r.Issues[0].String() != want || r.Issues[0].Severity != ingest.Warning {
		t.Errorf("policy drop: dropped %d, issues %v, want 2 and one warning:\n  %s", r.Dropped, r.Issues, want)
	}
	n, err := ingest.DropUnlabelled(context.Background(), ds, rain)
	if err != nil || n != 2 || ds.Table.NumRows() != 8 {
		t.Fatalf("DropUnlabelled = %d, %v, with %d rows left; want 2 dropped, 8 left", n, err, ds.Table.NumRows())
	}
	// Table row 5 (0-based) is file row 8 (1-based): rows 3 and 7 are gone.
	if _, fileRow, _ := ds.Locate(5); fileRow != 8 {
		t.Errorf("table row 5 is file row %d, want 8", fileRow)
	}
	labels, err := rain.Derive(ds.Table)
	if err != nil {
		t.Fatal(err)
	}
	// 6 of the 8 labelled rows are rain: awk -F, 'NR>1 && $6=="rain"' labels-missing.csv | wc -l
	if got := labels.Rate(1); got != 6.0/8 {
		t.Errorf("rain rate %g, want 6/8", got)
	}
	if n, err := ingest.DropUnlabelled(context.Background(), ds, rain); n != 0 || err != nil {
		t.Errorf("a second DropUnlabelled = %d, %v; want 0", n, err)
	}
}
