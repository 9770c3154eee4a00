//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package badgerstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/licensekit/licensekit/store"
)

// lockFileName is the file inside the store's directory that carries the
// exclusive lock of the process that has the store open.
const lockFileName = "licensekit.lock"

// dirLock is an exclusive flock(2) on <dir>/licensekit.lock. flock locks
// belong to the open file description, so a second Open in the same process
// conflicts just like one in another process, and the kernel drops the lock
// when the process dies (kill -9 included): there is no stale lock to clean.
type dirLock struct {
	f *os.File
}

func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("badgerstore: open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("badgerstore: directory %s is in use by another open store: %w", dir, store.ErrLocked)
		}
		return nil, fmt.Errorf("badgerstore: lock %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Closing the descriptor releases the flock; the explicit unlock just
	// makes the intent obvious. The file itself stays: removing it would
	// race with a concurrent Open that already holds a descriptor to it.
	uerr := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	cerr := l.f.Close()
	l.f = nil
	if cerr != nil {
		return fmt.Errorf("badgerstore: release lock: %w", cerr)
	}
	if uerr != nil {
		return fmt.Errorf("badgerstore: release lock: %w", uerr)
	}
	return nil
}

// badgerLockHeld reports whether another process holds Badger's own
// directory lock (<dir>/LOCK): what makes badger.Open fail when a program
// uses Badger directly on dir. Badger's error wraps nothing, so the lock
// itself is asked rather than the error's text.
func badgerLockHeld(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "LOCK"))
	if err != nil {
		return false
	}
	defer f.Close()
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
