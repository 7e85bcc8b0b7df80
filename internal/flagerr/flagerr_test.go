package flagerr

import (
	"flag"
	"io"
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		args      []string
		msg, hint string
	}{
		{[]string{"--regsitry", "x"}, "unknown flag --regsitry", "did you mean --registry? see --help"},
		{[]string{"-regsitry=x"}, "unknown flag --regsitry", "did you mean --registry? see --help"},
		{[]string{"--turbo"}, "unknown flag --turbo", "see --help"},
		{[]string{"--registry"}, "--registry needs a value", "see --help"},
		{[]string{"--workers", "many"}, `--workers: invalid value "many": parse error`, "see --help"},
		{[]string{"--poll", "soon"}, `--poll: invalid value "soon": parse error`, "see --help"},
		{[]string{"--dry-run=perhaps"}, `--dry-run: invalid value "perhaps": parse error`, "see --help"},
		{[]string{"---x"}, "bad flag syntax: ---x", "see --help"},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.String("registry", "", "")
		fs.Int("workers", 1, "")
		fs.Duration("poll", time.Second, "")
		fs.Bool("dry-run", false, "")
		err := fs.Parse(tt.args)
		if err == nil {
			t.Fatalf("%v: no error", tt.args)
		}
		msg, hint := Describe(fs, err, "see --help")
		if msg != tt.msg || hint != tt.hint {
			t.Errorf("%v: %q (%q), want %q (%q)", tt.args, msg, hint, tt.msg, tt.hint)
		}
	}
}
