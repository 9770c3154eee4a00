package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/licensekit/licensekit/internal/kv"
	"github.com/licensekit/licensekit/store"
)

// kvDB adapts a *badger.DB to kv.DB. It owns the Badger handle, the
// directory lock and the value-log GC goroutine, and releases all three in
// Close, after the transactions in flight have finished.
type kvDB struct {
	bdb    *badger.DB
	lock   *dirLock
	logger *slog.Logger // nil: silent

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup

	gcStop chan struct{}
	gcDone chan struct{}

	closeOnce sync.Once
}

var _ kv.DB = (*kvDB)(nil)

func newKVDB(bdb *badger.DB, lock *dirLock, logger *slog.Logger) *kvDB {
	return &kvDB{bdb: bdb, lock: lock, logger: logger}
}

// startGC runs value-log GC every interval until Close.
func (d *kvDB) startGC(interval time.Duration, discardRatio float64) {
	d.gcStop = make(chan struct{})
	d.gcDone = make(chan struct{})
	go d.gcLoop(interval, discardRatio)
}

func (d *kvDB) gcLoop(interval time.Duration, discardRatio float64) {
	defer close(d.gcDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-d.gcStop:
			return
		case <-t.C:
		}
		// A successful run rewrote one file; run again while it finds work,
		// but never more than gcRunsPerTick times, and stop at Close.
		for range gcRunsPerTick {
			select {
			case <-d.gcStop:
				return
			default:
			}
			err := d.bdb.RunValueLogGC(discardRatio)
			if err == nil {
				continue
			}
			if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) && d.logger != nil {
				d.logger.Warn("badgerstore: value-log GC failed", slog.Any("error", err))
			}
			break
		}
	}
}

// begin registers a transaction in flight; ErrClosed after Close.
func (d *kvDB) begin() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("badgerstore: %w", store.ErrClosed)
	}
	d.inflight.Add(1)
	return nil
}

// View implements kv.DB.
func (d *kvDB) View(ctx context.Context, fn func(kv.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.begin(); err != nil {
		return err
	}
	defer d.inflight.Done()

	btx := d.bdb.NewTransaction(false)
	defer btx.Discard()
	t := &kvTxn{txn: btx}
	defer t.finish()
	return fn(t)
}

// Update implements kv.DB.
func (d *kvDB) Update(ctx context.Context, fn func(kv.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.begin(); err != nil {
		return err
	}
	defer d.inflight.Done()

	btx := d.bdb.NewTransaction(true)
	defer btx.Discard()
	t := &kvTxn{txn: btx, update: true}
	err := fn(t)
	t.finish()
	if err != nil {
		return err
	}
	// A ctx that ended while fn ran must not commit.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := btx.Commit(); err != nil {
		return mapErr(err)
	}
	return nil
}

// Close implements kv.DB. It waits for the transactions in flight, stops
// the GC goroutine, closes Badger (which flushes its memtables) and releases
// the directory lock. Only the first call does work or reports an error.
func (d *kvDB) Close() error {
	var err error
	d.closeOnce.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.mu.Unlock()
		d.inflight.Wait()

		if d.gcStop != nil {
			close(d.gcStop)
			<-d.gcDone
		}
		if cerr := d.bdb.Close(); cerr != nil {
			err = fmt.Errorf("badgerstore: close: %w", cerr)
		}
		err = errors.Join(err, d.lock.release())
	})
	return err
}

var _ kv.Txn = (*kvTxn)(nil)

// kvTxn adapts a *badger.Txn to kv.Txn.
type kvTxn struct {
	txn    *badger.Txn
	update bool
	done   bool   // fn has returned: the Txn must not be used any more
	buf    []byte // Scan's reusable value buffer
}

var errTxnDone = errors.New("badgerstore: transaction used after its closure returned")

func (t *kvTxn) finish() { t.done = true }

// Get implements kv.Txn. The value returned is a copy.
func (t *kvTxn) Get(key []byte) ([]byte, error) {
	if t.done {
		return nil, errTxnDone
	}
	item, err := t.txn.Get(key)
	if err != nil {
		return nil, mapErr(err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, mapErr(err)
	}
	return v, nil
}

// Set implements kv.Txn. Badger keeps references to key and value until
// the commit, so it is given a private copy of both.
func (t *kvTxn) Set(key, value []byte) error {
	if t.done {
		return errTxnDone
	}
	if !t.update {
		return fmt.Errorf("badgerstore: %w", store.ErrReadOnly)
	}
	b := make([]byte, len(key)+len(value))
	n := copy(b, key)
	copy(b[n:], value)
	return mapErr(t.txn.Set(b[:n:n], b[n:]))
}

// Delete implements kv.Txn.
func (t *kvTxn) Delete(key []byte) error {
	if t.done {
		return errTxnDone
	}
	if !t.update {
		return fmt.Errorf("badgerstore: %w", store.ErrReadOnly)
	}
	return mapErr(t.txn.Delete(bytes.Clone(key)))
}

// Scan implements kv.Txn. Badger's iterator in a read-write transaction
// merges the transaction's pending writes (as of the iterator's creation),
// so Scan sees its own transaction's writes and deletes.
func (t *kvTxn) Scan(prefix, start []byte, fn func(key, value []byte) (bool, error)) error {
	if t.done {
		return errTxnDone
	}
	seek := prefix
	if len(start) >= len(prefix) && bytes.Compare(start, prefix) > 0 {
		seek = start
	}
	it := t.txn.NewIterator(badger.IteratorOptions{
		// Values are read one by one as fn asks for them: pages stop early,
		// and small values live next to their keys anyway.
		PrefetchValues: false,
		Prefix:         prefix,
	})
	defer it.Close()
	for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		v, err := item.ValueCopy(t.buf[:0])
		if err != nil {
			return mapErr(err)
		}
		t.buf = v
		more, err := fn(item.Key(), v)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

// mapErr translates Badger's errors into the store's sentinels.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return store.ErrNotFound
	case errors.Is(err, badger.ErrConflict):
		return fmt.Errorf("badgerstore: %w", store.ErrConflict)
	case errors.Is(err, badger.ErrReadOnlyTxn):
		return fmt.Errorf("badgerstore: %w", store.ErrReadOnly)
	case errors.Is(err, badger.ErrDBClosed), errors.Is(err, badger.ErrBlockedWrites):
		return fmt.Errorf("badgerstore: %w", store.ErrClosed)
	case errors.Is(err, badger.ErrEmptyKey), errors.Is(err, badger.ErrInvalidKey), errors.Is(err, badger.ErrBannedKey):
		return fmt.Errorf("badgerstore: %w: %w", store.ErrInvalid, err)
	case errors.Is(err, badger.ErrTxnTooBig):
		return fmt.Errorf("badgerstore: transaction exceeds the size limit (raise Options.MemTableSize): %w", err)
	}
	return fmt.Errorf("badgerstore: %w", err)
}
