package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPredict drives `mlpipe predict` with a model registered by `mlpipe
// run` on the fixture: a registry reference resolves, the summary counts
// the rows, a bad row stops the run with exit 3 naming its file, line
// and column, --on-error skip writes it to the rejects file, and bad
// flags are usage errors.
func TestPredict(t *testing.T) {
	reg := t.TempDir()
	if _, stderr, code := runCLI(t, "run", "--config", fixtureConfig, "--out", "", "--registry", reg, "--models", "logreg", "--log-level", "error"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("date,delay,distance,origin,destination\n"+
		"2001-06-01T08:00:00,5,300,ORD,SFO\n"+
		"2001-06-01T09:00:00,5,-4,ORD,SFO\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scored.parquet")
	model := []string{"predict", "--model", "flights-delay@production", "--registry", reg, "--log-level", "error"}
	tests := []struct {
		name   string
		args   []string
		code   int
		output string // substring of stdout, or of the error when the exit is not 0
	}{
		{"registry", []string{"--data", "../../testdata/flights-10k.parquet", "--out", out, "--json"}, exitOK, `"scored": 10000`},
		{"version", []string{"--data", "../../testdata/flights-10k.csv", "--out", out, "--explain", "--top", "2"}, exitOK, "flights-delay v1 (logreg)"},
		{"bad row", []string{"--data", bad, "--out", out}, exitInvalid, bad + `: line 3, column "distance": -4 is negative`},
		{"skip", []string{"--data", bad, "--out", out, "--on-error", "skip"}, exitOK, "rejected   1 row, written with the reason to " + out + ".rejects.jsonl"},
		{"no out", []string{"--data", bad}, exitUsage, "--model, --data and --out are required"},
		{"on-error", []string{"--data", bad, "--out", out, "--on-error", "ignore"}, exitUsage, `--on-error "ignore"`},
		{"top", []string{"--data", bad, "--out", out, "--top", "3"}, exitUsage, "--top without --explain"},
		{"time format", []string{"--data", bad, "--out", out, "--time-format", "date"}, exitUsage, "want COL=VALUE"},
		{"time column", []string{"--data", bad, "--out", out, "--time-format", "when=%Y"}, exitUsage, `column "when": no such column`},
		{"delimiter", []string{"--data", bad, "--out", out, "--delimiter", ";;"}, exitUsage, "--delimiter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append(model, tc.args...), &stdout, &stderr)
			code, got := exitCode(err), stdout.String()
			if err != nil {
				got = err.Error()
			}
			if code != tc.code || !strings.Contains(got, tc.output) {
				t.Fatalf("exit %d, want %d and %q\ngot:\n%s\nstderr:\n%s", code, tc.code, tc.output, got, &stderr)
			}
		})
	}
	data, err := os.ReadFile(out + ".rejects.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var rej map[string]any
	if err := json.Unmarshal(data, &rej); err != nil || rej["line"] != 3.0 || rej["column"] != "distance" {
		t.Errorf("rejects file %s: %v", data, err)
	}
}
