package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/licensekit/licensekit/store"
)

// DefaultSchema is the schema that holds the tables when Options.Schema is
// empty.
const DefaultSchema = "licensekit"

// maxIdentifierLength is PostgreSQL's NAMEDATALEN-1: longer names are
// truncated by the server, so two long schema names could meet.
const maxIdentifierLength = 63

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables,
	// created on Open if missing. Empty means DefaultSchema. Several
	// stores (for example one per test) can share a database, each in
	// its own schema. At most 63 bytes; any characters but NUL (the name
	// is quoted).
	Schema string
}

// Store is a store.Store kept in a PostgreSQL database. Safe for
// concurrent use, also by several processes on one database.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
	q       *queries

	// mu makes Close wait for transactions in flight: every transaction
	// holds a read lock, Close takes the write lock.
	mu     sync.RWMutex
	closed bool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a libpq connection string
// or URL, as pgxpool.ParseConfig reads it, pool settings such as
// pool_max_conns included), migrates the schema and returns the Store.
// Close closes the pool. ctx bounds the connection and the migration.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w: bad connection string: %w", store.ErrInvalid, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: create pool: %w", err)
	}
	s, err := newStore(ctx, pool, opts, true)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New returns a Store over a pool the host owns: Close leaves the pool
// open. The pool may serve the host's own queries as well; the store
// names its tables with their schema and does not depend on search_path.
// New migrates the schema, as Open does.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("pgstore: %w: nil pool", store.ErrInvalid)
	}
	return newStore(ctx, pool, opts, false)
}

func newStore(ctx context.Context, pool *pgxpool.Pool, opts Options, own bool) (*Store, error) {
	schema := opts.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	if len(schema) > maxIdentifierLength || containsNUL(schema) {
		return nil, fmt.Errorf("pgstore: %w: schema name %q: at most %d bytes, no NUL", store.ErrInvalid, schema, maxIdentifierLength)
	}
	if err := pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("pgstore: cannot reach PostgreSQL: %w", ctxOr(ctx, err))
	}
	if err := migrate(ctx, pool, schema); err != nil {
		return nil, ctxOr(ctx, err)
	}
	return &Store{pool: pool, ownPool: own, q: newQueries(schema)}, nil
}

func containsNUL(s string) bool {
	for i := range len(s) {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// View implements store.Store: fn runs in a READ ONLY transaction at
// REPEATABLE READ, which sees one snapshot (taken at its first
// statement). Writes fail with store.ErrReadOnly before reaching the
// server.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, true, fn)
}

// Update implements store.Store: fn runs in a SERIALIZABLE transaction
// that commits when fn returns nil. Serialization failures and deadlocks
// found by PostgreSQL, during fn or at commit, return an error matching
// store.ErrConflict; Update does not retry.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, false, fn)
}

func (s *Store) run(ctx context.Context, readOnly bool, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return mapErr(ctx, fmt.Errorf("pgstore: acquire a connection: %w", err))
	}
	// Release destroys a connection still in a transaction (one whose
	// ROLLBACK failed), so it never returns to the pool mid-transaction.
	defer conn.Release()
	t := &tx{ctx: ctx, conn: conn, q: s.q, readOnly: readOnly, begin: beginReadWrite}
	if readOnly {
		t.begin = beginReadOnly
	}
	ferr := fn(t)
	if ferr == nil && !readOnly {
		// A ctx that ended while fn ran must not commit.
		ferr = ctx.Err()
	}
	if ferr == nil && t.err != nil {
		// A statement failed and fn went on: the server has aborted the
		// transaction, so there is nothing to commit.
		ferr = t.err
	}
	if !t.begun {
		return ferr // fn sent nothing: there is no transaction to end
	}
	if ferr != nil || readOnly {
		rollback(ctx, conn)
		return ferr
	}
	// The commit is not cancelled by ctx: once it is sent, its outcome
	// must be known.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	tag, err := conn.Exec(cctx, "COMMIT")
	if err != nil {
		return mapErr(cctx, fmt.Errorf("pgstore: commit: %w", err))
	}
	if tag.String() != "COMMIT" {
		// The server ended the transaction with a rollback.
		return fmt.Errorf("pgstore: commit resulted in %s: %w", tag, store.ErrConflict)
	}
	return nil
}

// The statements that open a transaction; tx sends one in the same round
// trip as the transaction's first statement.
const (
	beginReadWrite = "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE"
	beginReadOnly  = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
)

func rollback(ctx context.Context, conn *pgxpool.Conn) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// A failed rollback leaves the connection in a transaction, or closed;
	// Release destroys it either way, which ends the transaction on the
	// server too.
	_, _ = conn.Exec(rctx, "ROLLBACK")
}

// Close waits for the transactions in flight and, when Open made the
// pool, closes it; a pool passed to New stays open. It is idempotent.
// After Close, View and Update return an error matching store.ErrClosed.
// Every Update that returned nil was committed by the server (durable as
// the server's synchronous_commit setting makes it), so Close has nothing
// to flush. Close must not be called from inside a transaction's fn.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// SQLSTATE codes the store maps to its sentinel errors.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeUniqueViolation      = "23505"
	codeReadOnlyTransaction  = "25006"
	codeUntranslatableChar   = "22P05"
	codeCharacterNotInRepert = "22021"
)

// mapErr maps an error of pgx to the store's errors: a done ctx to
// ctx.Err(), serialization failures and deadlocks to store.ErrConflict,
// unique violations to store.ErrAlreadyExists, a write refused by a read
// only transaction to store.ErrReadOnly. The original error stays in the
// chain.
func mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeSerializationFailure, codeDeadlockDetected:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case codeUniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrAlreadyExists, err)
		case codeReadOnlyTransaction:
			return fmt.Errorf("%w: %w", store.ErrReadOnly, err)
		case codeUntranslatableChar, codeCharacterNotInRepert:
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
	}
	return err
}

// ctxOr returns ctx.Err() (with err in the chain) when ctx is done, else
// err.
func ctxOr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}
