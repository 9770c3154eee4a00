package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/stretchr/testify/require"
)

// benchFixture is a fixture over badgerstore in b's temp dir. Loading is
// done without fsync (durable=false) where the benchmark measures reads.
func benchFixture(b *testing.B, durable bool, opts ...func(*engine.Config)) *fixture {
	b.Helper()
	st, err := badgerstore.Open(b.TempDir(), badgerstore.Options{DisableSyncWrites: !durable})
	require.NoError(b, err)
	return newFixtureWithStore(b, st, opts...)
}

// BenchmarkAuthenticate verifies an access token, authorizes one
// permission and charges the tenant's quota, over 10k live tokens, warm,
// recording each token's usage (last use, daily count, permission used).
func BenchmarkAuthenticate(b *testing.B) { benchAuthenticate(b) }

// BenchmarkAuthenticateNoUsage is BenchmarkAuthenticate with usage
// tracking disabled: the difference is the cost of recording usage.
func BenchmarkAuthenticateNoUsage(b *testing.B) {
	benchAuthenticate(b, func(c *engine.Config) { c.DisableUsageTracking = true })
}

func benchAuthenticate(b *testing.B, opts ...func(*engine.Config)) {
	f := benchFixture(b, false, opts...)
	const tokens = 10_000
	access := make([]string, tokens)
	for i := range access {
		resp, _ := f.login(f.token(f.admin, permission.ViewLicenses))
		access[i] = resp.AccessToken.Reveal()
	}
	ctx, addr := context.Background(), f.addr
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p, err := f.eng.Authenticate(ctx, access[i%tokens], addr)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.eng.Authorize(context.Background(), p, permission.ViewLicenses); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateLicense validates random keys among 100k licenses, warm.
func BenchmarkValidateLicense(b *testing.B) {
	f := benchFixture(b, false)
	keys := loadLicenses(b, f, 100_000)
	ctx, addr := context.Background(), f.addr
	for _, k := range keys { // warm: every license is in the cache
		_, err := f.eng.ValidateLicense(ctx, k, engine.ValidationScope{}, addr)
		require.NoError(b, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := f.eng.ValidateLicense(ctx, keys[rng.IntN(len(keys))], engine.ValidationScope{}, addr)
		if err != nil || !res.Valid {
			b.Fatal(err, res.Code)
		}
	}
}

func loadLicenses(b *testing.B, f *fixture, n int) []string {
	b.Helper()
	cust, err := f.eng.CreateCustomer(f.ctx, f.admin, f.tenant, engine.NewCustomer{Name: "Initech"})
	require.NoError(b, err)
	prod, err := f.eng.CreateProduct(f.ctx, f.admin, f.tenant, engine.NewProduct{Name: "Widget"})
	require.NoError(b, err)
	keys := make([]string, n)
	for i := range keys {
		cl, err := f.eng.CreateLicense(f.ctx, engine.System(), f.tenant, engine.NewLicense{CustomerID: cust.ID, ProductID: prod.ID})
		require.NoError(b, err)
		keys[i] = cl.Key.Reveal()
	}
	return keys
}

// BenchmarkExchange trades a user token for an access and a refresh token
// on a durable store (every exchange is fsynced), from many goroutines.
func BenchmarkExchange(b *testing.B) {
	f := benchFixture(b, true)
	ct := f.token(f.admin, permission.ViewUsers)
	id, secret := ct.Token.ID, ct.Credential.Reveal()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		addr := netip.MustParseAddr("192.0.2.20")
		for pb.Next() {
			if _, err := f.eng.Exchange(context.Background(), id, secret, addr); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

// BenchmarkRotate rotates a user token with 10 and with 100,000
// outstanding access/refresh token pairs: the cost must not depend on them.
func BenchmarkRotate(b *testing.B) {
	for _, outstanding := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("outstanding=%d", outstanding), func(b *testing.B) {
			dir := b.TempDir()
			// Load without fsync, then measure on a durable reopen.
			st, err := badgerstore.Open(dir, badgerstore.Options{DisableSyncWrites: true})
			require.NoError(b, err)
			f := newFixtureWithStore(b, storeNoClose{st})
			ct := f.token(f.admin, permission.ViewUsers)
			for range outstanding {
				_, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
				require.NoError(b, err)
			}
			require.NoError(b, f.eng.Close())
			require.NoError(b, st.Close())

			st, err = badgerstore.Open(dir, badgerstore.Options{})
			require.NoError(b, err)
			g := newFixtureWithStoreTenant(b, st, f.tenant, f.admin)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := g.eng.RotateUserToken(g.ctx, g.admin, g.tenant, ct.Token.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// storeNoClose lets a benchmark reopen a store its fixture would close.
type storeNoClose struct{ store.Store }

func (storeNoClose) Close() error { return nil }
