package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
// hashed together with the names and types.
func Fingerprint(ctx context.Context, tbl arrow.Table) (string, error) {
	n := int(tbl.NumCols())
	sums := make([][]byte, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit((*Options)(nil).parallelism())
	for j := 0; j < n; j++ {
		g.Go(func() error {
			h := sha256.New()
			if err := hashColumn(gctx, h, tbl.Column(j).Data()); err != nil {
				return err
			}
			sums[j] = h.Sum(nil)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	h := sha256.New()
	var lenBuf [8]byte
	writeString := func(s string) {
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(s)))
		h.Write(lenBuf[:])
		h.Write([]byte(s))
	}
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(tbl.NumRows()))
	h.Write(lenBuf[:])
	for j, f := range tbl.Schema().Fields() {
		writeString(f.Name)
		writeString(f.Type.String())
		h.Write(sums[j])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// hashColumn feeds a column's values to h through a buffer. Each value is
// a marker byte (0 null, 1 valid) and, if valid, its fixed-width little-
// endian bytes or, for strings, its length and bytes.
func hashColumn(ctx context.Context, h hash.Hash, col *arrow.Chunked) error {
	buf := make([]byte, 0, 64<<10)
	flush := func() {
		h.Write(buf)
		buf = buf[:0]
	}
	put64 := func(v uint64) { buf = binary.LittleEndian.AppendUint64(buf, v) }
	for _, chunk := range col.Chunks() {
		if err := ctx.Err(); err != nil {
			return err
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
	return nil
}
