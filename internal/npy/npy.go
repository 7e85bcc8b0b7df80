// Package npy writes float64 matrices as NumPy .npy files, so that the
// benchmark scripts can hand the exact matrices a Go benchmark fitted on
// to a Python peer (numpy.load reads them).
//
// In: a path and columns of equal length (Write), or the shape and then
// ranges of rows (Create, Writer.WriteRows). Out: one .npy file in format
// version 1.0 (numpy.lib.format): a rows × columns float64 array in
// Fortran (column-major) order, which is how a features.Matrix holds its
// data, or a vector for a single column.
package npy

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
)

// Write writes columns, each rows long, to path.
func Write(path string, rows int, cols [][]float64) (err error) {
	for j, c := range cols {
		if len(c) != rows {
			return fmt.Errorf("npy write %s: column %d has %d values, want %d", path, j, len(c), rows)
		}
	}
	w, err := Create(path, rows, len(cols))
	if err != nil {
		return err
	}
	if err := w.WriteRows(0, cols); err != nil {
		w.f.Close()
		return err
	}
	return w.Close()
}

// A Writer writes a rows × columns matrix to a .npy file a range of rows
// at a time, so that the whole matrix need not be held: each column's
// values go straight to their place in the file.
type Writer struct {
	f          *os.File
	rows, cols int
	data       int64 // the offset of the first value
	buf        []byte
}

// Create creates the file at path for a rows × cols matrix (a vector
// when cols is 1) and writes its header.
func Create(path string, rows, cols int) (*Writer, error) {
	shape, fortran := fmt.Sprintf("(%d,)", rows), "False"
	if cols != 1 {
		shape, fortran = fmt.Sprintf("(%d, %d)", rows, cols), "True"
	}
	header := fmt.Sprintf("{'descr': '<f8', 'fortran_order': %s, 'shape': %s, }", fortran, shape)
	// The magic string, the version and the header length take 10 bytes;
	// the header is padded with spaces so that the data starts at a
	// multiple of 64 bytes, and ends with a newline.
	header += strings.Repeat(" ", (64-(10+len(header)+1)%64)%64) + "\n"
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("npy write: %w", err)
	}
	pre := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), uint16(len(header)))
	pre = append(pre, header...)
	if _, err := f.Write(pre); err != nil {
		f.Close()
		return nil, fmt.Errorf("npy write: %w", err)
	}
	// Size the file now: a matrix written in ranges fills it in any order.
	if err := f.Truncate(int64(len(pre)) + 8*int64(rows)*int64(cols)); err != nil {
		f.Close()
		return nil, fmt.Errorf("npy write: %w", err)
	}
	return &Writer{f: f, rows: rows, cols: cols, data: int64(len(pre))}, nil
}

// WriteRows writes the matrix's rows first to first+len(cols[0])-1,
// given by column.
func (w *Writer) WriteRows(first int, cols [][]float64) error {
	if len(cols) != w.cols {
		return fmt.Errorf("npy write %s: %d columns, want %d", w.f.Name(), len(cols), w.cols)
	}
	for j, c := range cols {
		if len(c) != len(cols[0]) || first < 0 || first+len(c) > w.rows {
			return fmt.Errorf("npy write %s: column %d: rows %d to %d of %d", w.f.Name(), j, first, first+len(c), w.rows)
		}
		w.buf = w.buf[:0]
		for _, v := range c {
			w.buf = binary.LittleEndian.AppendUint64(w.buf, math.Float64bits(v))
		}
		if _, err := w.f.WriteAt(w.buf, w.data+8*(int64(j)*int64(w.rows)+int64(first))); err != nil {
			return fmt.Errorf("npy write: %w", err)
		}
	}
	return nil
}

// Close closes the file.
func (w *Writer) Close() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("npy write: %w", err)
	}
	return nil
}
