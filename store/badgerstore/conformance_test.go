package badgerstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/licensekit/licensekit/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T, dir string) store.Store {
			s, err := badgerstore.Open(dir, badgerstore.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		Durable: true,
	})
}
