// Command bodies writes the request bodies of the serving benchmark
// (scripts/bench/serve.sh) from real rows of the flights data: the last
// rows of the file (June 2001, the test split), never made up.
//
//	go run ./scripts/bench/bodies -data testdata/flights-10k.parquet -n 1000 -o DIR
//
// writes DIR/single.json (one instance, the native API's single form),
// DIR/batch.json ({"instances": [...]} of n rows) and DIR/batch-oip.json
// (the same n rows as an Open Inference Protocol request: one columnar
// input per raw feature).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
)

func main() {
	cfgPath := flag.String("config", "configs/flights.yaml", "pipeline config (for the schema)")
	data := flag.String("data", "testdata/flights-10k.parquet", "data file to take rows from")
	n := flag.Int("n", 1000, "rows in the batch bodies")
	out := flag.String("o", ".", "output directory")
	flag.Parse()
	if err := run(*cfgPath, *data, *n, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bodies:", err)
		os.Exit(1)
	}
}

type instance struct {
	Date        string `json:"date"`
	Distance    int64  `json:"distance"`
	Origin      string `json:"origin"`
	Destination string `json:"destination"`
}

type tensor struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
	Data     any    `json:"data"`
}

func run(cfgPath, data string, n int, out string) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	cfg.Data.Path = data
	ds, err := ingest.Load(context.Background(), cfg.Data, cfg.Schema, nil)
	if err != nil {
		return err
	}
	defer ds.Release()
	rows := int(ds.Table.NumRows())
	if rows < n {
		return fmt.Errorf("%s has %d rows, fewer than -n %d", data, rows, n)
	}
	tbl := ds.Table
	dates, dist := column[*array.Timestamp](tbl, "date"), column[*array.Int64](tbl, "distance")
	orig, dest := column[*array.String](tbl, "origin"), column[*array.String](tbl, "destination")
	var insts []instance
	for i := rows - n; i < rows; i++ {
		insts = append(insts, instance{
			Date:     time.UnixMicro(int64(dates[i])).UTC().Format("2006-01-02T15:04:05"),
			Distance: dist[i], Origin: orig[i], Destination: dest[i],
		})
	}
	oip := map[string]any{"inputs": []tensor{
		{"date", "BYTES", []int{n}, pluck(insts, func(x instance) any { return x.Date })},
		{"distance", "INT64", []int{n}, pluck(insts, func(x instance) any { return x.Distance })},
		{"origin", "BYTES", []int{n}, pluck(insts, func(x instance) any { return x.Origin })},
		{"destination", "BYTES", []int{n}, pluck(insts, func(x instance) any { return x.Destination })},
	}}
	for name, v := range map[string]any{
		"single.json":    insts[0],
		"batch.json":     map[string]any{"instances": insts},
		"batch-oip.json": oip,
	} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// column returns a column's values across chunks.
func column[A interface {
	arrow.Array
	Value(int) V
}, V any](tbl arrow.Table, name string) []V {
	j := tbl.Schema().FieldIndices(name)[0]
	var out []V
	for _, ch := range tbl.Column(j).Data().Chunks() {
		a := ch.(A)
		for i := range a.Len() {
			out = append(out, a.Value(i))
		}
	}
	return out
}

func pluck(xs []instance, f func(instance) any) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}
