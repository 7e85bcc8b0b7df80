package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInit drafts a config for a file the repository has no config for,
// then runs the pipeline on it as drafted: the draft is a working
// config, and its data path is relative to the config's directory.
func TestInit(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "customers.yaml")
	stdout, stderr, code := runCLI(t, "init", "--data", "../../testdata/draft/customers.csv", "--label", "churned", "--out", cfg)
	if code != exitOK || !strings.Contains(stdout, "wrote "+cfg) {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "run", "--config", cfg, "--registry", filepath.Join(dir, "registry"), "--out", filepath.Join(dir, "out"), "--log-level", "error")
	if code != exitOK {
		b, _ := os.ReadFile(cfg)
		t.Fatalf("run of the draft: exit %d\n%s%s\n%s", code, stdout, stderr, b)
	}
	for _, want := range []string{"80 rows", "selected"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("run summary lacks %q:\n%s", want, stdout)
		}
	}

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"exists", []string{"--data", "../../testdata/draft/customers.csv", "--label", "churned", "--out", cfg}, exitUsage, "--out " + cfg + " exists (--force replaces it)"},
		{"no label", []string{"--data", "../../testdata/draft/customers.csv"}, exitUsage, "--label is required"},
		{"no data", []string{"--label", "churned"}, exitUsage, "--data is required"},
		{"misspelt label", []string{"--data", "../../testdata/draft/customers.csv", "--label", "churn"}, exitUsage, `has no column "churn" (did you mean "churned"?)`},
		{"kind", []string{"--data", "../../testdata/draft/customers.csv", "--label", "churned", "--kind", "ordinal"}, exitUsage, `unknown kind "ordinal"`},
		{"missing file", []string{"--data", "../../testdata/draft/none.csv", "--label", "x"}, exitNoData, "no input files"},
		{"bad file", []string{"--data", "../../testdata/ingest/bad/utf16.csv", "--label", "x"}, exitInvalid, "UTF-16"},
		{"bad row", []string{"--data", "../../testdata/ingest/bad/ragged.tsv", "--label", "weather"}, exitInvalid, "ragged.tsv: line 4: the row has 5 fields, the header has 6"},
		{"sheet of a csv", []string{"--data", "../../testdata/draft/customers.csv", "--label", "churned", "--sheet", "s"}, exitUsage, "--sheet applies to an Excel workbook"},
		{"no such sheet", []string{"--data", "../../testdata/ingest/weather.xlsx", "--label", "weather", "--sheet", "Sheet1"}, exitInvalid, `no worksheet "Sheet1"; the workbook has "weather", "notes"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer // execute prints the error line
			code := execute(context.Background(), append([]string{"init"}, c.args...), &stdout, &stderr)
			if code != c.code || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("exit %d, want %d with %q\n%s%s", code, c.code, c.want, &stdout, &stderr)
			}
		})
	}
}
