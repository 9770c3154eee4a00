package memstore_test

import (
	"testing"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{Open: func(*testing.T, string) store.Store { return memstore.New() }})
}
