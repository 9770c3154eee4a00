package bench

import (
	"bytes"
	"context"
	"net/netip"
	"testing"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/licensekit/licensekit/tenant"
)

var masterKey = engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{0x42}, 32)}

// fixtureAddr is the client address of every request.
var fixtureAddr = netip.MustParseAddr("192.0.2.10")

// fixture is an engine over badgerstore in tb's temp dir, with one tenant
// ("acme", no limits) and its admin.
type fixture struct {
	tb    testing.TB
	ctx   context.Context
	eng   *engine.Engine
	admin engine.Admin
	addr  netip.Addr
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// newFixture opens badgerstore without fsync (set-up speed; the
// benchmarks measure reads) and real time.
func newFixture(tb testing.TB, opts ...func(*engine.Config)) *fixture {
	tb.Helper()
	st, err := badgerstore.Open(tb.TempDir(), badgerstore.Options{DisableSyncWrites: true})
	must(tb, err)
	cfg := engine.Config{Store: st, MasterKey: masterKey}
	for _, o := range opts {
		o(&cfg)
	}
	eng, err := engine.New(cfg)
	must(tb, err)
	tb.Cleanup(func() {
		must(tb, eng.Close())
		must(tb, st.Close())
	})
	f := &fixture{tb: tb, ctx: context.Background(), eng: eng, addr: fixtureAddr}
	_, err = eng.CreateTenant(f.ctx, engine.System(), engine.NewTenant{
		ID: "acme", Name: "acme", License: tenant.License{Plan: "pro", Status: tenant.StatusActive},
	})
	must(tb, err)
	u, err := eng.CreateUser(f.ctx, engine.System(), "acme", engine.NewUser{Email: "admin@acme.test", Name: "Admin", Role: store.RoleAdmin})
	must(tb, err)
	f.admin = engine.Admin{TenantID: "acme", UserID: u.ID}
	return f
}

// accessTokens creates n user tokens with perms and exchanges each for an
// access token.
func (f *fixture) accessTokens(n int, perms ...permission.Permission) []string {
	f.tb.Helper()
	out := make([]string, n)
	for i := range out {
		ct, err := f.eng.CreateUserToken(f.ctx, f.admin, "acme", engine.NewUserToken{
			UserID: f.admin.UserID, Name: "bench", Permissions: permission.NewSet(perms...),
		})
		must(f.tb, err)
		resp, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
		must(f.tb, err)
		out[i] = resp.AccessToken.Reveal()
	}
	return out
}

// licenses creates n licenses (in batches of engine.MaxLicenseBatch) and
// returns their IDs and keys.
func (f *fixture) licenses(n int) (ids, keys []string) {
	f.tb.Helper()
	cust, err := f.eng.CreateCustomer(f.ctx, f.admin, "acme", engine.NewCustomer{Name: "Initech"})
	must(f.tb, err)
	prod, err := f.eng.CreateProduct(f.ctx, f.admin, "acme", engine.NewProduct{Name: "Widget"})
	must(f.tb, err)
	ids, keys = make([]string, 0, n), make([]string, 0, n)
	in := make([]engine.NewLicense, engine.MaxLicenseBatch)
	for i := range in {
		in[i] = engine.NewLicense{CustomerID: cust.ID, ProductID: prod.ID}
	}
	for len(keys) < n {
		out, err := f.eng.CreateLicenses(f.ctx, engine.System(), "acme", in[:min(len(in), n-len(keys))])
		must(f.tb, err)
		for _, cl := range out {
			ids, keys = append(ids, cl.License.ID), append(keys, cl.Key.Reveal())
		}
	}
	return ids, keys
}
