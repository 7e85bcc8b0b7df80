package data_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"
)

// TestChecksums verifies every file listed in SHA256SUMS, the file that
// `sha256sum -c` reads. The flights entry was copied from the steering
// repository's shared/data/SHA256SUMS, which records the vega-datasets
// 3.2.1 file.
func TestChecksums(t *testing.T) {
	f, err := os.Open("SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: malformed line %q", sc.Text())
		}
		n++
		t.Run(name, func(t *testing.T) {
			got, err := sha256File(name)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("sha256 = %s, want %s", got, want)
			}
		})
	}
	if n == 0 {
		t.Fatal("SHA256SUMS lists no files")
	}
}

func sha256File(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
