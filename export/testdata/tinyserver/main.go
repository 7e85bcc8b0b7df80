// Command tinyserver stands in for mlserve in TestExportedExecutableRuns:
// it finds the payload appended to itself, as mlserve does at start-up,
// and prints what it holds. Exit 3 means it carries none.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlpipe/mlpipe/export"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tinyserver:", err)
		if errors.Is(err, export.ErrNoPayload) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

func run() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	p, err := export.Open(exe)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tinyserver-bundle-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := p.ExtractTo(dir); err != nil {
		return err
	}
	m := p.Meta
	fmt.Printf("model=%s version=%d run=%s data=%s config=%s code=%s exported_at=%s\n",
		m.Model, m.Version, m.RunID, m.DataFingerprint, m.ConfigHash, m.CodeVersion, m.ExportedAt.Format("2006-01-02T15:04:05Z07:00"))
	fmt.Printf("files=%s\n", strings.Join(p.Files(), ","))
	for _, name := range []string{"model.json", "sub/notes.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		fmt.Printf("%s=%s\n", name, strings.TrimSpace(string(b)))
	}
	return nil
}
