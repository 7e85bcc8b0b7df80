// Package npy writes float64 matrices as NumPy .npy files, so that the
// benchmark scripts can hand the exact matrices a Go benchmark fitted on
// to a Python peer (numpy.load reads them).
//
// In: a path and columns of equal length. Out: one .npy file in format
// version 1.0 (numpy.lib.format): a rows × columns float64 array in
// Fortran (column-major) order, which is how a features.Matrix holds its
// data, or a vector for a single column.
package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
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
	shape, fortran := fmt.Sprintf("(%d,)", rows), "False"
	if len(cols) != 1 {
		shape, fortran = fmt.Sprintf("(%d, %d)", rows, len(cols)), "True"
	}
	header := fmt.Sprintf("{'descr': '<f8', 'fortran_order': %s, 'shape': %s, }", fortran, shape)
	// The magic string, the version and the header length take 10 bytes;
	// the header is padded with spaces so that the data starts at a
	// multiple of 64 bytes, and ends with a newline.
	header += strings.Repeat(" ", (64-(10+len(header)+1)%64)%64) + "\n"

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("npy write: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("npy write: %w", cerr)
		}
	}()
	w := bufio.NewWriter(f)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	for _, c := range cols {
		binary.Write(w, binary.LittleEndian, c)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("npy write: %w", err)
	}
	return nil
}
