package kv

import "context"

// Txn is one transaction of an ordered key-value store.
//
// Keys and values passed in may be retained by the implementation only as
// copies; slices returned belong to the caller.
type Txn interface {
	// Get returns the value of key, or an error matching store.ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Set writes key. In a read-only transaction it fails with
	// store.ErrReadOnly.
	Set(key, value []byte) error
	// Delete removes key; removing an absent key is not an error. In a
	// read-only transaction it fails with store.ErrReadOnly.
	Delete(key []byte) error
	// Scan calls fn for every key with the given prefix, in ascending byte
	// order, starting at the first key >= start (start nil or shorter than
	// prefix: from the prefix). fn returns more=false to stop. key and value
	// are valid only during the call. fn must not write to the transaction.
	// Scan sees the transaction's own writes.
	Scan(prefix, start []byte, fn func(key, value []byte) (more bool, err error)) error
}

// DB is an ordered key-value store with serializable transactions.
//
// View and Update behave as store.Store's: Update commits only when fn
// returns nil, atomically and durably; a commit that lost a race with a
// concurrent transaction returns an error matching store.ErrConflict.
// After Close they return store.ErrClosed. Close is idempotent.
type DB interface {
	View(ctx context.Context, fn func(Txn) error) error
	Update(ctx context.Context, fn func(Txn) error) error
	Close() error
}
