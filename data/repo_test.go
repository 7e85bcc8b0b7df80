package data_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// maxTrackedBytes bounds the size of any file the repository tracks,
// except the shipped datasets: a build output (a 60 MB mlserve binary
// once) must never be committed again.
const maxTrackedBytes = 5 << 20

// datasets may exceed maxTrackedBytes; each is listed in SHA256SUMS.
var datasets = map[string]bool{"data/flights-3m.parquet": true}

// TestNoLargeFiles fails on any tracked file over 5 MB other than a
// shipped dataset. It reads the index with git ls-files, so it is
// skipped outside a git checkout (a source tarball).
func TestNoLargeFiles(t *testing.T) {
	out, err := exec.Command("git", "-C", "..", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if datasets[name] {
			continue
		}
		fi, err := os.Stat("../" + name)
		if err != nil {
			continue // deleted in the work tree, not yet committed
		}
		if fi.Size() > maxTrackedBytes {
			t.Errorf("%s is tracked and %d bytes (over %d): build outputs belong in bin/ or dist/, which git ignores", name, fi.Size(), maxTrackedBytes)
		}
	}
}
