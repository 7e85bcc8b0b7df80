package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/suggest"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/report"
)

// defaultConfig is the config whose registry the commands that need one
// use when given neither --registry nor --config: the one `make run`
// runs, found when mlpipe runs in the repository.
const defaultConfig = "configs/flights.yaml"

// openRegistry opens the registry named by --registry, or else by the
// registry.path of --config, or else by that of defaultConfig if it is
// there.
func openRegistry(e *env, dir, cfgPath string) (*registry.Store, error) {
	if dir == "" && cfgPath == "" {
		if _, err := os.Stat(defaultConfig); err != nil {
			return nil, usageHint("no registry given", "pass --registry DIR, or --config FILE to use its registry.path; "+
				"in the repository "+defaultConfig+" is the default")
		}
		cfgPath = defaultConfig
		e.log.Info("no --registry or --config: using the registry of the default config", "config", defaultConfig)
	}
	if dir == "" {
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			return nil, err
		}
		if dir = cfg.Registry.Path; dir == "" {
			return nil, usageHint(cfgPath+" has no registry.path", "pass --registry DIR")
		}
	}
	if strings.HasPrefix(dir, "s3://") { // object storage: nothing to stat
		return registry.Open(dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "models")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("registry %s: no such registry (`mlpipe run` with a registry.path makes it)", dir)
		}
		return nil, fmt.Errorf("registry %s: %w", dir, err)
	}
	return registry.Open(dir)
}

// resolve resolves a model reference; when it names nothing, the error
// says what the registry holds (registry.Store.Hint).
func resolve(store *registry.Store, ref string) (string, int, error) {
	name, v, err := store.Resolve(ref)
	if errors.Is(err, registry.ErrNotFound) {
		return "", 0, &hinted{fmt.Errorf("model %s: %w in %s", ref, registry.ErrNotFound, store), store.Hint(ref)}
	}
	return name, v, err
}

// hinted is an error with a hint for its reader, printed after it in
// parentheses.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string {
	if e.hint == "" {
		return e.err.Error()
	}
	return e.err.Error() + " (" + e.hint + ")"
}

func (e *hinted) Unwrap() error { return e.err }

func runModels(ctx context.Context, e *env, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	about := map[string]string{
		"list":     "list [flags]: every model with its versions and aliases",
		"show":     "show NAME[@ALIAS|@VERSION] [flags]: a version's model, metrics, gate decision and lineage",
		"promote":  "promote NAME@VERSION [flags]: point production at VERSION (previous keeps the old one)",
		"rollback": "rollback NAME [flags]: point production back at previous",
	}
	subs := []string{"list", "show", "promote", "rollback"}
	if _, ok := about[sub]; !ok {
		var lines []string
		for _, k := range subs {
			lines = append(lines, "  mlpipe models "+about[k])
		}
		if sub == "" || sub == "help" {
			fmt.Fprintf(e.stdout, "Usage:\n%s\n", strings.Join(lines, "\n"))
			if sub == "help" || askedHelp(args) {
				return nil
			}
			return usageHint("a subcommand is required", "list, show, promote or rollback")
		}
		return usageHint(fmt.Sprintf("unknown subcommand %q", sub), hint(suggest.DidYouMean(sub, subs, nil), "want list, show, promote or rollback"))
	}
	f := newFlags(e, "models "+sub, "", "mlpipe models "+about[sub]+".\nAliases move by one atomic rename, under the registry's writer lock.\n\n"+exitCodesHelp)
	var dir, cfgPath string
	f.addRegistry(&dir, &cfgPath)
	f.addJSON()
	// Flags may come before or after the model reference.
	var refs []string
	for {
		if err := f.parse(e, args); err != nil {
			return err
		}
		if f.NArg() == 0 {
			break
		}
		refs = append(refs, f.Arg(0))
		args = f.Args()[1:]
	}
	store, err := openRegistry(e, dir, cfgPath)
	if err != nil {
		return err
	}
	arg := ""
	if len(refs) > 0 {
		arg = refs[0]
	}
	if sub != "list" && len(refs) != 1 {
		return usageHint(fmt.Sprintf("want one model reference, got %d", len(refs)), "for example flights-delay@production")
	}
	switch sub {
	case "list":
		return modelsList(e, f, store)
	case "show":
		return modelsShow(e, f, store, arg)
	}
	unlock, err := store.Lock(ctx, false)
	if err != nil {
		return err
	}
	defer unlock()
	switch sub {
	case "promote":
		if !strings.Contains(arg, "@") {
			return usageHint("name the version", "for example "+arg+"@3")
		}
		name, v, err := resolve(store, arg)
		if err != nil {
			return err
		}
		return moveProduction(e, store, name, v)
	default: // rollback
		name := arg
		if _, _, err := resolve(store, name); err != nil {
			return err
		}
		prev, err := store.Alias(name, pipeline.AliasPrevious)
		if err != nil {
			return fmt.Errorf("%s: no previous version to roll back to: %w", name, err)
		}
		return moveProduction(e, store, name, prev)
	}
}

// moveProduction points production at v and previous at the old
// production version, once v has passed the check before every
// promotion (pipeline.Promote).
func moveProduction(e *env, store *registry.Store, name string, v int) error {
	old, err := pipeline.Promote(store, name, v)
	switch {
	case err != nil:
		return err
	case old == v:
		fmt.Fprintf(e.stdout, "%s@production is already version %d\n", name, v)
	case old > 0:
		fmt.Fprintf(e.stdout, "%s@production: version %d → %d (previous: %d)\n", name, old, v, old)
	default:
		fmt.Fprintf(e.stdout, "%s@production: version %d\n", name, v)
	}
	return nil
}

type modelListing struct {
	Name     string         `json:"name"`
	Versions []int          `json:"versions"`
	Aliases  map[string]int `json:"aliases"`
}

func modelsList(e *env, f *flags, store *registry.Store) error {
	names, err := store.Models()
	if err != nil {
		return err
	}
	var out []modelListing
	for _, n := range names {
		vs, err := store.Versions(n)
		if err != nil {
			return err
		}
		al, err := store.Aliases(n)
		if err != nil {
			return err
		}
		out = append(out, modelListing{Name: n, Versions: vs, Aliases: al})
	}
	if f.jsonOut {
		return writeJSON(e, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(e.stdout, "no models in %s\n", store)
	}
	for _, m := range out {
		var al []string
		for _, k := range sortedKeys(m.Aliases) {
			al = append(al, fmt.Sprintf("%s=v%d", k, m.Aliases[k]))
		}
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", m.Name, versionSpan(m.Versions), strings.Join(al, " "))
	}
	return nil
}

// versionSpan describes a model's versions: "1 version (v1)", "3
// versions (v1..v3)".
func versionSpan(vs []int) string {
	switch len(vs) {
	case 0:
		return "no versions"
	case 1:
		return fmt.Sprintf("1 version (v%d)", vs[0])
	}
	return fmt.Sprintf("%d versions (v%d..v%d)", len(vs), vs[0], vs[len(vs)-1])
}

func modelsShow(e *env, f *flags, store *registry.Store, ref string) error {
	name, v, err := resolve(store, ref)
	if err != nil {
		return err
	}
	dir, err := store.VersionDir(name, v)
	if err != nil {
		return err
	}
	show := map[string]any{"name": name, "version": v, "dir": dir}
	if digest, err := store.Digest(name, v); err == nil {
		show["digest"] = digest
	}
	// The record: which run made the version, when, and the gate's decision.
	if rec, err := bundle.ReadRecord(dir); err == nil {
		var gate map[string]any
		if json.Unmarshal(rec.Gate, &gate) == nil {
			show["gate"] = gate
		}
		show["record"] = map[string]any{"run_id": rec.RunID, "created_at": rec.CreatedAt}
	}
	for _, part := range []string{"training", "evaluation"} {
		var doc map[string]any
		if err := fsx.ReadJSON(filepath.Join(dir, part+".json"), &doc); err == nil {
			if part == "evaluation" {
				// The headline metrics; the curves stay in the file.
				keep := map[string]any{}
				for _, k := range []string{"roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "f1", "ece", "macro_f1", "rmse", "mae", "r2", "median_ae", "rows"} {
					if x, ok := doc[k]; ok {
						keep[k] = x
					}
				}
				doc = keep
			}
			show[part] = doc
		}
	}
	if f.jsonOut {
		return writeJSON(e, show)
	}
	fmt.Fprintf(e.stdout, "%s version %d (%s)\n", name, v, dir)
	if d, ok := show["digest"].(string); ok {
		fmt.Fprintf(e.stdout, "digest: %s\n", d)
	}
	for _, part := range []string{"training", "record", "evaluation", "gate"} {
		doc, ok := show[part].(map[string]any)
		if !ok {
			continue
		}
		fmt.Fprintf(e.stdout, "%s:\n", part)
		for _, k := range sortedKeys(doc) {
			fmt.Fprintf(e.stdout, "  %-18s %v\n", k, doc[k])
		}
	}
	return nil
}

func runRegistry(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "help" || askedHelp(args)) {
			fmt.Fprintln(e.stdout, "Usage: mlpipe registry check [--repair] [--all] [--registry DIR | --config FILE]")
			return nil
		}
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return usageHint("a subcommand is required", "mlpipe registry check [--repair] [--all]")
		}
		return usageHint(fmt.Sprintf("unknown subcommand %q", args[0]), hint(suggest.DidYouMean(args[0], []string{"check"}, nil), "want check"))
	}
	f := newFlags(e, "registry check", "[--repair] [--all] [--registry DIR | --config FILE]",
		"Verify the registry:\n"+
			"  * every version's files against its manifest (sha256 of each file);\n"+
			"  * every version an alias points at (every version, with --all) loads and scores\n"+
			"    its signature example as recorded, as mlserve checks before serving it;\n"+
			"  * aliases point at versions that exist;\n"+
			"  * run records agree with the versions: a run killed mid-way (its record says\n"+
			"    running and no run is training), a version its run's record does not name;\n"+
			"  * leftovers of interrupted writes (temporary files and directories).\n"+
			"--repair (under the writer lock, while no run trains) removes the leftovers, marks\n"+
			"killed runs interrupted with what they did to the registry (resume them with\n"+
			"`mlpipe run --resume RUN_ID`), corrects run records from the registry, and writes\n"+
			"the manifest of a version registered before manifests. A damaged version is\n"+
			"reported, not repaired: point its aliases elsewhere (`mlpipe models promote`).\n"+
			"Exit 3 when problems remain.\n\n"+exitCodesHelp)
	var dir, cfgPath string
	var repair, all bool
	f.addRegistry(&dir, &cfgPath)
	f.BoolVar(&repair, "repair", false, "repair what can be repaired (see above)")
	f.BoolVar(&all, "all", false, "load every version, not only those an alias points at")
	f.addJSON()
	if err := f.parse(e, args[1:]); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", f.Arg(0)))
	}
	store, err := openRegistry(e, dir, cfgPath)
	if err != nil {
		return err
	}
	// A repair waits for no one: it needs the writer lock, and no run
	// training (a running record is then certainly a killed run's).
	idle := false
	if unlockTraining, ok, err := store.TrainingIdle(ctx); err != nil {
		return err
	} else if ok {
		idle = true
		defer unlockTraining()
	} else if repair {
		return fmt.Errorf("registry check --repair: %w: a run is training against this registry; repair when it is done", registry.ErrTraining)
	}
	if repair {
		unlock, err := store.Lock(ctx, false)
		if err != nil {
			return err
		}
		defer unlock()
	}
	check := func(repair bool) ([]registry.Problem, error) {
		problems, err := store.Check(registry.CheckOptions{Repair: repair, Load: pipeline.CheckVersion, All: all})
		if err != nil {
			return problems, err
		}
		runs, err := pipeline.CheckRuns(store, repair, idle)
		return append(problems, runs...), err
	}
	problems, err := check(repair)
	if err != nil {
		return err
	}
	if repair {
		// A killed run never wrote its report: write it from its record.
		problems = append(problems, writeMissingReports(store)...)
	}
	remaining := problems
	if repair {
		if remaining, err = check(false); err != nil {
			return err
		}
	}
	if f.jsonOut {
		if err := writeJSON(e, map[string]any{"registry": store.String(), "problems": problems, "remaining": len(remaining)}); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			verb := "found"
			if p.Repaired {
				verb = "repaired"
			}
			fmt.Fprintf(e.stdout, "%s: %s\n", verb, p.What)
		}
		if len(remaining) == 0 {
			fmt.Fprintf(e.stdout, "registry %s: ok\n", store)
		}
	}
	if len(remaining) == 0 {
		return nil
	}
	return &reportedErr{fmt.Errorf("%w: %d", errRegistryProblems, len(remaining))}
}

// writeMissingReports writes the HTML report of every interrupted run
// that has none (a killed run stops before it writes one), and returns
// what it did as repaired problems. The caller holds the writer lock.
func writeMissingReports(store *registry.Store) []registry.Problem {
	ids, _ := store.Runs()
	var done []registry.Problem
	for _, id := range ids {
		dir, err := store.RunDir(id)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, report.File)); err == nil {
			continue
		}
		sum, b, err := report.Read(store, id)
		if err != nil || sum.Status != pipeline.StatusInterrupted {
			continue
		}
		var page bytes.Buffer
		if report.Write(&page, sum, b) != nil || fsx.WriteFile(filepath.Join(dir, report.File), page.Bytes(), 0o644) != nil {
			continue
		}
		done = append(done, registry.Problem{What: fmt.Sprintf("run %s had no report: %s written from its record", id, report.File), Repaired: true})
	}
	return done
}

// errRegistryProblems means `registry check` found problems (exit 3).
var errRegistryProblems = errors.New("problems found")

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
