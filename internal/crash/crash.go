// Package crash is fault injection for the crash-safety tests.
//
// In: the environment variable MLPIPE_CRASH_AT, naming one point. Out:
// at that point, the process sends itself SIGKILL — no deferred cleanup,
// no flushed buffers, exactly as if the machine had lost power for this
// process. Tests set the variable on a child `mlpipe` process to prove
// that a kill at any named point leaves the registry consistent. Unset,
// Point costs one environment lookup.
package crash

import (
	"os"
	"syscall"
)

// EnvVar names the crash point to die at.
const EnvVar = "MLPIPE_CRASH_AT"

// Point kills the process if the environment names this point.
func Point(name string) {
	if os.Getenv(EnvVar) == name {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
