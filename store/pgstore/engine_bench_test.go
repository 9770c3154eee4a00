package pgstore_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/pgstore"
	"github.com/licensekit/licensekit/tenant"
)

// benchEngine is an engine on a fresh schema with tenant "acme" and its
// admin: the pgstore twin of the engine package's badgerstore benchmarks.
func benchEngine(b *testing.B) (*engine.Engine, engine.Admin) {
	needPG(b)
	ctx := context.Background()
	st, err := pgstore.New(ctx, sharedPool, pgstore.Options{Schema: newSchema("bench")})
	require.NoError(b, err)
	b.Cleanup(func() { _ = st.Close() })
	e, err := engine.New(engine.Config{Store: st, MasterKey: engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}})
	require.NoError(b, err)
	b.Cleanup(func() { _ = e.Close() })
	_, err = e.CreateTenant(ctx, engine.System(), engine.NewTenant{ID: "acme", Name: "Acme",
		License: tenant.License{Status: tenant.StatusActive}})
	require.NoError(b, err)
	u, err := e.CreateUser(ctx, engine.System(), "acme", engine.NewUser{Email: "a@acme.test", Name: "A", Role: store.RoleAdmin})
	require.NoError(b, err)
	return e, engine.Admin{TenantID: "acme", UserID: u.ID}
}

// BenchmarkEngineAuthenticate is engine.BenchmarkAuthenticate on pgstore
// (1,000 live tokens rather than 10,000: each costs a durable exchange to
// set up), warm.
func BenchmarkEngineAuthenticate(b *testing.B) {
	e, adm := benchEngine(b)
	ctx, addr := context.Background(), netip.MustParseAddr("192.0.2.1")
	access := make([]string, 1000)
	for i := range access {
		ct, err := e.CreateUserToken(ctx, adm, "acme", engine.NewUserToken{UserID: adm.UserID, Name: "t",
			Permissions: permission.NewSet(permission.ViewLicenses)})
		require.NoError(b, err)
		resp, err := e.Exchange(ctx, ct.Token.ID, ct.Credential.Reveal(), addr)
		require.NoError(b, err)
		access[i] = resp.AccessToken.Reveal()
		_, err = e.Authenticate(ctx, access[i], addr) // warm
		require.NoError(b, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p, err := e.Authenticate(ctx, access[i%len(access)], addr)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Authorize(context.Background(), p, permission.ViewLicenses); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineValidateLicense is engine.BenchmarkValidateLicense on
// pgstore (10,000 licenses rather than 100,000, for the set-up time), warm.
func BenchmarkEngineValidateLicense(b *testing.B) {
	e, adm := benchEngine(b)
	ctx, addr := context.Background(), netip.MustParseAddr("192.0.2.1")
	cust, err := e.CreateCustomer(ctx, adm, "acme", engine.NewCustomer{Name: "Initech"})
	require.NoError(b, err)
	prod, err := e.CreateProduct(ctx, adm, "acme", engine.NewProduct{Name: "Widget"})
	require.NoError(b, err)
	keys := make([]string, 10_000)
	for i := range keys {
		cl, err := e.CreateLicense(ctx, engine.System(), "acme", engine.NewLicense{CustomerID: cust.ID, ProductID: prod.ID})
		require.NoError(b, err)
		keys[i] = cl.Key.Reveal()
		_, err = e.ValidateLicense(ctx, keys[i], engine.ValidationScope{}, addr) // warm
		require.NoError(b, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := e.ValidateLicense(ctx, keys[rng.IntN(len(keys))], engine.ValidationScope{}, addr)
		if err != nil || !res.Valid {
			b.Fatal(err, res.Code)
		}
	}
}
