package pgstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/pgstore"
	"github.com/licensekit/licensekit/store/storetest"
)

// TestConformance runs the whole storetest suite. Every case opens its
// stores on the shared pool, in an empty schema of its own (see
// caseSchema): reopening the case's directory (the Durability cases)
// reopens the schema.
func TestConformance(t *testing.T) {
	needPG(t)
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T, dir string) store.Store {
			s, err := pgstore.New(context.Background(), sharedPool, pgstore.Options{Schema: caseSchema(t, dir)})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		Durable: true,
	})
}
