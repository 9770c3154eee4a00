package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. A file is
// named NNNN_description.sql; versions start at 1 and have no gaps.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("pgstore: malformed migration file name %q", name)
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("pgstore: migrations are not numbered 1..n: %q", m.name)
		}
	}
	if len(ms) != SchemaVersion {
		return nil, fmt.Errorf("pgstore: %d embedded migrations, but SchemaVersion is %d", len(ms), SchemaVersion)
	}
	return ms, nil
}

// SchemaVersion is the version of the newest embedded migration: the
// version a schema has after Open. migrations refuses to run if the
// embedded files disagree with it.
const SchemaVersion = 2

// ErrSchemaTooNew is returned by Open and New when the schema was migrated
// by a newer version of this package than the running one.
var ErrSchemaTooNew = errors.New("pgstore: schema is newer than this binary")

// advisoryClass is the first key of the advisory lock that serializes
// migrations (the second is hashtext(schema)): "LKMG".
const advisoryClass = 0x4c4b4d47

// migrate brings the schema to SchemaVersion. Everything happens in one
// transaction that first takes a transaction-scoped advisory lock for the
// schema, so that processes starting at once migrate one after the other:
// the second finds the work done. A failed migration leaves nothing
// behind.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	ident := pgx.Identifier{schema}.Sanitize()
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", int32(advisoryClass), schema); err != nil {
			return fmt.Errorf("pgstore: take the migration lock: %w", err)
		}
		// Under READ COMMITTED every statement below sees what an earlier
		// holder of the lock committed.
		var encoding string
		var exists bool
		err := tx.QueryRow(ctx,
			"SELECT current_setting('server_encoding'), EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
			schema).Scan(&encoding, &exists)
		if err != nil {
			return fmt.Errorf("pgstore: inspect the database: %w", err)
		}
		if encoding != "UTF8" {
			return fmt.Errorf("pgstore: the database's encoding is %s; licensekit needs UTF8", encoding)
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
				return fmt.Errorf("pgstore: create schema %s: %w", ident, err)
			}
		}
		if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", ident); err != nil {
			return fmt.Errorf("pgstore: set search_path: %w", err)
		}
		_, err = tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`)
		if err != nil {
			return fmt.Errorf("pgstore: create schema_migrations in %s: %w", ident, err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("pgstore: read the schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("%w: schema %s is at version %d, this binary knows versions up to %d",
				ErrSchemaTooNew, ident, current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("pgstore: migration %s in schema %s: %w", m.name, ident, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return fmt.Errorf("pgstore: record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}
