package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/mlpipe/mlpipe/ui"
)

// runUI is `mlpipe ui`: the dashboard of a registry (package ui), served
// until ctx is cancelled (Ctrl-C).
func runUI(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "ui", "[--registry DIR | --config FILE] [--addr HOST:PORT] [flags]",
		"Serve the dashboard of a registry: the runs (sortable, filterable, compared side by\n"+
			"side), each run's report, the models with their versions and aliases, and\n"+
			"monitoring (drift and performance over time, the latest backtest). Server-rendered\n"+
			"HTML, no scripts. Read-only unless --allow-actions, which adds promote and rollback\n"+
			"buttons. It has no authentication, so it listens on loopback only unless\n"+
			"--allow-remote. docs/ui.md describes the pages.\n\n"+exitCodesHelp)
	var dir, cfgPath, addr, backtestPath string
	var allowActions, allowRemote bool
	f.addRegistry(&dir, &cfgPath)
	f.StringVar(&addr, "addr", "127.0.0.1:8090", "address to listen on (host:port; port 0 picks a free one)")
	f.BoolVar(&allowActions, "allow-actions", false, "enable the promote and rollback buttons (POST, with a CSRF token)")
	f.BoolVar(&allowRemote, "allow-remote", false, "allow an address other than loopback (the dashboard has no authentication)")
	f.StringVar(&backtestPath, "backtest", filepath.Join("out", "simulate", "backtest.json"), "a backtest.json of mlpipe simulate to show if no newer one is under REGISTRY/backtests/")
	if err := f.parse(e, args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", f.Arg(0)))
	}
	if err := ui.CheckAddr(addr, allowRemote); err != nil {
		if errors.Is(err, ui.ErrNotLoopback) {
			return usageError(fmt.Sprintf("--addr: %v: the dashboard has no authentication; pass --allow-remote to serve it beyond this machine", err))
		}
		return usageError(fmt.Sprintf("--addr: %v", err))
	}
	store, err := openRegistry(e, dir, cfgPath)
	if err != nil {
		return err
	}
	opts := ui.Options{AllowActions: allowActions, Log: e.log}
	if backtestPath != "" {
		if _, err := os.Stat(backtestPath); err == nil {
			opts.Backtests = []string{backtestPath}
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           ui.Handler(store, opts),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      60 * time.Second, // a cold report of a large run loads its model
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	mode := "read-only"
	if allowActions {
		mode = "actions enabled"
	}
	fmt.Fprintf(e.stdout, "mlpipe ui: http://%s/ (registry %s, %s)\n", ln.Addr(), store.Root(), mode)
	e.log.Info("ui listening", "addr", ln.Addr().String(), "registry", store.Root(), "actions", allowActions)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
