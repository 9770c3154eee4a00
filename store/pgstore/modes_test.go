package pgstore_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/pgstore"
	"github.com/licensekit/licensekit/store/storetest"
)

// modeCases are the conformance cases that, together, send every kind of
// statement and value the store has.
var modeCases = regexp.MustCompile(`^(\w+/(CreateGet|UpdateReplaces|Delete|List|CreateDuplicate)|Users/.*|Licenses/.*|` +
	`Groups/(Members|DeleteRemovesMemberships)|Plans/ListByProduct|Audit/(Filters|Prune|PruneLimit)|Usage/PutGet|Quotas/PutGet|` +
	`Times/.*|Transactions/(RollbackOnError|ReadOnlyView|SeesOwnWrites|ConflictingUpdates|CancelledInside|MethodsCheckCtx)|` +
	`Isolation/SameIDs)$`)

// TestQueryExecModes runs those cases over pools in pgx's other query
// execution modes: a host behind a statement pooler uses exec or
// simple_protocol, which encode arguments differently (and send a batch
// as one multi-statement query).
func TestQueryExecModes(t *testing.T) {
	needPG(t)
	modes := map[string]pgx.QueryExecMode{
		"exec":            pgx.QueryExecModeExec,
		"simple_protocol": pgx.QueryExecModeSimpleProtocol,
	}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			cfg, err := pgxpool.ParseConfig(testDSN)
			require.NoError(t, err)
			cfg.ConnConfig.DefaultQueryExecMode = mode
			cfg.MaxConns = 16
			pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
			require.NoError(t, err)
			defer pool.Close()
			b := storetest.Backend{
				Open: func(t *testing.T, dir string) store.Store {
					s, err := pgstore.New(context.Background(), pool, pgstore.Options{Schema: caseSchema(t, dir)})
					require.NoError(t, err)
					t.Cleanup(func() { _ = s.Close() })
					return s
				},
				Durable: true,
			}
			for _, c := range storetest.Cases(b) {
				if !modeCases.MatchString(c.Name) {
					continue
				}
				t.Run(c.Name, func(t *testing.T) { c.Run(t, b) })
			}
		})
	}
}
