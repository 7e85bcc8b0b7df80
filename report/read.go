package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
)

// The files of a run record (registry.Store.SaveRun) that Read uses.
const (
	SummaryFile = "summary.json"
	ConfigFile  = "config.json"
	// File is where `mlpipe report` and `mlpipe run` write the report,
	// in the run's directory.
	File = "report.html"
)

// Read loads run id of store: its summary and, when the run registered
// a model version (the gate decision's Version), that version's bundle,
// found by the model name of the run's recorded config. The bundle is
// nil when the run registered nothing or the version is no longer in
// the registry. An unknown or malformed id is an error wrapping
// registry.ErrNotFound.
func Read(store *registry.Store, id string) (*pipeline.Summary, *bundle.Bundle, error) {
	dir, err := store.RunDir(id)
	if err != nil {
		return nil, nil, fmt.Errorf("read run: %w", err)
	}
	sum, err := ReadSummary(dir)
	if err != nil {
		return nil, nil, err
	}
	if sum.Gate == nil || sum.Gate.Version == 0 {
		return sum, nil, nil
	}
	name, err := ModelName(dir)
	if err != nil || name == "" {
		return sum, nil, err
	}
	vdir, err := store.VersionDir(name, sum.Gate.Version)
	if errors.Is(err, registry.ErrNotFound) {
		return sum, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read run %s: %w", id, err)
	}
	b, err := bundle.Load(vdir)
	if err != nil {
		return nil, nil, fmt.Errorf("read run %s: %w", id, err)
	}
	return sum, b, nil
}

// ReadSummary reads the summary.json of a run directory.
func ReadSummary(dir string) (*pipeline.Summary, error) {
	data, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, fmt.Errorf("read run summary: %w", err)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal(data, &sum); err != nil {
		return nil, fmt.Errorf("read run summary %s: %w", filepath.Join(dir, SummaryFile), err)
	}
	return &sum, nil
}

// ModelName returns the registry model name of the config recorded in a
// run directory ("" if the run has no recorded config).
func ModelName(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read run config: %w", err)
	}
	var cfg struct {
		Name string `json:"Name"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", fmt.Errorf("read run config %s: %w", filepath.Join(dir, ConfigFile), err)
	}
	return cfg.Name, nil
}
