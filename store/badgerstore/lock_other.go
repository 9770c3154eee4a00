//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package badgerstore

// On platforms without flock(2) the store relies on Badger's own directory
// lock; its failure is reported as Badger reports it.
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) release() error { return nil }

func badgerLockHeld(string) bool { return false }
