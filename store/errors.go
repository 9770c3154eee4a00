package store

import "errors"

// Sentinel errors. Backends wrap them with %w and callers test them with
// errors.Is; the text is not part of the contract.
var (
	// ErrNotFound: the record does not exist (in the transaction's tenant).
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: Create found a record with the same ID, or a unique
	// attribute (a user's email in its tenant, a license key digest, a user
	// token or refresh family ID across all tenants) is taken.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrConflict: the transaction read data that a concurrent transaction
	// changed before it could commit. Nothing was written; the caller may run
	// the closure again.
	ErrConflict = errors.New("store: transaction conflict")
	// ErrLocked: the backend's files are in use by another process or by
	// another open Store in this process.
	ErrLocked = errors.New("store: locked by another process")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrReadOnly: a write was attempted inside View.
	ErrReadOnly = errors.New("store: write in a read-only transaction")
	// ErrInvalid: an argument cannot be stored: an empty or malformed ID, a
	// record whose TenantID names another tenant, a malformed cursor.
	ErrInvalid = errors.New("store: invalid argument")
)
