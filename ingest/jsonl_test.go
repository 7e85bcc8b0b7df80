package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSONKeyOrder: a JSON Lines file's columns are its keys in the
// order they are written, in Load's warnings and messages, on every run
// (not a map's order).
func TestJSONKeyOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	if err := os.WriteFile(path, []byte("{\"id\":1,\"city\":\"x\",\"f\":1,\"e\":2,\"d\":3,\"c\":4,\"b\":5,\"a\":6}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	schema := Schema{Columns: []ColumnSpec{{Name: "id", Type: "int64"}, {Name: "city", Type: "string"}}, AllowExtra: true}
	for range 3 {
		ds, err := Load(context.Background(), Source{Path: path}, schema, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range ds.Warnings {
			got = append(got, w.Column)
		}
		ds.Release()
		if strings.Join(got, "") != "fedcba" {
			t.Fatalf("warnings for columns %q, want f e d c b a", got)
		}
	}
}
