package engine_test

import (
	"fmt"
	"testing"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// CreateLicenses creates a batch in one transaction: every key validates,
// every license is audited, and a batch with one bad license creates none.
func TestCreateLicensesBatch(t *testing.T) {
	f := newFixture(t)
	s := f.scSeed(f.admin)
	batch := make([]engine.NewLicense, engine.MaxLicenseBatch)
	for i := range batch {
		batch[i] = engine.NewLicense{CustomerID: s.customer.ID, ProductID: s.product.ID,
			Attributes: map[string]string{"n": fmt.Sprint(i)}}
	}
	before := f.auditCount(engine.EventLicenseCreated)
	out, err := f.eng.CreateLicenses(f.ctx, f.admin, f.tenant, batch)
	require.NoError(t, err)
	require.Len(t, out, len(batch))
	for i, cl := range out {
		res := f.scValidate(cl.Key.Reveal())
		require.Equal(t, engine.CodeValid, res.Code)
		require.Equal(t, cl.License.ID, res.License.ID)
		require.Equal(t, fmt.Sprint(i), res.License.Attributes["n"])
	}
	require.Equal(t, before+len(batch), f.auditCount(engine.EventLicenseCreated))

	t.Run("all or none", func(t *testing.T) {
		lics, _, err := f.eng.ListLicenses(f.ctx, f.admin, f.tenant, store.Page{Limit: store.MaxPageLimit})
		require.NoError(t, err)
		bad := []engine.NewLicense{batch[0], {CustomerID: s.customer.ID, ProductID: "no-such-product"}}
		_, err = f.eng.CreateLicenses(f.ctx, f.admin, f.tenant, bad)
		require.ErrorIs(t, err, engine.ErrInvalidInput)
		after, _, err := f.eng.ListLicenses(f.ctx, f.admin, f.tenant, store.Page{Limit: store.MaxPageLimit})
		require.NoError(t, err)
		require.Len(t, after, len(lics))
	})
	t.Run("size", func(t *testing.T) {
		_, err := f.eng.CreateLicenses(f.ctx, f.admin, f.tenant, nil)
		require.ErrorIs(t, err, engine.ErrInvalidInput)
		_, err = f.eng.CreateLicenses(f.ctx, f.admin, f.tenant, append(batch, batch[0]))
		require.ErrorIs(t, err, engine.ErrInvalidInput)
	})
	t.Run("permission", func(t *testing.T) {
		_, p := f.login(f.token(f.admin, permission.ViewLicenses))
		_, err := f.eng.CreateLicenses(f.ctx, p, f.tenant, batch[:1])
		require.ErrorIs(t, err, engine.ErrAccessDenied)
	})
}

// The tenant's license cap counts the whole batch.
func TestCreateLicensesBatchCap(t *testing.T) {
	f := newFixture(t)
	tid, admin := f.addTenant("capped", tenant.Limits{MaxLicenses: 3})
	s := f.scSeed(admin) // creates one license
	one := engine.NewLicense{CustomerID: s.customer.ID, ProductID: s.product.ID}
	_, err := f.eng.CreateLicenses(f.ctx, admin, tid, []engine.NewLicense{one, one, one})
	require.ErrorIs(t, err, engine.ErrInvalidInput)
	_, err = f.eng.CreateLicenses(f.ctx, admin, tid, []engine.NewLicense{one, one})
	require.NoError(t, err)
	_, err = f.eng.CreateLicense(f.ctx, admin, tid, one)
	require.ErrorIs(t, err, engine.ErrInvalidInput)
}

// auditCount counts the fixture tenant's audit events of type typ.
func (f *fixture) auditCount(typ string) int {
	f.t.Helper()
	n := 0
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		evs, next, err := f.eng.ListAudit(f.ctx, f.admin, f.tenant, store.AuditQuery{Type: typ}, page)
		require.NoError(f.t, err)
		n += len(evs)
		if next == "" {
			return n
		}
		page.After = next
	}
}
