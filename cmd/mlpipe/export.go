package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/export"
	"github.com/mlpipe/mlpipe/pipeline"
)

func runExport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "export", "--model NAME[@ALIAS|@VERSION] -o FILE [flags]",
		"Write ONE self-contained serving executable: a copy of mlserve with the model\n"+
			"bundle appended (features, model, signature). It runs with no registry, no data and\n"+
			"no Go toolchain: ./FILE --addr 127.0.0.1:8080; ./FILE --version prints the model,\n"+
			"its version, data fingerprint and code version.\n\n"+exitCodesHelp)
	var dir, cfgPath, ref, out, server string
	f.addRegistry(&dir, &cfgPath)
	f.StringVar(&ref, "model", "", "the model to export: NAME, NAME@ALIAS or NAME@VERSION (default alias production)")
	f.StringVar(&out, "o", "", "the executable to write (required), e.g. dist/flights-delay-server")
	f.StringVar(&server, "server", "", "the mlserve binary to copy (default: mlserve next to this mlpipe binary)")
	if err := f.parse(e, args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", f.Arg(0)))
	}
	if ref == "" || out == "" {
		return usageHint("--model and -o are required", "for example --model flights-delay@production -o dist/flights-delay-server")
	}
	store, err := openRegistry(e, dir, cfgPath)
	if err != nil {
		return err
	}
	name, version, err := resolve(store, ref)
	if err != nil {
		return err
	}
	vdir, err := store.VersionDir(name, version)
	if err != nil {
		return err
	}
	// Check the bundle before shipping it: its files against its
	// manifest, and that it loads and scores its example as mlserve will.
	b, err := bundle.Load(vdir)
	if err != nil {
		return err
	}
	if err := pipeline.CheckVersion(vdir, name, version); err != nil {
		return fmt.Errorf("export %s@%d: %w", name, version, err)
	}
	if server == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		server = filepath.Join(filepath.Dir(exe), "mlserve")
	}
	if _, err := os.Stat(server); err != nil {
		return usageHint("no mlserve binary at "+server, "run make build, or pass --server")
	}
	if d := filepath.Dir(out); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	meta := export.Meta{
		Model: name, Version: version, DataFingerprint: b.Fingerprint, ConfigHash: b.ConfigHash,
		CodeVersion: b.CodeVersion, RunID: b.RunID, ExportedAt: time.Now().UTC(), Digest: b.Digest,
	}
	if err := export.Write(ctx, out, server, vdir, meta); err != nil {
		if errors.Is(err, export.ErrHasPayload) {
			return usageHint(server+" is itself an exported server", "pass the plain mlserve with --server")
		}
		return err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exported   %s v%d (%s, data %s, bundle %s) to %s, %.1f MB\n", name, version, b.Kind, short(b.Fingerprint), short(b.Digest), out, float64(fi.Size())/1e6)
	fmt.Fprintf(e.stdout, "serve it   %s --addr 127.0.0.1:8080\n", out)
	return nil
}

// short abbreviates a sha256 fingerprint for a summary line.
func short(fp string) string {
	if len(fp) > 19 {
		return fp[:19] + "…"
	}
	return fp
}
