package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// This file opens the text formats (CSV, JSON Lines, JSON): it reads the
// file, decompresses it if its first bytes say gzip or zstd, and checks
// that it is text the readers can cut into lines, so that a file of the
// wrong kind gets one clear message instead of a parse error per row.

// Magic bytes at the start of files that are not plain text.
var magics = []struct {
	prefix, kind string
}{
	{"\x1f\x8b", "gzip"},
	{"\x28\xb5\x2f\xfd", "zstd"},
	{"BZh", "bzip2"},
	{"\xfd7zXZ\x00", "xz"},
	{"PK\x03\x04", "zip"},
	{"PAR1", "parquet"},
	{"ARROW1", "arrow"},
	{"\xff\xfe", "utf16"},
	{"\xfe\xff", "utf16"},
}

// sniff names the kind of data that head starts with ("" for plain
// text).
func sniff(head []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return m.kind
		}
	}
	return ""
}

// compressedError is the message for a file that sniff says is not text.
func notText(path, kind, format string) error {
	switch kind {
	case "zip":
		return invalid(CodeRead, path, "", "the file is a zip archive, which mlpipe does not read as %s: an Excel workbook is one (name it .xlsx or set data.format: xlsx); otherwise decompress it, or recompress it with gzip or zstd", format)
	case "bzip2", "xz":
		return invalid(CodeRead, path, "", "the file is %s-compressed, which mlpipe does not read: decompress it, or recompress it with gzip or zstd", kind)
	case "parquet":
		return invalid(CodeRead, path, "", "the file is Parquet, not %s: name it .parquet or set data.format: parquet", format)
	case "arrow":
		return invalid(CodeRead, path, "", "the file is an Arrow IPC file, not %s: name it .arrow or set data.format: arrow", format)
	case "utf16":
		return invalid(CodeRead, path, "", "the file is UTF-16 text (it starts with a UTF-16 byte order mark); mlpipe reads UTF-8: convert it, e.g. iconv -f UTF-16 -t UTF-8")
	}
	return nil
}

// readText returns the text of a CSV, JSON Lines or JSON file,
// decompressed, or an Excel workbook's worksheet sheet as CSV text
// (xlsx.go). It refuses what is not a regular file (a FIFO would block
// forever), and text that is not UTF-8 or whose lines end with CR alone,
// naming the line.
func readText(path, format, sheet string) ([]byte, error) {
	if format == FormatXLSX {
		data, err := readRegular(path)
		if err != nil {
			return nil, err
		}
		return xlsxText(path, data, sheet)
	}
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var head [8]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var data []byte
	switch kind := sniff(head[:n]); kind {
	case "":
		// Sized from the file, as os.ReadFile does: io.ReadAll would grow
		// the buffer by copies, to twice the file at the peak.
		var size int64
		if info, err := f.Stat(); err == nil {
			size = info.Size()
		}
		buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
		if _, err := buf.ReadFrom(f); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		data = buf.Bytes()
	case "gzip":
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, invalid(CodeRead, path, "", "the file starts as gzip but cannot be read: %v", err)
		}
		data, err = io.ReadAll(zr)
		if err != nil {
			return nil, invalid(CodeRead, path, "", "the gzip data is corrupt or truncated: %v", err)
		}
	case "zstd":
		zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, invalid(CodeRead, path, "", "the file starts as zstd but cannot be read: %v", err)
		}
		data, err = io.ReadAll(zr)
		zr.Close()
		if err != nil {
			return nil, invalid(CodeRead, path, "", "the zstd data is corrupt or truncated: %v", err)
		}
	default:
		return nil, notText(path, kind, format)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if err := checkText(path, data); err != nil {
		return nil, err
	}
	return data, nil
}

// openRegular opens path for reading if it is a regular file.
func openRegular(path string) (*os.File, error) {
	// Stat first: opening a FIFO blocks until a writer comes.
	if info, err := os.Stat(path); err == nil {
		if err := regular(path, info); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

// regular refuses a file that is not a regular one.
func regular(path string, info os.FileInfo) error {
	m := info.Mode()
	var what string
	switch {
	case m.IsRegular(), m.IsDir():
		return nil
	case m&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		what = "a socket"
	case m&os.ModeDevice != 0:
		what = "a device"
	default:
		what = "not a regular file"
	}
	return invalid(CodeRead, path, "", "%s, not a regular file: mlpipe reads files whole and in parallel, so save the data to a file first", what)
}

// checkText refuses text the readers would misread: NUL bytes (binary
// data or UTF-16), bytes that are not UTF-8 (Latin-1 or Windows-1252
// text), and lines that end with CR alone (classic Mac OS), which would
// make the whole file one line. It is a textCheck given the whole text.
func checkText(path string, data []byte) error {
	t := newTextCheck(path)
	t.add(data)
	return t.err()
}

// textCheck runs checkText's tests on a text given a block at a time, as
// Scan reads it, and comes to checkText's verdict on the whole text:
// the first NUL byte if there is one, else the first byte that is not
// UTF-8, else a first line that ends with CR alone. Each block must end
// at a line end or at the end of the text, so that no UTF-8 sequence or
// CR LF pair is cut in two.
type textCheck struct {
	path string
	line int64 // the line the next block starts at

	nul     int64 // the line of the first NUL byte; 0: none so far
	bad     int64 // the line of the first byte that is not UTF-8; 0: none so far
	badByte byte

	firstLine bool // the first line's end is known (a CR or an LF seen)
	crOnly    bool // the first line ends with CR alone
	crs       int  // the CRs seen, counted once crOnly
}

func newTextCheck(path string) *textCheck { return &textCheck{path: path, line: 1} }

// add checks the next block of the text.
func (t *textCheck) add(data []byte) {
	lineAt := func(i int) int64 { return t.line + int64(bytes.Count(data[:i], []byte{'\n'})) }
	if t.nul == 0 {
		if i := bytes.IndexByte(data, 0); i >= 0 {
			t.nul = lineAt(i)
		}
	}
	if t.nul == 0 && t.bad == 0 && !utf8.Valid(data) {
		i := invalidUTF8(data)
		t.bad, t.badByte = lineAt(i), data[i]
	}
	if !t.firstLine {
		// Only the file's first CR counts: before any LF, and not
		// followed by one.
		if i := bytes.IndexByte(data, '\r'); i >= 0 {
			t.firstLine = true
			t.crOnly = (i+1 == len(data) || data[i+1] != '\n') && bytes.IndexByte(data[:i], '\n') < 0
		} else {
			t.firstLine = bytes.IndexByte(data, '\n') >= 0
		}
	}
	if t.crOnly {
		t.crs += bytes.Count(data, []byte{'\r'})
	}
	t.line += int64(bytes.Count(data, []byte{'\n'}))
}

// failed reports whether the text seen so far fails the check.
func (t *textCheck) failed() bool { return t.nul != 0 || t.bad != 0 || t.crOnly }

// settled reports whether the verdict can no longer change, whatever
// follows: a NUL byte was seen, and the first one decides.
func (t *textCheck) settled() bool { return t.nul != 0 }

// err is the verdict on the text seen so far: nil, or an *InvalidError
// naming the file and line.
func (t *textCheck) err() error {
	switch {
	case t.nul != 0:
		return &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeRead, File: t.path, Line: t.nul, RowGroup: -1,
			Message: "a NUL byte: the file is binary, or text in UTF-16 or UTF-32; mlpipe reads UTF-8 text"}}}
	case t.bad != 0:
		return &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeRead, File: t.path, Line: t.bad, RowGroup: -1,
			Message: fmt.Sprintf("byte 0x%02X is not UTF-8: the file is probably Latin-1 or Windows-1252; convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8", t.badByte)}}}
	case t.crOnly:
		return &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeRead, File: t.path, Line: 1, RowGroup: -1,
			Message: fmt.Sprintf("the lines end with CR alone (classic Mac OS line endings; about %d lines), so the file reads as one line: convert them to LF, e.g. tr '\\r' '\\n' < in > out", t.crs+1)}}}
	}
	return nil
}

// invalidUTF8 returns the offset of the first byte of data that is not
// part of valid UTF-8.
func invalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(data)
}
