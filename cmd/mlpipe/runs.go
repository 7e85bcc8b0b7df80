package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/suggest"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
)

// runRuns is `mlpipe runs list|show|compare`: the run records that
// `mlpipe run` keeps in the registry's runs/.
func runRuns(ctx context.Context, e *env, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "list", "show", "compare":
	case "", "help":
		fmt.Fprintln(e.stdout, "Usage:\n  mlpipe runs list [flags]\n  mlpipe runs show RUN_ID [flags]\n  mlpipe runs compare RUN_ID RUN_ID... [flags]")
		if sub == "help" || askedHelp(args) {
			return nil
		}
		return usageHint("a subcommand is required", "list, show or compare")
	default:
		return usageHint(fmt.Sprintf("unknown subcommand %q", sub), hint(suggest.DidYouMean(sub, []string{"list", "show", "compare"}, nil), "want list, show or compare"))
	}
	f := newFlags(e, "runs "+sub, "[RUN_ID...] [--registry DIR | --config FILE]",
		"List the runs recorded by `mlpipe run`, show one, or compare several side by side\n"+
			"(status, duration, data fingerprint, selected model and parameters, test metrics,\n"+
			"gate decision).\n\n"+exitCodesHelp)
	var dir, cfgPath string
	f.addRegistry(&dir, &cfgPath)
	f.addJSON()
	var ids []string
	for {
		if err := f.parse(e, args); err != nil {
			return err
		}
		if f.NArg() == 0 {
			break
		}
		ids = append(ids, f.Arg(0))
		args = f.Args()[1:]
	}
	store, err := openRegistry(e, dir, cfgPath)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		if ids, err = store.Runs(); err != nil {
			return err
		}
	case "show":
		if len(ids) != 1 {
			return usageHint("want one run id", "mlpipe runs list lists them")
		}
	case "compare":
		if len(ids) < 2 {
			return usageHint("want two or more run ids", "mlpipe runs list lists them")
		}
	}
	sums := make([]*pipeline.Summary, len(ids))
	for i, id := range ids {
		if sums[i], err = readRun(store, id); err != nil {
			return err
		}
	}
	if f.jsonOut {
		if sub == "show" {
			return writeJSON(e, sums[0])
		}
		return writeJSON(e, sums)
	}
	if sub == "show" {
		printSummary(e.stdout, sums[0])
		return nil
	}
	printRunTable(e, sums, sub == "compare")
	return nil
}

// runDir returns the directory of a run record; when there is none, the
// error says where the ids are listed.
func runDir(store *registry.Store, id string) (string, error) {
	dir, err := store.RunDir(id)
	if err != nil {
		return "", &hinted{fmt.Errorf("%w in %s", err, store), "mlpipe runs list --registry " + store.String() + " lists the runs"}
	}
	return dir, nil
}

func readRun(store *registry.Store, id string) (*pipeline.Summary, error) {
	dir, err := runDir(store, id)
	if err != nil {
		return nil, err
	}
	var sum pipeline.Summary
	if err := fsx.ReadJSON(filepath.Join(dir, "summary.json"), &sum); err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	return &sum, nil
}

// runFacts are the rows of `runs list` and `runs compare`, in order.
func runFacts(s *pipeline.Summary) [][2]string {
	facts := [][2]string{{"status", s.Status}, {"started", s.StartedAt}}
	var secs float64
	for _, st := range s.Stages {
		secs += st.Duration.Seconds()
	}
	facts = append(facts, [2]string{"seconds", fmt.Sprintf("%.1f", secs)}, [2]string{"code", s.CodeVersion})
	fp := s.Fingerprint
	if len(fp) > 19 {
		fp = fp[:19] // "sha256:" and 12 hex digits
	}
	facts = append(facts, [2]string{"data", fp})
	if s.Model != nil {
		facts = append(facts, [2]string{"model", s.Model.Kind})
	}
	for _, l := range s.Leaderboard {
		if b, _ := l["best"].(bool); b {
			facts = append(facts, [2]string{"params", paramsText(l["params"])}, [2]string{"valid " + fmt.Sprint(l["metric"]), fmt.Sprintf("%.4f", l["valid"])})
		}
	}
	if r := s.Evaluation; r != nil && r.RegressionMetrics != nil {
		m := r.RegressionMetrics
		facts = append(facts, [2]string{"test rmse", fmt.Sprintf("%.4g", m.RMSE)}, [2]string{"test mae", fmt.Sprintf("%.4g", m.MAE)},
			[2]string{"test r2", fmt.Sprintf("%.4f", m.R2)})
	} else if r != nil {
		facts = append(facts, [2]string{"test log_loss", fmt.Sprintf("%.4f", r.LogLoss)}, [2]string{"test accuracy", fmt.Sprintf("%.4f", r.Accuracy)})
		if b := r.BinaryMetrics; b != nil {
			facts = append(facts, [2]string{"test roc_auc", fmt.Sprintf("%.4f", b.ROCAUC)}, [2]string{"test pr_auc", fmt.Sprintf("%.4f", b.PRAUC)})
		}
	}
	if g := s.Gate; g != nil {
		// The gate's decision, and what became of it in the registry.
		d := "kept"
		switch {
		case g.Promote && s.Registry != nil && s.Registry.Promoted,
			g.Promote && s.Registry == nil && s.Status == pipeline.StatusOK: // a record from before RegistryOutcome
			d = "promoted"
		case g.Promote:
			d = "not promoted"
		case g.Rejected:
			d = "rejected"
		}
		v := "none"
		if o := s.Registry; o != nil && o.Version > 0 {
			v = fmt.Sprintf("v%d", o.Version)
		} else if o == nil && g.Version > 0 {
			v = fmt.Sprintf("v%d", g.Version) // a record from before RegistryOutcome
		}
		facts = append(facts, [2]string{"gate", fmt.Sprintf("%s (%s)", d, v)})
	}
	return facts
}

// paramsText shows a model's parameters as the summary does: JSON with
// sorted keys, "{}" for the defaults (fmt printed a Go map, "map[]").
func paramsText(params any) string {
	if params == nil {
		return "{}"
	}
	b, err := json.Marshal(params)
	if err != nil {
		return fmt.Sprint(params)
	}
	return string(b)
}

// printRunTable prints one row per run (list) or one column per run
// (compare, with the rows that differ marked '*').
func printRunTable(e *env, sums []*pipeline.Summary, compare bool) {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	if !compare {
		fmt.Fprintln(tw, "run\tstatus\tseconds\tmodel\ttest roc_auc\tgate")
		for _, s := range sums {
			f := map[string]string{}
			for _, kv := range runFacts(s) {
				f[kv[0]] = kv[1]
			}
			score := f["test roc_auc"]
			if rmse, ok := f["test rmse"]; ok { // a regression's
				score = "rmse " + rmse
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.RunID, f["status"], f["seconds"], f["model"], score, f["gate"])
		}
		return
	}
	ids := make([]string, len(sums))
	for i, s := range sums {
		ids[i] = s.RunID
	}
	fmt.Fprintf(tw, "\t%s\n", strings.Join(ids, "\t"))
	var order []string
	values := map[string][]string{}
	for i, s := range sums {
		for _, kv := range runFacts(s) {
			if _, ok := values[kv[0]]; !ok {
				order = append(order, kv[0])
				values[kv[0]] = make([]string, len(sums))
			}
			values[kv[0]][i] = kv[1]
		}
	}
	for _, k := range order {
		mark := " "
		for _, v := range values[k][1:] {
			if v != values[k][0] {
				mark = "*" // differs between the runs
			}
		}
		fmt.Fprintf(tw, "%s %s\t%s\n", mark, k, strings.Join(values[k], "\t"))
	}
}
