package monitor

import (
	"math"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// column is one series observed on every row of a table: each row's
// bucket and, for a numeric series, its value (NaN when missing). The
// calibration (calibration.go) and the domain classifier (domain.go)
// count and sample windows of rows from it without reading the table
// again.
type column struct {
	bucket []int32
	value  []float64 // numeric series only
}

// observeColumn observes the plan's series on every row of col, as
// observe does value by value: a table column of the input's contract
// type is read without boxing its values.
func (p *plan) observeColumn(col *arrow.Chunked) column {
	n := col.Len()
	c := column{bucket: make([]int32, 0, n)}
	if p.kind == KindNumeric && !isTimestamp(p.typ) {
		c.value = make([]float64, 0, n)
	}
	add := func(b int, x float64) {
		c.bucket = append(c.bucket, int32(b))
		if c.value != nil {
			if b == p.missing() {
				x = math.NaN()
			}
			c.value = append(c.value, x)
		}
	}
	for _, ch := range col.Chunks() {
		switch a := ch.(type) {
		case *array.Int64:
			if p.kind != KindNumeric || isTimestamp(p.typ) {
				break
			}
			for i := range a.Len() {
				if a.IsNull(i) {
					add(p.missing(), 0)
					continue
				}
				x := float64(a.Value(i))
				add(binOf(p.edges, x), x)
			}
			continue
		case *array.Float64:
			if p.kind != KindNumeric || isTimestamp(p.typ) {
				break
			}
			for i := range a.Len() {
				x := a.Value(i)
				if a.IsNull(i) || math.IsNaN(x) || math.IsInf(x, 0) {
					add(p.missing(), 0)
					continue
				}
				add(binOf(p.edges, x), x)
			}
			continue
		case *array.String:
			if p.typ != "string" {
				break
			}
			for i := range a.Len() {
				if a.IsNull(i) {
					add(p.missing(), 0)
					continue
				}
				k, ok := p.index[a.Value(i)]
				if !ok {
					k = p.other()
				}
				add(k, 0)
			}
			continue
		case *array.Timestamp:
			if !isTimestamp(p.typ) {
				break
			}
			unit := a.DataType().(*arrow.TimestampType).Unit
			for i := range a.Len() {
				if a.IsNull(i) {
					add(p.missing(), 0)
					continue
				}
				add(partIndex(a.Value(i).ToTime(unit).UTC(), p.part), 0)
			}
			continue
		}
		// Any other type (a bool, or a column of the wrong type): value
		// by value, as a request's would be read.
		vals, err := values(ch)
		if err != nil {
			for range ch.Len() {
				add(p.missing(), 0)
			}
			continue
		}
		for _, v := range vals {
			b, x, _, _ := p.observe(v)
			add(b, x)
		}
	}
	return c
}

// timesOf reads a timestamp column as wall-clock times in microseconds
// since 1970 (naive, read as UTC), and whether each row has one.
func timesOf(col *arrow.Chunked) (us []int64, ok []bool) {
	us = make([]int64, 0, col.Len())
	ok = make([]bool, 0, col.Len())
	for _, ch := range col.Chunks() {
		a := ch.(*array.Timestamp)
		unit := a.DataType().(*arrow.TimestampType).Unit
		for i := range a.Len() {
			if a.IsNull(i) {
				us, ok = append(us, 0), append(ok, false)
				continue
			}
			us, ok = append(us, a.Value(i).ToTime(unit).UnixMicro()), append(ok, true)
		}
	}
	return us, ok
}

// microsOf is a duration in microseconds.
func microsOf(d time.Duration) int64 { return d.Microseconds() }
