package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/internal/fsx"
)

// SetAlias points alias at a version of model name, replacing what it
// pointed at in one atomic rename. The caller holds the writer lock.
// Moving production should go through pipeline.Promote, which checks the
// version first.
func (s *Store) SetAlias(name, alias string, version int) error {
	if err := checkName("alias", alias); err != nil {
		return fmt.Errorf("set alias: %w", err)
	}
	if s.remote != nil {
		if err := checkName("model", name); err != nil {
			return fmt.Errorf("set alias: %w", err)
		}
		return s.setAliasS3(name, alias, version)
	}
	if _, err := s.VersionDir(name, version); err != nil {
		return fmt.Errorf("set alias %s: %w", alias, err)
	}
	dir := filepath.Join(s.modelDir(name), "aliases")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("set alias: %w", err)
	}
	crash.Point("alias-" + alias)
	return fsx.WriteFile(filepath.Join(dir, alias), []byte(strconv.Itoa(version)+"\n"), 0o644)
}

// Alias returns the version an alias of model name points at.
func (s *Store) Alias(name, alias string) (int, error) {
	if err := checkName("model", name); err != nil {
		return 0, err
	}
	if err := checkName("alias", alias); err != nil {
		return 0, err
	}
	if s.remote != nil {
		return s.aliasS3(name, alias)
	}
	b, err := os.ReadFile(filepath.Join(s.modelDir(name), "aliases", alias))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s@%s: %w", name, alias, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("%s@%s: %w", name, alias, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s@%s: corrupt alias file: %w", name, alias, err)
	}
	return v, nil
}

// Aliases returns every alias of model name and the version it points at.
func (s *Store) Aliases(name string) (map[string]int, error) {
	if err := checkName("model", name); err != nil {
		return nil, err
	}
	if s.remote != nil {
		return s.aliasesS3(name)
	}
	entries, err := os.ReadDir(filepath.Join(s.modelDir(name), "aliases"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("aliases of %q: %w", name, err)
	}
	out := map[string]int{}
	for _, e := range entries {
		if fsx.IsTemp(e.Name()) {
			continue
		}
		v, err := s.Alias(name, e.Name())
		if err != nil {
			return nil, err
		}
		out[e.Name()] = v
	}
	return out, nil
}
