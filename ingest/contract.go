package ingest

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
)

// ArrowType returns the Arrow type that a contract type name stands for:
// "int64", "float64", "bool", "string", or "timestamp[s|ms|us|ns]"
// (naive local time, no zone).
func ArrowType(name string) (arrow.DataType, error) {
	switch name {
	case "int64":
		return arrow.PrimitiveTypes.Int64, nil
	case "float64":
		return arrow.PrimitiveTypes.Float64, nil
	case "bool":
		return arrow.FixedWidthTypes.Boolean, nil
	case "string":
		return arrow.BinaryTypes.String, nil
	case "timestamp[s]":
		return &arrow.TimestampType{Unit: arrow.Second}, nil
	case "timestamp[ms]":
		return &arrow.TimestampType{Unit: arrow.Millisecond}, nil
	case "timestamp[us]":
		return &arrow.TimestampType{Unit: arrow.Microsecond}, nil
	case "timestamp[ns]":
		return &arrow.TimestampType{Unit: arrow.Nanosecond}, nil
	}
	return nil, fmt.Errorf("unknown type %q (want int64, float64, bool, string or timestamp[us])", name)
}

// ArrowSchema returns the Arrow schema of a table that meets the
// contract: its columns in contract order, with the contract's types.
func (s Schema) ArrowSchema() (*arrow.Schema, error) {
	fields := make([]arrow.Field, len(s.Columns))
	for i, c := range s.Columns {
		dt, err := ArrowType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("schema: column %q: %w", c.Name, err)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: dt, Nullable: c.Nullable}
	}
	return arrow.NewSchema(fields, nil), nil
}

// Column returns the spec of the named column, or nil.
func (s Schema) Column(name string) *ColumnSpec {
	for i := range s.Columns {
		if s.Columns[i].Name == name {
			return &s.Columns[i]
		}
	}
	return nil
}

// castable reports whether a source column of type from can be cast to
// the contract type to without losing meaning, and if not, why.
func castable(from, to arrow.DataType) (ok bool, why string) {
	if arrow.TypeEqual(from, to) {
		return true, ""
	}
	if d, isDict := from.(*arrow.DictionaryType); isDict {
		return castable(d.ValueType, to)
	}
	switch to.ID() {
	case arrow.INT64:
		switch from.ID() {
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
			return true, "" // a safe cast still rejects a uint64 above MaxInt64
		}
	case arrow.FLOAT64:
		switch from.ID() {
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
			arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
			arrow.FLOAT16, arrow.FLOAT32:
			return true, ""
		}
	case arrow.STRING:
		switch from.ID() {
		case arrow.LARGE_STRING, arrow.STRING_VIEW:
			return true, ""
		}
	case arrow.TIMESTAMP:
		switch from.(type) {
		case *arrow.TimestampType:
			return true, "" // a zone is converted to wall-clock time (contract.wallClock)
		case *arrow.Date32Type, *arrow.Date64Type:
			return true, ""
		}
	}
	return false, fmt.Sprintf("it is %s and cannot be cast to %s", from, typeName(to))
}

// typeName is the contract's name for an Arrow type ("string" for utf8).
func typeName(dt arrow.DataType) string {
	if dt.ID() == arrow.STRING {
		return "string"
	}
	return dt.String()
}
