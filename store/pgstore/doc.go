// Package pgstore is the PostgreSQL backend of licensekit: a store.Store
// kept in a PostgreSQL database through github.com/jackc/pgx/v5.
//
// # When to choose it
//
// badgerstore is the default: embedded, nothing to run, and fastest for
// one process. Choose pgstore when several processes must share one
// licensing state (replicas behind a load balancer), or when the host
// already runs PostgreSQL (managed or self-hosted) and wants its backups,
// replication, monitoring and point-in-time recovery to cover licensing
// too. Every statement costs a round trip to the server: resolving a
// license key in a View took about 0.1 ms against a local server over a
// unix socket (BenchmarkLicenseByKeyDigest, 100k licenses), four to five
// times badgerstore's time, and a small read-then-write Update about
// 0.3 ms.
//
// # Where to start
//
// Open a DSN (a libpq connection string or URL; pgxpool settings such as
// pool_max_conns are read from it), hand the *Store to the engine, and
// Close it at shutdown:
//
//	s, err := pgstore.Open(ctx, "postgres://licensing@db.internal/app", pgstore.Options{})
//	if err != nil { ... }
//	defer s.Close()
//
// A host that already has a *pgxpool.Pool passes it to New instead; Close
// then leaves the pool open. The Store implements store.Store, so
// everything else (transactions, records, errors) is described by package
// store, and it passes the storetest conformance suite like the embedded
// backends.
//
// # Schema
//
// The tables live in one PostgreSQL schema, Options.Schema ("licensekit"
// by default), created on Open if missing. Every statement names its
// tables with that schema, so the pool's search_path does not matter and
// the pool may be shared with the host's own tables. The database must
// use the UTF8 encoding. The role needs CREATE on the database when the
// schema does not exist yet, and CREATE on the schema when a migration is
// pending; a DBA may create the schema beforehand and grant it.
//
// The schema is versioned. The migrations are numbered SQL files embedded
// in the binary (migrations/*.sql); schema_migrations records which ones
// ran. Open applies the missing ones in a single transaction that first
// takes pg_advisory_xact_lock for the schema, so processes that start at
// once migrate one after the other and the later ones find nothing to do;
// a migration that fails leaves nothing behind. A schema migrated by a
// newer binary is refused with ErrSchemaTooNew. SchemaVersion is the
// version this package brings a schema to.
//
// Tables (version 1):
//
//	tenants          (id)                          data
//	users            (tenant_id, id)  email         data   unique (tenant_id, email)
//	groups           (tenant_id, id)                data
//	group_members    (tenant_id, group_id, user_id)        index (tenant_id, user_id, group_id)
//	products         (tenant_id, id)                data
//	plans            (tenant_id, id)  product_id    data   index (tenant_id, product_id, id)
//	customers        (tenant_id, id)                data
//	licenses         (tenant_id, id)  key_digest    data   unique (key_digest)
//	user_tokens      (tenant_id, id)                data   unique (id)
//	refresh_families (tenant_id, id)                data   unique (id)
//	console_sessions (tenant_id, id)                data   unique (id)
//	audit_events     (tenant_id, id)  time type token_id data  index (tenant_id, time, id),
//	                                                              (tenant_id, token_id, id)
//	usage_records    (tenant_id, token_id)          data
//	quotas           (tenant_id, name)              data
//
// The primary key of every tenant-owned table starts with tenant_id. data
// is a jsonb document of the whole record, in the same JSON encoding the
// embedded backends use; the other columns copy the fields that lookups,
// uniqueness and filters need, and have an index for each lookup the
// store interface makes (TestEveryLookupHasAnIndex asks the planner). Lists are one query each (a page of plans by
// product, of group members, of audit events with their filters), never
// one query per record. Text keys are declared COLLATE "C", so ORDER BY
// and cursors follow the byte order of IDs, as the contract requires,
// whatever the database's default collation. Times are kept as the
// contract keeps them: UTC, whole microseconds (timestamptz for the audit
// time, RFC 3339 in data).
//
// PostgreSQL text cannot hold a NUL character. IDs never do (store.CheckID
// refuses control characters); a record with a NUL in any other string
// field is refused with store.ErrInvalid, where the embedded backends
// store it.
//
// # Transactions and isolation
//
// Update runs fn in a SERIALIZABLE transaction; View in a READ ONLY
// transaction at REPEATABLE READ. Each holds one pooled connection until
// it ends. BEGIN is sent together with the transaction's first statement,
// in one round trip, so a View that makes one lookup costs two round trips
// (BEGIN with the SELECT, then ROLLBACK) and a transaction that sends
// nothing costs none. A transaction's snapshot is taken at its first
// statement, not when View or Update is called.
//
// The Tx a transaction hands to fn sends every method as one statement
// (creates are INSERT ... ON CONFLICT DO NOTHING; updates of records with
// a unique attribute carry a NOT EXISTS condition), so ErrNotFound,
// ErrAlreadyExists, ErrInvalid and ErrReadOnly are found without an error
// on the server and leave the transaction usable, as the conformance suite
// requires. A write inside View fails with store.ErrReadOnly before
// anything is sent, whether or not it would have changed anything.
//
// Unlike the embedded backends, whose transactions are optimistic,
// PostgreSQL makes a writer wait for the row locks a concurrent writer
// holds until that one ends. So fn should not wait on anything slow while
// it holds a transaction, and must not start another View or Update of the
// same store and wait for it: that can wait forever on the outer
// transaction's locks, or on a connection of an exhausted pool.
//
// # Conflicts and errors
//
// PostgreSQL reports a transaction that could not be serialized with
// SQLSTATE 40001 (serialization_failure), during a statement or at
// commit, and a deadlock with 40P01; both are returned as errors matching
// store.ErrConflict, with the server's error in the chain, and nothing is
// written: the caller may run fn again. Update never retries. A unique
// violation (23505) that a concurrent transaction caused is returned as
// store.ErrAlreadyExists (under SERIALIZABLE PostgreSQL usually reports
// such races as 40001, so ErrConflict). Any error the server reports
// aborts the PostgreSQL transaction: later methods of the Tx fail with that
// error, and Update returns it without committing even if fn returns nil.
//
// A ctx that is done before Update commits makes Update return an error
// matching ctx.Err() with nothing written; a statement interrupted by ctx
// closes its connection, which the pool replaces. The commit itself is
// sent without ctx's cancellation, so that an Update that returned knows
// its outcome. After Close, View and Update return store.ErrClosed.
//
// Durability is the server's: an Update that returned nil has been
// committed, and survives a crash of the server as far as its
// synchronous_commit and fsync settings say (the defaults make it durable).
//
// # Connection poolers
//
// The store uses the pool's query execution mode (pgx caches prepared
// statements per connection by default). Behind PgBouncer in transaction
// mode, use a version that supports prepared statements (1.21 or later)
// or set default_query_exec_mode=exec in the DSN.
package pgstore
