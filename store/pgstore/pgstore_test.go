package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/pgstore"
	"github.com/licensekit/licensekit/tenant"
)

var bg = context.Background()

func openSchema(t *testing.T, schema string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(bg, sharedPool, pgstore.Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// migrationRows returns the versions recorded in a schema.
func migrationRows(t *testing.T, schema string) []int {
	t.Helper()
	rows, err := sharedPool.Query(bg, "SELECT version FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" ORDER BY version")
	require.NoError(t, err)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	return versions
}

func allVersions() []int {
	var vs []int
	for v := 1; v <= pgstore.SchemaVersion; v++ {
		vs = append(vs, v)
	}
	return vs
}

func TestMigrationsIdempotent(t *testing.T) {
	needPG(t)
	schema := newSchema("idem")
	s := openSchema(t, schema)
	require.NoError(t, s.Update(bg, func(tx store.Tx) error {
		return tx.Tenants().Create(bg, tenant.Tenant{ID: "t1", Name: "one"})
	}))
	require.NoError(t, s.Close())
	for range 3 {
		s := openSchema(t, schema)
		require.NoError(t, s.View(bg, func(tx store.Tx) error {
			tn, err := tx.Tenants().Get(bg, "t1")
			require.NoError(t, err)
			require.Equal(t, "one", tn.Name)
			return nil
		}))
		require.NoError(t, s.Close())
	}
	require.Equal(t, allVersions(), migrationRows(t, schema), "every migration recorded once")
}

// TestMigrationsConcurrent opens one fresh schema from many processes'
// worth of pools at once: the advisory lock makes them migrate one after
// the other, and every Open succeeds.
func TestMigrationsConcurrent(t *testing.T) {
	needPG(t)
	const n = 12
	schema := newSchema("conc")
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	stores := make([]*pgstore.Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			// Each with its own pool, as separate processes would.
			stores[i], errs[i] = pgstore.Open(ctx, testDSN, pgstore.Options{Schema: schema})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "Open %d", i)
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	require.Equal(t, allVersions(), migrationRows(t, schema))
	// Every store works on the one schema.
	for i, s := range stores {
		require.NoError(t, s.Update(bg, func(tx store.Tx) error {
			return tx.Tenants().Create(bg, tenant.Tenant{ID: fmt.Sprintf("t%02d", i)})
		}))
	}
	require.NoError(t, stores[0].View(bg, func(tx store.Tx) error {
		ts, _, err := tx.Tenants().List(bg, store.Page{})
		require.NoError(t, err)
		require.Len(t, ts, n)
		return nil
	}))
}

func TestSchemaTooNew(t *testing.T) {
	needPG(t)
	schema := newSchema("new")
	s := openSchema(t, schema)
	require.NoError(t, s.Close())
	_, err := sharedPool.Exec(bg, "INSERT INTO "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+
		" (version, name) VALUES ($1, 'from_the_future')", pgstore.SchemaVersion+1)
	require.NoError(t, err)
	_, err = pgstore.New(bg, sharedPool, pgstore.Options{Schema: schema})
	require.ErrorIs(t, err, pgstore.ErrSchemaTooNew)
}

func TestSchemaNames(t *testing.T) {
	needPG(t)
	_, err := pgstore.New(bg, sharedPool, pgstore.Options{Schema: strings.Repeat("s", 64)})
	require.ErrorIs(t, err, store.ErrInvalid, "longer than PostgreSQL keeps")
	_, err = pgstore.New(bg, sharedPool, pgstore.Options{Schema: "a\x00b"})
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = pgstore.New(bg, nil, pgstore.Options{})
	require.ErrorIs(t, err, store.ErrInvalid)
	// A name that needs quoting.
	s := openSchema(t, newSchema(`Odd "name"; drop`))
	require.NoError(t, s.Update(bg, func(tx store.Tx) error { return tx.Tenants().Create(bg, tenant.Tenant{ID: "t"}) }))
	if !external {
		// The default schema, only on the throwaway server.
		s, err := pgstore.Open(bg, testDSN, pgstore.Options{})
		require.NoError(t, err)
		defer s.Close()
		var n int
		require.NoError(t, sharedPool.QueryRow(bg,
			"SELECT count(*) FROM pg_tables WHERE schemaname = $1", pgstore.DefaultSchema).Scan(&n))
		require.Equal(t, 15, n, "14 tables and schema_migrations in schema %q", pgstore.DefaultSchema)
	}
}

// TestSchemaShape checks the properties of the tables that the contract
// relies on: every tenant-owned table is keyed by tenant first, and every
// text key compares bytes.
func TestSchemaShape(t *testing.T) {
	needPG(t)
	schema := newSchema("shape")
	openSchema(t, schema)
	rows, err := sharedPool.Query(bg, `
		SELECT c.relname, a.attname
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
		WHERE i.indisprimary AND n.nspname = $1 ORDER BY 1`, schema)
	require.NoError(t, err)
	type pk struct{ Table, First string }
	pks, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pk])
	require.NoError(t, err)
	require.Len(t, pks, 15)
	for _, p := range pks {
		switch p.Table {
		case "tenants":
			require.Equal(t, "id", p.First)
		case "schema_migrations":
			require.Equal(t, "version", p.First)
		default:
			require.Equal(t, "tenant_id", p.First, "primary key of %s", p.Table)
		}
	}
	var notC []string
	rows, err = sharedPool.Query(bg, `
		SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = $1 AND data_type = 'text' AND table_name <> 'schema_migrations'
		  AND coalesce(collation_name, '') <> 'C' ORDER BY 1`, schema)
	require.NoError(t, err)
	notC, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Empty(t, notC, "text columns without COLLATE \"C\"")
}

func TestOpenBadDSN(t *testing.T) {
	needPG(t)
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()

	_, err := pgstore.Open(ctx, "host=/tmp port=notaport", pgstore.Options{})
	require.ErrorIs(t, err, store.ErrInvalid)
	require.ErrorContains(t, err, "pgstore: ")
	require.ErrorContains(t, err, "connection string")

	_, err = pgstore.Open(ctx, "postgres://user:secret@%zz/db", pgstore.Options{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret", "the password leaked into the error")

	_, err = pgstore.Open(ctx, "host="+t.TempDir()+" port=5432 user=x dbname=x sslmode=disable connect_timeout=5", pgstore.Options{})
	require.ErrorContains(t, err, "pgstore: cannot reach PostgreSQL")

	cfg, err := pgxpool.ParseConfig(testDSN)
	require.NoError(t, err)
	cfg.ConnConfig.Database = "no_such_database_here"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	_, err = pgstore.New(ctx, pool, pgstore.Options{Schema: newSchema("nodb")})
	require.ErrorContains(t, err, "pgstore: cannot reach PostgreSQL")
	require.ErrorContains(t, err, "no_such_database_here")

	// A ctx that ends before the server answers.
	dctx, dcancel := context.WithCancel(bg)
	dcancel()
	_, err = pgstore.Open(dctx, testDSN, pgstore.Options{Schema: newSchema("cancelled")})
	require.ErrorIs(t, err, context.Canceled)
}

func TestHostPoolStaysOpen(t *testing.T) {
	needPG(t)
	cfg, err := pgxpool.ParseConfig(testDSN)
	require.NoError(t, err)
	pool, err := pgxpool.NewWithConfig(bg, cfg)
	require.NoError(t, err)
	defer pool.Close()
	s, err := pgstore.New(bg, pool, pgstore.Options{Schema: newSchema("host")})
	require.NoError(t, err)
	require.NoError(t, s.Update(bg, func(tx store.Tx) error { return tx.Tenants().Create(bg, tenant.Tenant{ID: "t"}) }))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
	require.ErrorIs(t, s.View(bg, func(tx store.Tx) error { return nil }), store.ErrClosed)
	require.NoError(t, pool.Ping(bg), "Close closed the host's pool")
	var one int
	require.NoError(t, pool.QueryRow(bg, "SELECT 1").Scan(&one))

	// A store of its own closes its pool: nothing is left connected.
	schema := newSchema("own")
	s2, err := pgstore.Open(bg, testDSN, pgstore.Options{Schema: schema})
	require.NoError(t, err)
	require.NoError(t, s2.Update(bg, func(tx store.Tx) error { return tx.Tenants().Create(bg, tenant.Tenant{ID: "t"}) }))
	require.NoError(t, s2.Close())
	require.ErrorIs(t, s2.Update(bg, func(tx store.Tx) error { return nil }), store.ErrClosed)
}

// TestWriteSkewIsAConflict: two transactions read the same two records
// and each changes a different one. Row locks alone would let both
// commit; SERIALIZABLE must refuse one, as the embedded backends do.
func TestWriteSkewIsAConflict(t *testing.T) {
	needPG(t)
	s := openSchema(t, newSchema("skew"))
	require.NoError(t, s.Update(bg, func(tx store.Tx) error {
		cs := tx.Tenant("t").Customers()
		if err := cs.Create(bg, store.Customer{ID: "a", Name: "on"}); err != nil {
			return err
		}
		return cs.Create(bg, store.Customer{ID: "b", Name: "on"})
	}))
	// Each turns its own record off if the other is still on.
	read := make(chan struct{}, 2)
	proceed := make(chan struct{})
	turnOff := func(mine, other string) error {
		return s.Update(bg, func(tx store.Tx) error {
			cs := tx.Tenant("t").Customers()
			o, err := cs.Get(bg, other)
			if err != nil {
				return err
			}
			m, err := cs.Get(bg, mine)
			if err != nil {
				return err
			}
			read <- struct{}{}
			<-proceed
			if o.Name != "on" {
				return nil
			}
			m.Name = "off"
			return cs.Update(bg, m)
		})
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = turnOff("a", "b") })
	wg.Go(func() { errs[1] = turnOff("b", "a") })
	<-read
	<-read
	close(proceed)
	wg.Wait()
	conflicts := 0
	for _, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, store.ErrConflict)
			conflicts++
		}
	}
	require.Equal(t, 1, conflicts, "exactly one of the two must fail: %v", errs)
	require.NoError(t, s.View(bg, func(tx store.Tx) error {
		cs, _, err := tx.Tenant("t").Customers().List(bg, store.Page{})
		require.NoError(t, err)
		on := 0
		for _, c := range cs {
			if c.Name == "on" {
				on++
			}
		}
		require.Equal(t, 1, on, "one customer stays on")
		return nil
	}))
}

// TestNULIsInvalid: PostgreSQL text cannot hold NUL. Such a record is
// refused before it is sent, and the transaction goes on.
func TestNULIsInvalid(t *testing.T) {
	needPG(t)
	s := openSchema(t, newSchema("nul"))
	require.NoError(t, s.Update(bg, func(tx store.Tx) error {
		cs := tx.Tenant("t").Customers()
		err := cs.Create(bg, store.Customer{ID: "c1", Name: "a\x00b"})
		require.ErrorIs(t, err, store.ErrInvalid)
		// A backslash before "u0000" is no NUL.
		require.NoError(t, cs.Create(bg, store.Customer{ID: "c2", Name: `a\u0000b`}))
		ev := store.AuditEvent{ID: "e1", Time: time.Now(), Type: "x\x00"}
		require.ErrorIs(t, tx.Tenant("t").Audit().Append(bg, ev), store.ErrInvalid)
		// Filters that no stored event can match find nothing.
		evs, _, err := tx.Tenant("t").Audit().List(bg, store.AuditQuery{Type: "x\x00"}, store.Page{})
		require.NoError(t, err)
		require.Empty(t, evs)
		_, _, err = tx.Tenant("t").Customers().List(bg, store.Page{After: "\xff"})
		require.ErrorIs(t, err, store.ErrInvalid, "a cursor that is not UTF-8")
		return nil
	}))
	require.NoError(t, s.View(bg, func(tx store.Tx) error {
		c, err := tx.Tenant("t").Customers().Get(bg, "c2")
		require.NoError(t, err)
		require.Equal(t, `a\u0000b`, c.Name)
		return nil
	}))
}

// TestInvalidUTF8InAuditFilters: an event whose type is not valid UTF-8
// is kept as its JSON reads back, and the filter agrees with
// AuditQuery.Match on the record read back.
func TestInvalidUTF8InAuditFilters(t *testing.T) {
	needPG(t)
	s := openSchema(t, newSchema("utf8"))
	ev := store.AuditEvent{ID: "e1", Time: time.Now(), Type: "bad\xfftype", TokenID: "tok\xfe"}
	require.NoError(t, s.Update(bg, func(tx store.Tx) error { return tx.Tenant("t").Audit().Append(bg, ev) }))
	require.NoError(t, s.View(bg, func(tx store.Tx) error {
		all, _, err := tx.Tenant("t").Audit().List(bg, store.AuditQuery{}, store.Page{})
		require.NoError(t, err)
		require.Len(t, all, 1)
		got := all[0]
		for _, q := range []store.AuditQuery{{Type: ev.Type}, {Type: got.Type}, {TokenID: ev.TokenID}, {TokenID: got.TokenID}} {
			evs, _, err := tx.Tenant("t").Audit().List(bg, q, store.Page{})
			require.NoError(t, err)
			require.Equal(t, q.Match(got), len(evs) == 1, "query %+v", q)
		}
		return nil
	}))
}

// TestAbortedTransaction: after the server failed a statement, the
// transaction is over on the server. Later methods fail with that error and
// Update returns it even if fn ignores it.
func TestAbortedTransaction(t *testing.T) {
	needPG(t)
	schema := newSchema("abort")
	s := openSchema(t, schema)
	require.NoError(t, s.Update(bg, func(tx store.Tx) error {
		return tx.Tenant("t").Customers().Create(bg, store.Customer{ID: "c0"})
	}))
	// Make the server fail a statement: a trigger that raises on insert.
	tbl := pgx.Identifier{schema, "customers"}.Sanitize()
	_, err := sharedPool.Exec(bg, `CREATE FUNCTION `+pgx.Identifier{schema, "boom"}.Sanitize()+`() RETURNS trigger
		LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER boom BEFORE INSERT ON `+tbl+` FOR EACH ROW EXECUTE FUNCTION `+pgx.Identifier{schema, "boom"}.Sanitize()+`()`)
	require.NoError(t, err)
	var first error
	err = s.Update(bg, func(tx store.Tx) error {
		cs := tx.Tenant("t").Customers()
		require.NoError(t, cs.Create(bg, store.Customer{ID: "c1"}))
		first = cs.Create(bg, store.Customer{ID: "boom"})
		require.ErrorContains(t, first, "boom")
		_, err := cs.Get(bg, "c0")
		require.ErrorContains(t, err, "boom", "a later method reports the earlier failure")
		return nil // ignores the failure
	})
	require.Error(t, err)
	require.ErrorContains(t, err, "boom")
	require.NoError(t, s.View(bg, func(tx store.Tx) error {
		_, err := tx.Tenant("t").Customers().Get(bg, "c1")
		require.ErrorIs(t, err, store.ErrNotFound, "the aborted transaction committed a write")
		return nil
	}))
}

// TestReadOnlyViewIsEnforcedByTheServer: the Tx refuses writes itself;
// this checks that the server would too (a write that slipped through
// maps to ErrReadOnly), by writing through the pool in a READ ONLY
// transaction.
func TestReadOnlyViewIsEnforcedByTheServer(t *testing.T) {
	needPG(t)
	schema := newSchema("ro")
	openSchema(t, schema)
	err := pgx.BeginTxFunc(bg, sharedPool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		_, err := tx.Exec(bg, "INSERT INTO "+pgx.Identifier{schema, "tenants"}.Sanitize()+" (id, data) VALUES ('x', '{}')")
		return err
	})
	require.ErrorContains(t, err, "25006")
}

// TestCancelDuringStatement: a ctx that ends while a statement runs makes
// Update return ctx.Err() and write nothing; the pool recovers.
func TestCancelDuringStatement(t *testing.T) {
	needPG(t)
	s := openSchema(t, newSchema("cancel"))
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Tenant("t").Customers().Create(ctx, store.Customer{ID: "c1"}); err != nil {
			return err
		}
		<-ctx.Done() // the deadline passes while fn runs

		return tx.Tenant("t").Customers().Create(ctx, store.Customer{ID: "c2"})
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, s.View(bg, func(tx store.Tx) error {
		cs, _, err := tx.Tenant("t").Customers().List(bg, store.Page{})
		require.NoError(t, err)
		require.Empty(t, cs)
		return nil
	}))

	// Interrupt a statement that waits on a row lock held by another
	// transaction.
	require.NoError(t, s.Update(bg, func(tx store.Tx) error {
		return tx.Tenant("t").Customers().Create(bg, store.Customer{ID: "locked"})
	}))
	holding := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	var holderErr error
	wg.Go(func() {
		_ = s.Update(bg, func(tx store.Tx) error {
			// Asserted after wg.Wait: require must not fail off the test's
			// goroutine. The lock is announced either way.
			holderErr = tx.Tenant("t").Customers().Update(bg, store.Customer{ID: "locked", Name: "holder"})
			close(holding)
			<-release
			return errors.New("roll back")
		})
	})
	<-holding
	ctx2, cancel2 := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel2()
	start := time.Now()
	err = s.Update(ctx2, func(tx store.Tx) error {
		return tx.Tenant("t").Customers().Update(ctx2, store.Customer{ID: "locked", Name: "waiter"})
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 10*time.Second)
	close(release)
	wg.Wait()
	require.NoError(t, holderErr)
	require.NoError(t, s.View(bg, func(tx store.Tx) error {
		c, err := tx.Tenant("t").Customers().Get(bg, "locked")
		require.NoError(t, err)
		require.Empty(t, c.Name)
		return nil
	}))
}

// TestEveryLookupHasAnIndex asks the planner, with sequential scans
// disabled, for the plan of every statement the store sends: a Seq Scan
// left in a plan means no index serves that lookup.
func TestEveryLookupHasAnIndex(t *testing.T) {
	needPG(t)
	schema := newSchema("plans")
	openSchema(t, schema)
	err := pgx.BeginTxFunc(bg, sharedPool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(bg, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		for _, st := range pgstore.Statements(schema) {
			rows, err := tx.Query(bg, "EXPLAIN "+st.SQL, st.Args...)
			require.NoError(t, err, st.Name)
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			require.NoError(t, err, st.Name)
			plan := strings.Join(lines, "\n")
			require.NotContains(t, plan, "Seq Scan", "%s has no index:\n%s\n%s", st.Name, st.SQL, plan)
			require.NotContains(t, plan, "Sort", "%s sorts instead of reading an index in order:\n%s", st.Name, plan)
		}
		return nil
	})
	require.NoError(t, err)
}
