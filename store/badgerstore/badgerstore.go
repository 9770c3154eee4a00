package badgerstore

import (
	"context"
	"fmt"
	"os"

	"github.com/dgraph-io/badger/v4"

	"github.com/licensekit/licensekit/internal/kv"
	"github.com/licensekit/licensekit/store"
)

// Store is a store.Store kept in a Badger database in one directory. Open
// it with Open and Close it when done. Safe for concurrent use.
type Store struct {
	db *kvDB
	kv *kv.Store
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store in dir. Only one Store may have
// a directory open at a time, in this process or any other: a second Open
// fails with an error matching store.ErrLocked until the first is closed
// (or its process has died).
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("badgerstore: %w: empty directory", store.ErrInvalid)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("badgerstore: create directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	bdb, err := badger.Open(opts.badgerOptions(dir))
	if err != nil {
		_ = lock.release()
		// Another program using Badger directly on dir: Badger's own
		// directory lock refuses.
		if badgerLockHeld(dir) {
			return nil, fmt.Errorf("badgerstore: directory %s is in use by another process: %w", dir, store.ErrLocked)
		}
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	db := newKVDB(bdb, lock, opts.Logger)
	if opts.GCInterval > 0 {
		db.startGC(opts.GCInterval, opts.GCDiscardRatio)
	}
	return &Store{db: db, kv: kv.New(db)}, nil
}

// View implements store.Store: fn runs in a read-only transaction over one
// consistent snapshot.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.kv.View(ctx, fn)
}

// Update implements store.Store: fn runs in a read-write transaction that
// commits when fn returns nil. Unless Options.DisableSyncWrites is set, the
// commit has been fsynced when Update returns. A commit that lost a race
// with a concurrent transaction returns an error matching store.ErrConflict.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.kv.Update(ctx, fn)
}

// Close waits for the transactions in flight, stops the background GC,
// closes Badger (flushing its memtables: nothing committed is lost) and
// releases the directory lock. It is idempotent: later calls return nil.
// After Close, View and Update return an error matching store.ErrClosed.
// Close must not be called from inside a transaction's fn.
func (s *Store) Close() error {
	err := s.kv.Close()
	// kv.Store.Close closes the DB; closing it again is a no-op that
	// covers a typed layer that did not.
	if derr := s.db.Close(); err == nil {
		err = derr
	}
	return err
}
