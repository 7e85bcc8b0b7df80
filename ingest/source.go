package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlpipe/mlpipe/storage"
)

// Formats that Load reads.
const (
	FormatParquet     = "parquet"
	FormatArrowFile   = "arrow"  // Arrow IPC file (.arrow, .feather, .ipc)
	FormatArrowStream = "arrows" // Arrow IPC stream (.arrows)
	FormatCSV         = "csv"
	FormatTSV         = "tsv"   // CSV with a tab delimiter (.tsv, .tab)
	FormatJSONL       = "jsonl" // JSON Lines (.jsonl, .ndjson)
	FormatJSON        = "json"  // a JSON array of objects (.json)
	// FormatXLSX (xlsx.go): an Excel workbook (.xlsx, .xlsm).
)

// Formats lists the formats a source can name, besides "auto".
var Formats = []string{FormatParquet, FormatArrowFile, FormatArrowStream, FormatCSV, FormatTSV, FormatJSONL, FormatJSON, FormatXLSX}

// compressionExts are the file name endings of compressed text files;
// the format comes from the extension before them.
var compressionExts = []string{".gz", ".gzip", ".zst", ".zstd"}

// formatOf picks a format from a file's extension, looking through a
// compression extension (".csv.gz" is CSV).
func formatOf(path string) (string, bool) {
	ext := strings.ToLower(filepath.Ext(path))
	for _, c := range compressionExts {
		if ext == c {
			ext = strings.ToLower(filepath.Ext(strings.TrimSuffix(path, filepath.Ext(path))))
			switch ext {
			case ".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".json":
			default:
				return "", false // compressed Parquet or Arrow: they compress inside
			}
		}
	}
	switch ext {
	case ".parquet", ".pq":
		return FormatParquet, true
	case ".arrow", ".feather", ".ipc":
		return FormatArrowFile, true
	case ".arrows":
		return FormatArrowStream, true
	case ".csv":
		return FormatCSV, true
	case ".tsv", ".tab":
		return FormatTSV, true
	case ".jsonl", ".ndjson":
		return FormatJSONL, true
	case ".json":
		return FormatJSON, true
	case ".xlsx", ".xlsm":
		return FormatXLSX, true
	}
	return "", false
}

// inputFile is one file of a source and the format it is read as.
type inputFile struct {
	path, format string
}

// resolve lists the files of a source, in the order their rows are read:
// a single file; the matches of a glob, by name; or the files of a
// directory (recursively, skipping hidden files), by path. With format
// "auto" or "", each file's format comes from its extension, and in a
// directory files with unknown extensions are skipped.
func resolve(src Source) ([]inputFile, error) {
	if src.Path == "" {
		return nil, fmt.Errorf("resolve: %w: the source path is empty", ErrNoFiles)
	}
	if storage.IsURL(src.Path) {
		return resolveURL(src)
	}
	var paths []string
	explicit := false // paths were named by the user, not found by a walk
	switch info, err := os.Stat(src.Path); {
	case err == nil && info.IsDir():
		err := filepath.WalkDir(src.Path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if p != src.Path && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if _, known := formatOf(p); known || (src.Format != "" && src.Format != "auto") {
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", src.Path, err)
		}
		sort.Strings(paths)
		if len(paths) == 0 {
			return nil, fmt.Errorf("resolve %s: %w: the directory holds no data files", src.Path, ErrNoFiles)
		}
	case err == nil:
		paths, explicit = []string{src.Path}, true
	case hasMeta(src.Path):
		matches, gerr := filepath.Glob(src.Path)
		if gerr != nil {
			return nil, fmt.Errorf("resolve %s: %w", src.Path, gerr)
		}
		for _, m := range matches {
			if info, err := os.Stat(m); err == nil && !info.IsDir() {
				paths = append(paths, m)
			}
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("resolve %s: %w: the glob matches no files%s", src.Path, ErrNoFiles, src.relativeHint())
		}
		sort.Strings(paths)
		explicit = true
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("resolve %s: %w: no such file or directory%s", src.Path, ErrNoFiles, src.relativeHint())
	default:
		return nil, fmt.Errorf("resolve %s: %w", src.Path, err)
	}

	files := make([]inputFile, len(paths))
	for i, p := range paths {
		// A FIFO or a device is refused before it is opened (opening a
		// FIFO blocks until a writer comes).
		if info, err := os.Stat(p); err == nil {
			if err := regular(p, info); err != nil {
				return nil, err
			}
		}
		format := src.Format
		if format == "" || format == "auto" {
			f, ok := formatOf(p)
			if !ok && explicit {
				if strings.EqualFold(filepath.Ext(p), ".xls") {
					return nil, invalid(CodeRead, p, "", "%s", oldExcel)
				}
				return nil, invalid(CodeRead, p, "", "cannot tell the format from the extension %q; set data.format (%s)", filepath.Ext(p), strings.Join(Formats, ", "))
			}
			format = f
		}
		files[i] = inputFile{path: p, format: format}
	}
	return files, nil
}

// relativeHint explains, for a path that does not resolve, that a
// relative path in a config resolves against the config file's
// directory, not the working directory.
func (src Source) relativeHint() string {
	if src.ConfigDir == "" {
		return ""
	}
	written := src.Path
	if rel, err := filepath.Rel(src.ConfigDir, src.Path); err == nil {
		written = rel // as the config wrote it
	}
	return fmt.Sprintf(" (data.path %q is relative, and relative paths resolve against the config file's directory, %s, not the working directory: move the config back, or make the path absolute or relative to %s)", written, src.ConfigDir, src.ConfigDir)
}

func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[\`) }
