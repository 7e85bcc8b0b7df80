package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/mlpipe/mlpipe/storage"
)

// Inputs on object storage ("s3://BUCKET/KEY"): a Parquet object is read
// in place with ranged GETs (its footer, then the column chunks of the
// columns the contract reads, row group by row group); any other format
// is downloaded to a temporary file first. A source names one object, or
// a prefix whose objects (with known extensions, hidden ones skipped)
// are read in key order, as a directory is.

// splitURL opens the bucket of an object URL and returns its key.
func splitURL(url string) (*storage.Bucket, string, error) {
	rest := strings.TrimPrefix(url, storage.Scheme)
	bucket, key, _ := strings.Cut(rest, "/")
	b, err := storage.Open(storage.Scheme + bucket)
	if err != nil {
		return nil, "", err
	}
	return b, strings.TrimSuffix(key, "/"), nil
}

// resolveURL lists the objects of a source on object storage.
func resolveURL(src Source) ([]inputFile, error) {
	ctx := context.Background()
	b, key, err := splitURL(src.Path)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", src.Path, err)
	}
	explicit := src.Format != "" && src.Format != "auto"
	var files []inputFile
	add := func(k string, named bool) error {
		format := src.Format
		if !explicit {
			f, ok := formatOf(k)
			if !ok && named {
				return invalid(CodeRead, b.URL(k), "", "cannot tell the format from the extension %q; set data.format (%s)", path.Ext(k), strings.Join(Formats, ", "))
			}
			if !ok {
				return nil
			}
			format = f
		}
		files = append(files, inputFile{path: b.URL(k), format: format})
		return nil
	}
	if _, _, err := b.Stat(ctx, key); err == nil {
		return files, add(key, true)
	} else if !errors.Is(err, storage.ErrNotExist) {
		return nil, fmt.Errorf("resolve %s: %w", src.Path, err)
	}
	objs, err := b.List(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", src.Path, err)
	}
	for _, o := range objs {
		if strings.Contains("/"+strings.TrimPrefix(o.Key, key+"/"), "/.") {
			continue
		}
		if err := add(o.Key, false); err != nil {
			return nil, err
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("resolve %s: %w: no such object, and no data objects under that prefix", src.Path, ErrNoFiles)
	}
	return files, nil
}

// openParquetURL opens a Parquet object for ranged reads, with the
// checks openParquet makes of a local file.
func openParquetURL(ctx context.Context, url string) (rdr *file.Reader, err error) {
	b, key, err := splitURL(url)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", url, err)
	}
	r, err := b.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", url, err)
	}
	if err := checkMagicAt(url, r, r.Size()); err != nil {
		return nil, err
	}
	defer func() {
		if rec := recover(); rec != nil {
			rdr, err = nil, invalid(CodeRead, url, "", "not a readable Parquet file: %v", rec)
		}
	}()
	rdr, err = file.NewParquetReader(r)
	if err != nil {
		return nil, invalid(CodeRead, url, "", "not a readable Parquet file: %v", err)
	}
	return rdr, nil
}

// downloadURL copies an object to a temporary file, for the formats that
// are read as a stream; remove deletes it.
func downloadURL(ctx context.Context, url string) (local string, remove func(), err error) {
	b, key, err := splitURL(url)
	if err != nil {
		return "", nil, fmt.Errorf("open %s: %w", url, err)
	}
	dir, err := os.MkdirTemp("", "mlpipe-ingest-")
	if err != nil {
		return "", nil, fmt.Errorf("open %s: %w", url, err)
	}
	local = dir + "/" + path.Base(key)
	if err := b.Download(ctx, key, local); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("open %s: %w", url, err)
	}
	return local, func() { os.RemoveAll(dir) }, nil
}
