package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// Two engines over one store: a change made through one takes effect on the
// other within CacheTTL, and not before (the bound is the TTL, measured on
// the injected clock).
func TestSharedStorePropagationWithinCacheTTL(t *testing.T) {
	const ttl = time.Second
	a := newFixture(t, func(c *engine.Config) { c.CacheTTL = ttl })
	// The second engine shares a's store and clock, so that the bound is
	// measured exactly.
	engB, err := engine.New(engine.Config{Store: storeNoClose{a.st}, MasterKey: testMasterKey, Clock: a.clock.Now, CacheTTL: ttl})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, engB.Close()) })

	ct := a.token(a.admin, permission.ViewLicenses)
	resp, _ := a.login(ct)
	access := resp.AccessToken.Reveal()
	_, err = engB.Authenticate(a.ctx, access, a.addr)
	require.NoError(t, err, "b has now cached the token as active")

	_, err = a.eng.RotateUserToken(a.ctx, a.admin, a.tenant, ct.Token.ID)
	require.NoError(t, err)
	_, err = a.eng.Authenticate(a.ctx, access, a.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "at once on the engine that rotated")

	a.clock.Advance(ttl - time.Nanosecond)
	_, err = engB.Authenticate(a.ctx, access, a.addr)
	require.NoError(t, err, "within the bound the other engine may still accept it")
	a.clock.Advance(time.Nanosecond)
	_, err = engB.Authenticate(a.ctx, access, a.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "at CacheTTL the other engine refuses it")

	// A tenant suspended through one engine is refused by the other.
	_, err = a.eng.SuspendTenant(a.ctx, engine.System(), a.tenant)
	require.NoError(t, err)
	ct2 := a.token(a.admin, permission.ViewLicenses)
	a.clock.Advance(ttl)
	_, err = engB.Exchange(a.ctx, ct2.Token.ID, ct2.Credential.Reveal(), a.addr)
	require.ErrorIs(t, err, engine.ErrInvalidLicense)
	_, err = a.eng.SetTenantLicense(a.ctx, engine.System(), a.tenant, tenant.License{Status: tenant.StatusActive})
	require.NoError(t, err)
	a.clock.Advance(ttl)
	_, err = engB.Exchange(a.ctx, ct2.Token.ID, ct2.Credential.Reveal(), a.addr)
	require.NoError(t, err)
}

// Without CacheTTL an engine trusts its cache: the right default for the
// only engine of a store, and why shared stores need the setting.
func TestCacheWithoutTTLTrustsItself(t *testing.T) {
	a := newFixture(t)
	engB, err := engine.New(engine.Config{Store: storeNoClose{a.st}, MasterKey: testMasterKey, Clock: a.clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, engB.Close()) })
	ct := a.token(a.admin, permission.ViewLicenses)
	resp, _ := a.login(ct)
	_, err = engB.Authenticate(a.ctx, resp.AccessToken.Reveal(), a.addr)
	require.NoError(t, err)
	_, err = a.eng.DeactivateUserToken(a.ctx, a.admin, a.tenant, ct.Token.ID)
	require.NoError(t, err)
	a.clock.Advance(time.Hour)
	_, err = engB.Authenticate(a.ctx, resp.AccessToken.Reveal(), a.addr)
	require.NoError(t, err, "a second engine without CacheTTL does not see the other's writes")
	var st store.UserToken
	require.NoError(t, a.st.View(a.ctx, func(tx store.Tx) error {
		var err error
		st, err = tx.Tenant(a.tenant).UserTokens().Get(a.ctx, ct.Token.ID)
		return err
	}))
	require.Equal(t, store.TokenDeactivated, st.Status)
}

// With SharedQuotas, engines sharing one store together admit exactly a
// tenant's limit, however the requests spread over them.
func TestSharedQuotasAreExactAcrossEngines(t *testing.T) {
	const limit = 40
	shared := func(c *engine.Config) { c.SharedQuotas = true; c.CacheTTL = time.Second }
	a := newFixture(t, shared)
	engB, err := engine.New(engine.Config{Store: storeNoClose{a.st}, MasterKey: testMasterKey, Clock: a.clock.Now,
		SharedQuotas: true, CacheTTL: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, engB.Close()) })

	ct := a.token(a.admin, permission.ViewLicenses)
	resp, _ := a.login(ct) // one exchange: unlimited so far
	_, err = a.eng.SetTenantLicense(a.ctx, engine.System(), a.tenant, tenant.License{Status: tenant.StatusActive,
		Limits: tenant.Limits{APIRequests: limit, APIWindow: time.Hour}})
	require.NoError(t, err)
	a.clock.Advance(time.Second) // b sees the limit

	var (
		mu       sync.Mutex
		admitted int
		wg       sync.WaitGroup
	)
	for _, e := range []*engine.Engine{a.eng, engB} {
		for range 3 * limit {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := e.Authenticate(a.ctx, resp.AccessToken.Reveal(), a.addr)
				if err != nil {
					return
				}
				if err := e.Authorize(context.Background(), p, permission.ViewLicenses); err == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
				} else {
					require.ErrorIs(t, err, engine.ErrLicenseLimit)
				}
			}()
		}
	}
	wg.Wait()
	// Leases taken but not spent by one engine are lost to the other, at
	// most one lease (limit/50, at least 1) per engine.
	require.LessOrEqual(t, admitted, limit, "never more than the limit")
	require.GreaterOrEqual(t, admitted, limit-2, "at most a lease per engine left unspent")
	t.Logf("limit %d offered 3x to 2 engines with shared quotas: %d admitted", limit, admitted)
}
