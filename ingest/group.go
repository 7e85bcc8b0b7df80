package ingest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/internal/tables"
)

// Groups of rows for a split that keeps them together (SplitSpec.Group).
//
// A group's split must not depend on where its rows lie, in which chunk
// or in which order, so it is drawn from the group's value alone: a
// 64-bit FNV-1a hash of the value's bytes, mixed with the split's seed
// (splitmix64's finalizer) into a number in [0, 1). Two values share a
// hash about once in 2^64 pairs; they would then share a split, which
// is harmless.

// Seeds that keep a group's draw apart from other draws of the same
// split seed.
const (
	seedGroup     = 0x67726f7570 // "group"
	seedNullGroup = 0x6e756c6c   // "null": a row with no group, drawn by its row number
)

// groupable reports whether a column of type t can name groups: any
// type of the contract but float64 (ArrowType).
func groupable(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.INT64, arrow.BOOL, arrow.TIMESTAMP:
		return true
	}
	return false
}

// groupHashes returns the hash of each row's value of column name of
// tbl, and whether it is null.
func groupHashes(tbl arrow.Table, name string) (hashes []uint64, null []bool, err error) {
	j := tbl.Schema().FieldIndices(name)
	if len(j) != 1 {
		return nil, nil, fmt.Errorf("a chunk without the group column %q", name)
	}
	hashes, null = make([]uint64, 0, tbl.NumRows()), make([]bool, 0, tbl.NumRows())
	for _, chunk := range tbl.Column(j[0]).Data().Chunks() {
		for i := range chunk.Len() {
			null = append(null, chunk.IsNull(i))
			var h uint64
			switch c := chunk.(type) {
			case *array.String:
				h = fnv1a(c.Value(i))
			case *array.LargeString:
				h = fnv1a(c.Value(i))
			case *array.Int64:
				h = fnvInt(c.Value(i))
			case *array.Timestamp:
				h = fnvInt(int64(c.Value(i)))
			case *array.Boolean:
				h = fnv1a(strconv.FormatBool(c.Value(i)))
			default:
				return nil, nil, fmt.Errorf("group column %q is %s; a group is a string, integer, bool or timestamp", name, chunk.DataType())
			}
			hashes = append(hashes, h)
		}
	}
	return hashes, null, nil
}

// fnv1a is the 64-bit FNV-1a hash of s.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// fnvInt is fnv1a of v's 8 bytes, little-endian.
func fnvInt(v int64) uint64 {
	h := uint64(14695981039346656037)
	for k := range 8 {
		h ^= uint64(v>>(8*k)) & 0xff
		h *= 1099511628211
	}
	return h
}

// unitDraw mixes key with seed and stream into a number in [0, 1), the
// same for the same three whatever else is drawn.
func unitDraw(seed, key, stream uint64) float64 {
	x := key ^ mix64(seed^stream)
	return float64(mix64(x)>>11) * 0x1p-53
}

// mix64 is splitmix64's finalizer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// GroupIDs returns the group of each row of tbl by its value of column
// name (SplitSpec.Group), numbered from 0 in the order groups first
// appear; a row whose value is null is a group of its own. Cross-
// validation and target encodings' folds keep a group's rows together
// with it.
func GroupIDs(tbl arrow.Table, name string) ([]int, error) {
	var n groupNumbers
	if err := n.add(tbl, name); err != nil {
		return nil, err
	}
	return n.ids, nil
}

// GroupIDsFrom is GroupIDs of the rows of src, read a range at a time.
func GroupIDsFrom(ctx context.Context, src tables.Source, name string) ([]int, error) {
	var n groupNumbers
	err := src.Ranges(ctx, 1<<16, func(_ int64, part arrow.Table) error { return n.add(part, name) })
	if err != nil {
		return nil, err
	}
	return n.ids, nil
}

// groupNumbers numbers groups in the order they first appear.
type groupNumbers struct {
	ids  []int
	seen map[uint64]int
	next int
}

// add numbers the rows of tbl, the next rows.
func (n *groupNumbers) add(tbl arrow.Table, name string) error {
	hashes, null, err := groupHashes(tbl, name)
	if err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	if n.seen == nil {
		n.seen = make(map[uint64]int)
	}
	for i, h := range hashes {
		id, ok := n.seen[h]
		if !ok || null[i] {
			id = n.next
			n.next++
			if !null[i] {
				n.seen[h] = id
			}
		}
		n.ids = append(n.ids, id)
	}
	return nil
}
