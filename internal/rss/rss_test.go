package rss

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	status := "Name:\tmlpipe\nVmPeak:\t 9999 kB\nVmHWM:\t  2048 kB\nVmRSS:\t   1024 kB\nThreads:\t4\n"
	if err := os.WriteFile(path, []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	old := statusPath
	statusPath = path
	defer func() { statusPath = old }()
	if cur, hwm := read(); cur != 1<<20 || hwm != 2<<20 {
		t.Errorf("read = %d, %d; want %d, %d", cur, hwm, 1<<20, 2<<20)
	}
	statusPath = filepath.Join(t.TempDir(), "missing")
	if cur, hwm := read(); cur != 0 || hwm != 0 {
		t.Errorf("read of a missing file = %d, %d; want 0, 0", cur, hwm)
	}
}

// touch allocates n bytes and writes every page, so that they are
// resident.
func touch(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	return b
}

// TestMeter: a stretch that allocates 64 MB peaks at least 60 MB above
// the resident size at its start, both when it sets the process's peak
// (VmHWM) and when an earlier, larger peak hides it (sampling).
func TestMeter(t *testing.T) {
	if Current() == 0 {
		t.Skip("no /proc/self/status")
	}
	const size = 64 << 20
	for _, tc := range []struct {
		name  string
		setup func()
	}{
		{"new peak", func() {}},
		{"below an earlier peak", func() {
			b := touch(4 * size)
			runtime.KeepAlive(b)
			b = nil
			debug.FreeOSMemory()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			debug.FreeOSMemory()
			start := Current()
			hwm := Peak()
			m := Start()
			b := touch(size)
			time.Sleep(5 * SampleEvery) // held long enough to be sampled
			runtime.KeepAlive(b)
			b = nil
			debug.FreeOSMemory()
			peak := m.Stop()
			if peak < start+size-4<<20 {
				t.Errorf("peak %d MB, want at least %d MB (start %d MB + 64 MB)", peak>>20, (start+size-4<<20)>>20, start>>20)
			}
			if tc.name != "new peak" && Peak() > hwm {
				t.Logf("the process's peak rose (%d -> %d MB): the case measured VmHWM, not the samples", hwm>>20, Peak()>>20)
			}
		})
	}
}
