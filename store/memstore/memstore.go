package memstore

import (
	"bytes"
	"context"
	"sync"

	"github.com/licensekit/licensekit/internal/kv"
	"github.com/licensekit/licensekit/store"
)

// Store is an in-memory store.Store. Its transactions are serializable:
// Update runs one at a time and View runs beside other Views, so Update
// never fails with store.ErrConflict; a conflicting Update simply sees the
// earlier one's writes. Nothing survives Close or the process.
type Store struct {
	typed *kv.Store
}

var _ store.Store = (*Store)(nil)

// New returns an empty in-memory store.
func New() *Store {
	return &Store{typed: kv.New(&db{data: newSkiplist()})}
}

// View implements store.Store.
func (s *Store) View(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.typed.View(ctx, fn)
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.typed.Update(ctx, fn)
}

// Close implements store.Store: it waits for transactions in flight and
// makes later ones fail with store.ErrClosed.
func (s *Store) Close() error { return s.typed.Close() }

// db is the ordered map behind the Store, guarded by one RWMutex.
type db struct {
	mu   sync.RWMutex
	data *skiplist
}

var _ kv.DB = (*db)(nil)

func (d *db) View(_ context.Context, fn func(kv.Txn) error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return fn(&txn{db: d, readOnly: true})
}

func (d *db) Update(_ context.Context, fn func(kv.Txn) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := &txn{db: d}
	if err := fn(t); err != nil {
		t.rollback()
		return err
	}
	return nil
}

func (d *db) Close() error { return nil }

var _ kv.Txn = (*txn)(nil)

// txn writes straight into the map under the DB's exclusive lock and keeps
// an undo log, so a failed Update is rolled back before anyone can see it.
type txn struct {
	db       *db
	readOnly bool
	undo     []undo
}

type undo struct {
	key, value []byte
	existed    bool
}

func (t *txn) Get(key []byte) ([]byte, error) {
	v, ok := t.db.data.get(key)
	if !ok {
		return nil, store.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (t *txn) Set(key, value []byte) error {
	if t.readOnly {
		return store.ErrReadOnly
	}
	old, existed := t.db.data.set(bytes.Clone(key), bytes.Clone(value))
	t.undo = append(t.undo, undo{key: bytes.Clone(key), value: old, existed: existed})
	return nil
}

func (t *txn) Delete(key []byte) error {
	if t.readOnly {
		return store.ErrReadOnly
	}
	if old, existed := t.db.data.remove(key); existed {
		t.undo = append(t.undo, undo{key: bytes.Clone(key), value: old, existed: true})
	}
	return nil
}

func (t *txn) Scan(prefix, start []byte, fn func(key, value []byte) (bool, error)) error {
	if bytes.Compare(start, prefix) < 0 {
		start = prefix
	}
	var err error
	t.db.data.ascend(start, func(n *node) bool {
		if !bytes.HasPrefix(n.key, prefix) {
			return false
		}
		var more bool
		more, err = fn(n.key, n.value)
		return err == nil && more
	})
	return err
}

func (t *txn) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		if u.existed {
			t.db.data.set(u.key, u.value)
		} else {
			t.db.data.remove(u.key)
		}
	}
	t.undo = nil
}
