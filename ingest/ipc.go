package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
)

// readIPCFile reads an Arrow IPC file (random-access format). Each
// record batch becomes one chunk, so an error names its batch.
func readIPCFile(ctx context.Context, path string, c *contract) (*piece, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(c.mem))
	if err != nil {
		return nil, invalid(CodeRead, path, "", "not a readable Arrow IPC file: %v", err)
	}
	defer r.Close()
	var recs []arrow.Record
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.Record(i)
		if err != nil {
			releaseRecords(recs)
			return nil, &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeRead, File: path, RowGroup: i,
				Message: fmt.Sprintf("record batch %d cannot be read: %v", i, err)}}}
		}
		rec.Retain() // Record(i) is only valid until the next call
		recs = append(recs, rec)
	}
	return conformRecords(ctx, path, r.Schema(), recs, c)
}

// readIPCStream reads an Arrow IPC stream.
func readIPCStream(ctx context.Context, path string, c *contract) (*piece, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	r, err := ipc.NewReader(f, ipc.WithAllocator(c.mem))
	if err != nil {
		return nil, invalid(CodeRead, path, "", "not a readable Arrow IPC stream: %v", err)
	}
	defer r.Release()
	var recs []arrow.Record
	for r.Next() {
		if err := ctx.Err(); err != nil {
			releaseRecords(recs)
			return nil, err
		}
		rec := r.Record()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		releaseRecords(recs)
		return nil, &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeRead, File: path, RowGroup: len(recs),
			Message: fmt.Sprintf("record batch %d cannot be read: %v", len(recs), err)}}}
	}
	return conformRecords(ctx, path, r.Schema(), recs, c)
}

// conformRecords checks and casts the record batches of an IPC file.
// It takes ownership of recs.
func conformRecords(ctx context.Context, path string, have *arrow.Schema, recs []arrow.Record, c *contract) (*piece, error) {
	defer releaseRecords(recs)
	plan, warnings, err := c.columnPlan(path, have)
	if err != nil {
		return nil, err
	}
	tables := make([]arrow.Table, len(recs))
	groups := make([]int64, len(recs))
	defer func() {
		for _, t := range tables {
			if t != nil {
				t.Release()
			}
		}
	}()
	for i, rec := range recs {
		groups[i] = rec.NumRows()
		raw := array.NewTableFromRecords(have, []arrow.Record{rec})
		t, err := c.conform(ctx, path, raw, plan, i)
		raw.Release()
		if err != nil {
			return nil, err
		}
		tables[i] = t
	}
	return &piece{table: concatTables(c.target, tables), fileRows: sumRows(groups), groups: groups, warnings: warnings}, nil
}

func releaseRecords(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// concatTables joins tables with the same schema into one, without
// copying: each column is the chunks of the inputs' columns. An empty
// list gives an empty table.
func concatTables(schema *arrow.Schema, tables []arrow.Table) arrow.Table {
	cols := make([]arrow.Column, len(schema.Fields()))
	var rows int64
	for _, t := range tables {
		rows += t.NumRows()
	}
	for j, f := range schema.Fields() {
		var chunks []arrow.Array
		for _, t := range tables {
			chunks = append(chunks, t.Column(j).Data().Chunks()...)
		}
		ch := arrow.NewChunked(f.Type, chunks)
		cols[j] = *arrow.NewColumn(f, ch)
		ch.Release()
	}
	t := array.NewTable(schema, cols, rows)
	for j := range cols {
		cols[j].Release()
	}
	return t
}

func isNotExistOrPerm(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)
}

// arrayTable makes a one-chunk table from arrays, taking ownership.
func arrayTable(schema *arrow.Schema, arrs []arrow.Array, rows int64) arrow.Table {
	rec := array.NewRecord(schema, arrs, rows)
	for _, a := range arrs {
		a.Release()
	}
	t := array.NewTableFromRecords(schema, []arrow.Record{rec})
	rec.Release()
	return t
}
