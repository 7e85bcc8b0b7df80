package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Lock takes the writer lock. With wait false it fails at once with an
// error wrapping ErrLocked that names the holder ("registry is locked by
// pid 1234 since 2026-11-25T03:00:00Z"); with wait true it waits until
// the lock is free or ctx is done. The returned function releases it.
func (s *Store) Lock(ctx context.Context, wait bool) (unlock func() error, err error) {
	return s.flock(ctx, wait, ".lock", ErrLocked)
}

// TrainingLock takes the training lock, which a whole `mlpipe run` holds
// so that a scheduler, a crontab entry and a person never train against
// one registry at the same time. It is separate from the writer lock
// (Lock), which is held only while writing. With wait false a second
// run fails at once with an error wrapping ErrTraining that names the
// holder.
func (s *Store) TrainingLock(ctx context.Context, wait bool) (unlock func() error, err error) {
	return s.flock(ctx, wait, ".training.lock", ErrTraining)
}

// flock takes an exclusive flock on the file name in the store's root;
// a busy lock is reported as busy, naming the holder.
func (s *Store) flock(ctx context.Context, wait bool, name string, busy error) (unlock func() error, err error) {
	if s.remote != nil {
		return s.leaseLock(ctx, wait, name, busy)
	}
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return nil, fmt.Errorf("lock registry: %w", err)
	}
	path := filepath.Join(s.root, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock registry: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock registry: %w", err)
		}
		if !wait {
			holder, _ := io.ReadAll(io.LimitReader(f, 200))
			f.Close()
			return nil, fmt.Errorf("%w by %s", busy, strings.TrimSpace(string(holder)))
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock registry: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Record the holder for the error message of the next writer.
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
		_ = f.Sync()
	}
	return func() error {
		_ = f.Truncate(0)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
			f.Close()
			return fmt.Errorf("unlock registry: %w", err)
		}
		return f.Close()
	}, nil
}

// TrainingIdle takes the training lock if no run holds it, for a repair
// that must not race a run: ok is false (and unlock nil) while a run is
// training.
func (s *Store) TrainingIdle(ctx context.Context) (unlock func() error, ok bool, err error) {
	unlock, err = s.TrainingLock(ctx, false)
	if errors.Is(err, ErrTraining) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return unlock, true, nil
}
