package npy

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWrite checks the bytes of small files against the format
// (numpy.lib.format, version 1.0): magic, version, header length, a
// header padded to a 64-byte boundary, then the columns one after another.
func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		rows   int
		cols   [][]float64
		header string
		data   []float64
	}{
		{"matrix", 2, [][]float64{{1, 2}, {3, 4}, {5, 6}}, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", []float64{1, 2, 3, 4, 5, 6}},
		{"vector", 3, [][]float64{{7, 8, 9}}, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", []float64{7, 8, 9}},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "m.npy")
		if err := Write(path, tt.rows, tt.cols); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := int(binary.LittleEndian.Uint16(data[8:10]))
		header := string(data[10 : 10+n])
		if string(data[:8]) != "\x93NUMPY\x01\x00" || (10+n)%64 != 0 || !strings.HasSuffix(header, "\n") {
			t.Fatalf("%s: bad preamble %q", tt.name, data[:10+n])
		}
		if got := strings.TrimRight(header, " \n"); got != tt.header {
			t.Errorf("%s: header %q, want %q", tt.name, got, tt.header)
		}
		vals := make([]float64, len(tt.data))
		if err := binary.Read(bytes.NewReader(data[10+n:]), binary.LittleEndian, vals); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(vals, tt.data) || len(data) != 10+n+8*len(tt.data) {
			t.Errorf("%s: data %v (%d bytes), want %v", tt.name, vals, len(data)-10-n, tt.data)
		}
	}
	if err := Write(filepath.Join(t.TempDir(), "bad.npy"), 2, [][]float64{{1}}); err == nil {
		t.Error("a short column was written")
	}
}

// TestWriterRanges: a matrix written a range of rows at a time, in any
// order, is the file Write makes of the whole.
func TestWriterRanges(t *testing.T) {
	cols := [][]float64{{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, {11, 12, 13, 14, 15}}
	dir := t.TempDir()
	whole, ranged := filepath.Join(dir, "whole.npy"), filepath.Join(dir, "ranged.npy")
	if err := Write(whole, 5, cols); err != nil {
		t.Fatal(err)
	}
	w, err := Create(ranged, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	part := func(lo, hi int) [][]float64 {
		out := make([][]float64, len(cols))
		for j, c := range cols {
			out[j] = c[lo:hi]
		}
		return out
	}
	for _, r := range [][2]int{{3, 5}, {0, 2}, {2, 3}} {
		if err := w.WriteRows(r[0], part(r[0], r[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteRows(4, part(0, 2)); err == nil {
		t.Error("rows past the end were written")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(whole)
	b, _ := os.ReadFile(ranged)
	if !bytes.Equal(a, b) {
		t.Errorf("the file written in ranges differs from Write's (%d and %d bytes)", len(b), len(a))
	}
}
