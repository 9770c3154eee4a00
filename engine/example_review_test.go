package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/tenant"
)

// A quarterly least-privilege review: a token that only ever lists users
// holds View Licenses for nothing.
func ExampleEngine_Review() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	st := memstore.New()
	defer st.Close()
	eng, err := engine.New(engine.Config{
		Store: st, MasterKey: engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)},
		Clock: func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	sys := engine.System()
	if _, err := eng.CreateTenant(ctx, sys, engine.NewTenant{
		ID: "acme", Name: "Acme", License: tenant.License{Plan: "pro", Status: tenant.StatusActive},
	}); err != nil {
		panic(err)
	}
	u, err := eng.CreateUser(ctx, sys, "acme", engine.NewUser{Email: "admin@acme.test", Name: "Admin", Role: store.RoleAdmin})
	if err != nil {
		panic(err)
	}
	admin := engine.Admin{TenantID: "acme", UserID: u.ID}
	tok, err := eng.CreateUserToken(ctx, admin, "acme", engine.NewUserToken{
		UserID: u.ID, Name: "directory sync", Permissions: permission.NewSet(permission.ViewUsers, permission.ViewLicenses),
	})
	if err != nil {
		panic(err)
	}

	// The program uses its token: it lists users.
	addr := netip.MustParseAddr("192.0.2.1")
	resp, err := eng.Exchange(ctx, tok.Token.ID, tok.Credential.Reveal(), addr)
	if err != nil {
		panic(err)
	}
	p, err := eng.Authenticate(ctx, resp.AccessToken.Reveal(), addr)
	if err != nil {
		panic(err)
	}
	if _, _, err := eng.ListUsers(ctx, p, "acme", store.Page{}); err != nil {
		panic(err)
	}

	review, err := eng.Review(ctx, admin, "acme", engine.ReviewOptions{Window: 90 * 24 * time.Hour})
	if err != nil {
		panic(err)
	}
	for _, t := range review.With(engine.FindingUnusedPermissions) {
		fmt.Printf("%s: last used from %s; unused %s; suggested %s\n",
			t.Token.Name, t.LastUsedAddr, t.UnusedPermissions, t.SuggestedPermissions)
		fmt.Println(t.Findings)
	}
	// Output:
	// directory sync: last used from 192.0.2.1; unused licenses:view; suggested users:view
	// [unused_permissions no_expiry]
}
