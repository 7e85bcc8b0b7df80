package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"golang.org/x/sync/errgroup"
)

// Fingerprint returns a content hash of a table: "sha256:" and 64 hex
// digits. It depends on the column names and types and on the values in
// row order, and on nothing else: not on file names or formats, nor on
// how the rows are split into files, row groups or chunks. Two loads of
// the same data give the same fingerprint, so later stages can tell
// whether the data changed.
//
// Each column is hashed on its own (in parallel), value by value in a
// fixed binary encoding with nulls marked; the column digests are then
// hashed together with the names and types. It is a Fingerprinter fed
// the whole table at once.
func Fingerprint(ctx context.Context, tbl arrow.Table) (string, error) {
	f := NewFingerprinter(tbl.Schema())
	if err := f.Add(ctx, tbl); err != nil {
		return "", err
	}
	return f.Sum(), nil
}

// Fingerprinter computes Fingerprint of a table fed to it a chunk of
// rows at a time (a scan's chunks), with memory that does not grow with
// the rows: Sum after the chunks equals Fingerprint of the table they
// make, however the rows are cut. This works because each column's
// digest is a hash of one stream of bytes, the column's values in row
// order, and a hash does not depend on how its input is written.
type Fingerprinter struct {
	schema *arrow.Schema
	sums   []hash.Hash // each column's running digest
	bufs   [][]byte    // each column's write buffer, kept between chunks
	rows   int64
}

// NewFingerprinter returns a Fingerprinter of tables with schema.
func NewFingerprinter(schema *arrow.Schema) *Fingerprinter {
	n := schema.NumFields()
	f := &Fingerprinter{schema: schema, sums: make([]hash.Hash, n), bufs: make([][]byte, n)}
	for j := range f.sums {
		f.sums[j] = sha256.New()
	}
	return f
}

// Add hashes the rows of tbl, the next rows of the table in order. Its
// columns must have the Fingerprinter's names and types. The columns are
// hashed in parallel. After an error the Fingerprinter is unusable.
func (f *Fingerprinter) Add(ctx context.Context, tbl arrow.Table) error {
	if err := f.check(tbl.Schema()); err != nil {
		return fmt.Errorf("fingerprint: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit((*Options)(nil).parallelism())
	for j := range f.sums {
		g.Go(func() error {
			if f.bufs[j] == nil {
				f.bufs[j] = make([]byte, 0, 64<<10)
			}
			var err error
			f.bufs[j], err = hashColumn(gctx, f.sums[j], f.bufs[j], tbl.Column(j).Data())
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	f.rows += tbl.NumRows()
	return nil
}

// check reports a schema whose names or types are not the Fingerprinter's.
func (f *Fingerprinter) check(s *arrow.Schema) error {
	if s.NumFields() != f.schema.NumFields() {
		return fmt.Errorf("a chunk of %d columns, want %d", s.NumFields(), f.schema.NumFields())
	}
	for j, want := range f.schema.Fields() {
		if got := s.Field(j); got.Name != want.Name || !arrow.TypeEqual(got.Type, want.Type) {
			return fmt.Errorf("chunk column %d is %s %s, want %s %s", j, got.Name, got.Type, want.Name, want.Type)
		}
	}
	return nil
}

// Sum returns the fingerprint of the rows added so far.
func (f *Fingerprinter) Sum() string {
	h := sha256.New()
	var lenBuf [8]byte
	writeString := func(s string) {
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(s)))
		h.Write(lenBuf[:])
		h.Write([]byte(s))
	}
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(f.rows))
	h.Write(lenBuf[:])
	for j, fld := range f.schema.Fields() {
		writeString(fld.Name)
		writeString(fld.Type.String())
		h.Write(f.sums[j].Sum(nil))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// hashColumn feeds a column's values to h through buf, and returns buf
// emptied for the next chunk. Each value is a marker byte (0 null, 1
// valid) and, if valid, its fixed-width little-endian bytes or, for
// strings, its length and bytes.
func hashColumn(ctx context.Context, h hash.Hash, buf []byte, col *arrow.Chunked) ([]byte, error) {
	buf = buf[:0]
	flush := func() {
		h.Write(buf)
		buf = buf[:0]
	}
	put64 := func(v uint64) { buf = binary.LittleEndian.AppendUint64(buf, v) }
	for _, chunk := range col.Chunks() {
		if err := ctx.Err(); err != nil {
			return buf, err
		}
		for i := 0; i < chunk.Len(); i++ {
			if len(buf) > cap(buf)-32 {
				flush()
			}
			if chunk.IsNull(i) {
				buf = append(buf, 0)
				continue
			}
			buf = append(buf, 1)
			switch a := chunk.(type) {
			case *array.Int64:
				put64(uint64(a.Value(i)))
			case *array.Float64:
				put64(math.Float64bits(a.Value(i)))
			case *array.Timestamp:
				put64(uint64(a.Value(i)))
			case *array.Boolean:
				if a.Value(i) {
					buf = append(buf, 1)
				} else {
					buf = append(buf, 0)
				}
			case *array.String:
				s := a.Value(i)
				put64(uint64(len(s)))
				if len(s) > cap(buf)-len(buf) {
					flush()
					h.Write([]byte(s))
					continue
				}
				buf = append(buf, s...)
			default:
				// Types outside the contract: hash their text form.
				s := a.ValueStr(i)
				put64(uint64(len(s)))
				flush()
				h.Write([]byte(s))
			}
		}
	}
	flush()
	return buf, nil
}
