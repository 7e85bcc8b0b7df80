package ingest

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/mlpipe/mlpipe/storage"
	"golang.org/x/sync/errgroup"
)

// readParquet reads the contract's columns of a Parquet file. Row groups
// are read in parallel (up to parallelism at once), each into its own
// chunk, so an error names its row group.
func readParquet(ctx context.Context, path string, c *contract, parallelism int) (p *piece, err error) {
	rdr, err := openParquetAt(ctx, path)
	if err != nil {
		return nil, err
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, c.mem)
	if err != nil {
		return nil, invalid(CodeRead, path, "", "not a readable Parquet file: %v", err)
	}
	have, err := fr.Schema()
	if err != nil {
		return nil, invalid(CodeRead, path, "", "cannot map the Parquet schema to Arrow: %v", err)
	}
	plan, warnings, err := c.columnPlan(path, have)
	if err != nil {
		return nil, err
	}
	// Parquet leaf columns to read: the contract's, in the file's indices.
	leaves := make([]int, len(plan))
	for j, k := range plan {
		leaves[j] = rdr.MetaData().Schema.ColumnIndexByName(have.Field(k).Name)
	}

	n := rdr.NumRowGroups()
	groups := make([]int64, n)
	tables := make([]arrow.Table, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallelism, 1))
	for rg := 0; rg < n; rg++ {
		groups[rg] = rdr.MetaData().RowGroup(rg).NumRows()
		g.Go(func() error {
			t, err := readRowGroup(gctx, fr, path, leaves, rg, c)
			tables[rg] = t
			return err
		})
	}
	err = g.Wait()
	defer func() {
		for _, t := range tables {
			if t != nil {
				t.Release()
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	return &piece{table: concatTables(c.target, tables), fileRows: sumRows(groups), groups: groups, warnings: warnings}, nil
}

// openParquetAt opens a Parquet file, or an object in object storage
// (read in place, by ranged reads of the columns read).
func openParquetAt(ctx context.Context, path string) (*file.Reader, error) {
	if storage.IsURL(path) {
		return openParquetURL(ctx, path)
	}
	return openParquet(path)
}

// openParquet opens a Parquet file, turning the library's panics on
// malformed footers into errors.
func openParquet(path string) (rdr *file.Reader, err error) {
	if err := checkParquetMagic(path); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			rdr, err = nil, invalid(CodeRead, path, "", "not a readable Parquet file: %v", r)
		}
	}()
	rdr, err = file.OpenParquetFile(path, false)
	if err != nil {
		if isNotExistOrPerm(err) {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		return nil, invalid(CodeRead, path, "", "not a readable Parquet file: %v", err)
	}
	return rdr, nil
}

func readRowGroup(ctx context.Context, fr *pqarrow.FileReader, path string, leaves []int, rg int, c *contract) (t arrow.Table, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeRead, File: path, RowGroup: rg,
				Message: fmt.Sprintf("row group %d is corrupt: %v", rg, r)}}}
		}
	}()
	raw, err := fr.ReadRowGroups(ctx, leaves, []int{rg})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeRead, File: path, RowGroup: rg,
			Message: fmt.Sprintf("row group %d cannot be read: %v", rg, err)}}}
	}
	defer raw.Release()
	plan := make([]int, len(c.target.Fields()))
	for j, f := range c.target.Fields() {
		plan[j] = raw.Schema().FieldIndices(f.Name)[0]
	}
	return c.conform(ctx, path, raw, plan, rg)
}

func sumRows(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

// checkParquetMagic gives a clear error for the two common cases the
// Parquet library reports obscurely: a file that is not Parquet at all,
// and one that was cut short (a Parquet file starts and ends with "PAR1").
func checkParquetMagic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if info.IsDir() {
		return fmt.Errorf("open %s: is a directory", path)
	}
	return checkMagicAt(path, f, info.Size())
}

// checkMagicAt is checkParquetMagic of any file or object of size bytes.
func checkMagicAt(path string, f io.ReaderAt, size int64) error {
	head, tail := make([]byte, 4), make([]byte, 4)
	if size == 0 {
		return invalid(CodeEmpty, path, "", "the file is empty (0 bytes), not Parquet")
	}
	if _, err := f.ReadAt(head, 0); err != nil || string(head) != "PAR1" {
		return invalid(CodeRead, path, "", "not a Parquet file (it does not start with the Parquet magic bytes PAR1)")
	}
	if _, err := f.ReadAt(tail, size-4); err != nil || string(tail) != "PAR1" {
		return invalid(CodeRead, path, "", "the Parquet file is truncated (it does not end with the footer magic PAR1; %d bytes)", size)
	}
	return nil
}
