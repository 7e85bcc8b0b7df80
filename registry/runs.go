package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/mlpipe/mlpipe/internal/fsx"
)

// SaveRun writes a run record: each file of files (name → a JSON value,
// or []byte written as it is) under runs/ID/. The first save creates the
// record whole: its files are written in a temporary directory that is
// renamed into place, so a record is complete or absent. Later saves
// replace the files named, each atomically. Only the run itself writes
// its record (and `registry check --repair` once no run is training), so
// a save does not take the writer lock.
func (s *Store) SaveRun(id string, files map[string]any) error {
	if err := checkName("run id", id); err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	if s.remote != nil {
		return s.saveRunS3(id, files)
	}
	dir := filepath.Join(s.root, "runs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	final := filepath.Join(dir, id)
	if info, err := os.Stat(final); err == nil && info.IsDir() {
		for name, v := range files {
			if err := writeRunFile(filepath.Join(final, name), v); err != nil {
				return fmt.Errorf("save run %s: %w", id, err)
			}
		}
		return nil
	}
	tmp, err := fsx.TempDir(dir, id)
	if err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	for name, v := range files {
		if err := writeRunFile(filepath.Join(tmp, name), v); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("save run %s: %w", id, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("save run: %w", err)
	}
	return fsx.SyncDir(dir)
}

func writeRunFile(path string, v any) error {
	if b, ok := v.([]byte); ok {
		return fsx.WriteFile(path, b, 0o644)
	}
	return fsx.WriteJSON(path, v)
}

// Runs lists the run ids, oldest first (ids sort by start time).
func (s *Store) Runs() ([]string, error) {
	if s.remote != nil {
		ctx, cancel := opContext()
		defer cancel()
		ids, _, err := s.runsS3(ctx)
		return ids, err
	}
	entries, err := os.ReadDir(filepath.Join(s.root, "runs"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && !fsx.IsTemp(e.Name()) && checkName("run id", e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// RunDir returns the directory of run id, or ErrNotFound.
func (s *Store) RunDir(id string) (string, error) {
	if checkName("run id", id) != nil {
		return "", fmt.Errorf("run %q: %w", id, ErrNotFound)
	}
	if s.remote != nil {
		return s.runDirS3(id)
	}
	d := filepath.Join(s.root, "runs", id)
	if info, err := os.Stat(d); err != nil || !info.IsDir() {
		return "", fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return d, nil
}
