package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/manifest"
)

// CheckOptions say what Check does beyond reading.
type CheckOptions struct {
	// Repair removes the leftovers of interrupted writes and writes the
	// manifest of a version that has none (one registered before
	// versions had manifests: its files are taken as they are). The
	// caller holds the writer lock.
	Repair bool
	// Load, if set, is called with each version an alias points at (each
	// version, with All) that verified against its manifest: it loads the
	// version as serving would and returns why it cannot.
	Load func(dir, name string, version int) error
	All  bool
}

// Problem is one thing Check found wrong.
type Problem struct {
	// What names the file or object and what is wrong with it.
	What string `json:"what"`
	// Repaired is true when Check repaired it.
	Repaired bool `json:"repaired,omitempty"`
}

func (p Problem) String() string { return p.What }

// Check walks the store and returns what is wrong with it: the leftovers
// of interrupted writes (temporary files and directories), versions
// whose files do not match their manifest (or that have none), aliases
// that point at missing versions, and, with opts.Load, versions an alias
// points at that do not load. With opts.Repair it removes the leftovers
// and adopts versions without a manifest; the rest it reports (a damaged
// version cannot be rebuilt: move its aliases to another with `mlpipe
// models promote` or `rollback`). Run records are checked against the
// versions by pipeline.CheckRuns.
func (s *Store) Check(opts CheckOptions) ([]Problem, error) {
	if s.remote != nil {
		return s.checkS3(opts)
	}
	var problems []Problem
	leftovers := func(dir string) error {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("check registry: %w", err)
		}
		for _, e := range entries {
			if !fsx.IsTemp(e.Name()) {
				continue
			}
			p := Problem{What: "leftover of an interrupted write: " + filepath.Join(dir, e.Name())}
			if opts.Repair {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					return fmt.Errorf("repair: %w", err)
				}
				p.Repaired = true
			}
			problems = append(problems, p)
		}
		return nil
	}
	if err := leftovers(filepath.Join(s.root, "runs")); err != nil {
		return problems, err
	}
	models, err := s.Models()
	if err != nil {
		return nil, fmt.Errorf("check registry: %w", err)
	}
	for _, name := range models {
		dir := s.modelDir(name)
		for _, sub := range []string{dir, filepath.Join(dir, "aliases")} {
			if err := leftovers(sub); err != nil {
				return problems, err
			}
		}
		versions, err := s.Versions(name)
		if err != nil {
			return problems, err
		}
		good := map[int]bool{}
		for _, v := range versions {
			p, err := s.checkVersion(name, v, opts.Repair)
			if err != nil {
				return problems, err
			}
			if p != nil {
				problems = append(problems, *p)
			}
			good[v] = p == nil || p.Repaired
		}
		aliases, _ := os.ReadDir(filepath.Join(dir, "aliases"))
		targets := map[int]bool{}
		for _, a := range aliases {
			if fsx.IsTemp(a.Name()) {
				continue
			}
			v, err := s.Alias(name, a.Name())
			if err == nil {
				_, err = s.VersionDir(name, v)
			}
			if err != nil {
				problems = append(problems, Problem{What: fmt.Sprintf("alias %s@%s: %v", name, a.Name(), err)})
				continue
			}
			targets[v] = true
		}
		if opts.Load == nil {
			continue
		}
		for _, v := range versions {
			if !good[v] || !targets[v] && !opts.All {
				continue
			}
			vdir, _ := s.VersionDir(name, v)
			if err := opts.Load(vdir, name, v); err != nil {
				problems = append(problems, Problem{What: fmt.Sprintf("%s@%d does not load: %v", name, v, err)})
			}
		}
	}
	return problems, nil
}

// checkVersion verifies a version against its manifest, adopting one
// without a manifest when repairing.
func (s *Store) checkVersion(name string, v int, repair bool) (*Problem, error) {
	dir, err := s.VersionDir(name, v)
	if err != nil {
		return nil, err
	}
	_, err = bundle.Verify(dir)
	if err == nil {
		// A version holds its bundle and nothing else.
		m, _, err := manifest.Read(os.DirFS(dir))
		if err != nil {
			return nil, err
		}
		extra, err := manifest.Unlisted(os.DirFS(dir), m, bundle.RecordFile)
		if err != nil {
			return nil, fmt.Errorf("check registry: %s@%d: %w", name, v, err)
		}
		if len(extra) > 0 {
			return &Problem{What: fmt.Sprintf("%s@%d: %v: added after the version was registered (not in its manifest; no reader reads them)", name, v, extra)}, nil
		}
		return nil, nil
	}
	if !errors.Is(err, bundle.ErrCorrupt) {
		return nil, fmt.Errorf("check registry: %w", err)
	}
	p := &Problem{What: fmt.Sprintf("%s@%d: %v", name, v, err)}
	if _, _, merr := manifest.Read(os.DirFS(dir)); repair && errors.Is(merr, manifest.ErrNoManifest) {
		if _, _, err := manifest.WriteAll(dir, bundle.RecordFile); err != nil {
			return nil, fmt.Errorf("repair: %w", err)
		}
		p.What += " (adopted: manifest written over its files as they are)"
		p.Repaired = true
	}
	return p, nil
}
