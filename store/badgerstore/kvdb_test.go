package badgerstore

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/internal/kv"
	"github.com/licensekit/licensekit/store"
)

// openKV opens a store in dir and returns its raw key-value adapter.
func openKV(t *testing.T, dir string) (*Store, *kvDB) {
	t.Helper()
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, s.db
}

func get(t *testing.T, db kv.DB, key string) ([]byte, error) {
	t.Helper()
	var v []byte
	err := db.View(context.Background(), func(txn kv.Txn) error {
		var err error
		v, err = txn.Get([]byte(key))
		return err
	})
	return v, err
}

func set(t *testing.T, db kv.DB, kvs ...string) {
	t.Helper()
	require.NoError(t, db.Update(context.Background(), func(txn kv.Txn) error {
		for i := 0; i+1 < len(kvs); i += 2 {
			if err := txn.Set([]byte(kvs[i]), []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	}))
}

type pair struct{ K, V string }

func scan(t *testing.T, txn kv.Txn, prefix, start string, limit int) []pair {
	t.Helper()
	var out []pair
	var st []byte
	if start != "" {
		st = []byte(start)
	}
	require.NoError(t, txn.Scan([]byte(prefix), st, func(k, v []byte) (bool, error) {
		out = append(out, pair{string(k), string(v)})
		return limit <= 0 || len(out) < limit, nil
	}))
	return out
}

func TestKVGetSetDelete(t *testing.T) {
	_, db := openKV(t, t.TempDir())
	ctx := context.Background()

	_, err := get(t, db, "missing")
	require.ErrorIs(t, err, store.ErrNotFound)

	key, val := []byte("k1"), []byte("v1")
	require.NoError(t, db.Update(ctx, func(txn kv.Txn) error {
		if err := txn.Set(key, val); err != nil {
			return err
		}
		// The adapter copied both: changing them now changes nothing.
		key[1], val[1] = 'X', 'X'
		got, err := txn.Get([]byte("k1"))
		require.NoError(t, err)
		require.Equal(t, "v1", string(got))
		return nil
	}))
	got, err := get(t, db, "k1")
	require.NoError(t, err)
	require.Equal(t, "v1", string(got))
	got[0] = 'Z' // a returned value is the caller's
	got, err = get(t, db, "k1")
	require.NoError(t, err)
	require.Equal(t, "v1", string(got))

	require.NoError(t, db.Update(ctx, func(txn kv.Txn) error {
		require.NoError(t, txn.Delete([]byte("k1")))
		_, err := txn.Get([]byte("k1"))
		require.ErrorIs(t, err, store.ErrNotFound)
		return txn.Delete([]byte("never-there")) // not an error
	}))
	_, err = get(t, db, "k1")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestKVReadOnly(t *testing.T) {
	_, db := openKV(t, t.TempDir())
	err := db.View(context.Background(), func(txn kv.Txn) error {
		require.ErrorIs(t, txn.Set([]byte("a"), []byte("b")), store.ErrReadOnly)
		require.ErrorIs(t, txn.Delete([]byte("a")), store.ErrReadOnly)
		return nil
	})
	require.NoError(t, err)
}

func TestKVScan(t *testing.T) {
	_, db := openKV(t, t.TempDir())
	set(t, db, "a/1", "1", "a/2", "2", "a/3", "3", "b/1", "x", "a", "root", "a0", "z")

	require.NoError(t, db.View(context.Background(), func(txn kv.Txn) error {
		require.Equal(t, []pair{{"a/1", "1"}, {"a/2", "2"}, {"a/3", "3"}}, scan(t, txn, "a/", "", 0))
		require.Equal(t, []pair{{"a/2", "2"}, {"a/3", "3"}}, scan(t, txn, "a/", "a/2", 0))
		require.Equal(t, []pair{{"a/3", "3"}}, scan(t, txn, "a/", "a/2\x00", 0))
		require.Equal(t, []pair{{"a/1", "1"}}, scan(t, txn, "a/", "", 1))
		// start shorter than the prefix, or before it: from the prefix.
		require.Equal(t, 3, len(scan(t, txn, "a/", "a", 0)))
		require.Equal(t, 3, len(scan(t, txn, "a/", "0000000", 0)))
		// start past the prefix's keys: nothing.
		require.Empty(t, scan(t, txn, "a/", "a/9", 0))
		require.Empty(t, scan(t, txn, "c/", "", 0))
		// An error from fn is returned unchanged.
		boom := errors.New("boom")
		err := txn.Scan([]byte("a/"), nil, func(k, v []byte) (bool, error) { return true, boom })
		require.Same(t, boom, err)
		return nil
	}))

	// A read-write transaction's Scan sees its own sets and deletes.
	require.NoError(t, db.Update(context.Background(), func(txn kv.Txn) error {
		require.NoError(t, txn.Set([]byte("a/0"), []byte("new")))
		require.NoError(t, txn.Set([]byte("a/2"), []byte("changed")))
		require.NoError(t, txn.Delete([]byte("a/3")))
		require.NoError(t, txn.Set([]byte("a/4"), []byte("4")))
		require.Equal(t, []pair{{"a/0", "new"}, {"a/1", "1"}, {"a/2", "changed"}, {"a/4", "4"}}, scan(t, txn, "a/", "", 0))
		require.Equal(t, []pair{{"a/2", "changed"}, {"a/4", "4"}}, scan(t, txn, "a/", "a/2", 0))
		return nil
	}))
}

func TestKVUpdateErrorWritesNothing(t *testing.T) {
	_, db := openKV(t, t.TempDir())
	boom := errors.New("boom")
	err := db.Update(context.Background(), func(txn kv.Txn) error {
		require.NoError(t, txn.Set([]byte("k"), []byte("v")))
		return boom
	})
	require.Same(t, boom, err)
	_, err = get(t, db, "k")
	require.ErrorIs(t, err, store.ErrNotFound)

	ctx, cancel := context.WithCancel(context.Background())
	err = db.Update(ctx, func(txn kv.Txn) error {
		require.NoError(t, txn.Set([]byte("k"), []byte("v")))
		cancel()
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	_, err = get(t, db, "k")
	require.ErrorIs(t, err, store.ErrNotFound)

	// A done ctx does not even start a transaction.
	require.ErrorIs(t, db.View(ctx, func(kv.Txn) error { return nil }), context.Canceled)
	require.ErrorIs(t, db.Update(ctx, func(kv.Txn) error { return nil }), context.Canceled)
}

func TestKVConflict(t *testing.T) {
	_, db := openKV(t, t.TempDir())
	set(t, db, "counter", "0")
	ctx := context.Background()

	read := make(chan struct{})
	proceed := make(chan struct{})
	errA := make(chan error, 1)
	go func() {
		errA <- db.Update(ctx, func(txn kv.Txn) error {
			v, err := txn.Get([]byte("counter"))
			if err != nil {
				return err
			}
			close(read)
			<-proceed
			return txn.Set([]byte("counter"), append(v, 'a'))
		})
	}()
	<-read
	require.NoError(t, db.Update(ctx, func(txn kv.Txn) error {
		v, err := txn.Get([]byte("counter"))
		if err != nil {
			return err
		}
		return txn.Set([]byte("counter"), append(v, 'b'))
	}))
	close(proceed)
	err := <-errA
	require.ErrorIs(t, err, store.ErrConflict)

	v, err := get(t, db, "counter")
	require.NoError(t, err)
	require.Equal(t, "0b", string(v))
}

func TestKVTxnUnusableAfterClosure(t *testing.T) {
	_, db := openKV(t, t.TempDir())
	var leaked kv.Txn
	require.NoError(t, db.Update(context.Background(), func(txn kv.Txn) error {
		leaked = txn
		return nil
	}))
	_, err := leaked.Get([]byte("k"))
	require.Error(t, err)
	require.Error(t, leaked.Set([]byte("k"), []byte("v")))
	require.Error(t, leaked.Scan([]byte("k"), nil, func(k, v []byte) (bool, error) { return true, nil }))
}

func TestKVCloseWaitsForTransactions(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	db := s.db

	inside := make(chan struct{})
	release := make(chan struct{})
	updateErr := make(chan error, 1)
	go func() {
		updateErr <- db.Update(context.Background(), func(txn kv.Txn) error {
			close(inside)
			<-release
			return txn.Set([]byte("late"), []byte("kept"))
		})
	}()
	<-inside

	closeErr := make(chan error, 1)
	go func() { closeErr <- db.Close() }()
	// Wait until Close has begun (no new transactions), without sleeping.
	for {
		db.mu.Lock()
		closed := db.closed
		db.mu.Unlock()
		if closed {
			break
		}
		runtime.Gosched()
	}
	require.ErrorIs(t, db.View(context.Background(), func(kv.Txn) error { return nil }), store.ErrClosed)
	select {
	case err := <-closeErr:
		t.Fatalf("Close returned (%v) while a transaction was in flight", err)
	default:
	}
	close(release)
	require.NoError(t, <-updateErr)
	require.NoError(t, <-closeErr)
	require.NoError(t, s.Close())

	_, db2 := openKV(t, dir)
	v, err := get(t, db2, "late")
	require.NoError(t, err)
	require.Equal(t, "kept", string(v))
}

func TestKVClosed(t *testing.T) {
	s, db := openKV(t, t.TempDir())
	require.NoError(t, s.Close())
	require.NoError(t, db.Close())
	require.ErrorIs(t, db.View(context.Background(), func(kv.Txn) error { return nil }), store.ErrClosed)
	require.ErrorIs(t, db.Update(context.Background(), func(kv.Txn) error { return nil }), store.ErrClosed)
}

func TestMapErr(t *testing.T) {
	require.NoError(t, mapErr(nil))
	for in, want := range map[error]error{
		badger.ErrKeyNotFound: store.ErrNotFound,
		badger.ErrConflict:    store.ErrConflict,
		badger.ErrReadOnlyTxn: store.ErrReadOnly,
		badger.ErrDBClosed:    store.ErrClosed,
		badger.ErrEmptyKey:    store.ErrInvalid,
		badger.ErrInvalidKey:  store.ErrInvalid,
	} {
		require.ErrorIs(t, mapErr(in), want, "%v", in)
	}
	require.ErrorIs(t, mapErr(badger.ErrTxnTooBig), badger.ErrTxnTooBig)
}
