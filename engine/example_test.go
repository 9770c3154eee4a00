package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/tenant"
)

// exampleEngine is the set-up every example starts from: an engine over an
// in-memory store, a tenant and its first administrator.
func exampleEngine() (*engine.Engine, engine.Admin) {
	eng, err := engine.New(engine.Config{
		Store: memstore.New(),
		// In a host: at least 32 random bytes from a secret manager.
		MasterKey: engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if _, err := eng.CreateTenant(ctx, engine.System(), engine.NewTenant{
		ID: "acme", Name: "Acme", License: tenant.License{Status: tenant.StatusActive},
	}); err != nil {
		panic(err)
	}
	admin, err := eng.CreateUser(ctx, engine.System(), "acme", engine.NewUser{
		Email: "admin@acme.example", Name: "Ada", Role: store.RoleAdmin,
	})
	if err != nil {
		panic(err)
	}
	return eng, engine.Admin{TenantID: "acme", UserID: admin.ID}
}

func ExampleNew() {
	eng, err := engine.New(engine.Config{
		Store:     memstore.New(),
		MasterKey: engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)},
	})
	if err != nil {
		panic(err)
	}
	defer eng.Close() // flushes batched quota counters, usage and audit events

	_, err = engine.New(engine.Config{Store: memstore.New(), MasterKey: engine.MasterKey{ID: "k1", Secret: []byte("short")}})
	fmt.Println(err)
	// Output:
	// engine: master key "k1": secret must be at least 32 bytes, got 5
}

// An administrator creates a user token; the credential is shown once.
func ExampleEngine_CreateUserToken() {
	eng, admin := exampleEngine()
	defer eng.Close()
	ct, err := eng.CreateUserToken(context.Background(), admin, "acme", engine.NewUserToken{
		UserID:      admin.UserID,
		Name:        "billing sync",
		Permissions: permission.NewSet(permission.ViewLicenses, permission.ViewCustomers),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(ct.Token.Permissions)
	fmt.Println(ct.Credential)                                    // secrets print redacted...
	fmt.Println(len(ct.Credential.Reveal()) > 0, ct.Token.Status) // ...unless revealed on purpose
	// Output:
	// licenses:view,customers:view
	// [REDACTED]
	// true active
}

// A program exchanges its user token, then each request authenticates the
// access token and is authorized for one permission.
func ExampleEngine_Authenticate() {
	eng, admin := exampleEngine()
	defer eng.Close()
	ctx, addr := context.Background(), netip.MustParseAddr("192.0.2.1")
	ct, _ := eng.CreateUserToken(ctx, admin, "acme", engine.NewUserToken{
		UserID: admin.UserID, Name: "reporting", Permissions: permission.NewSet(permission.ViewLicenses),
	})

	resp, err := eng.Exchange(ctx, ct.Token.ID, ct.Credential.Reveal(), addr)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.TokenType, resp.ExpiresIn, resp.Scope)

	p, err := eng.Authenticate(ctx, resp.AccessToken.Reveal(), addr)
	if err != nil {
		panic(err)
	}
	fmt.Println(eng.Authorize(ctx, p, permission.ViewLicenses))
	fmt.Println(errors.Is(eng.Authorize(ctx, p, permission.EditLicenses), engine.ErrAccessDenied))

	_, err = eng.Authenticate(ctx, "lkat_not-a-token", addr)
	fmt.Println(errors.Is(err, engine.ErrInvalidToken))
	// Output:
	// Bearer 24h0m0s licenses:view
	// <nil>
	// true
	// true
}

// Client applications validate a license key with no token at all.
func ExampleEngine_ValidateLicense() {
	eng, admin := exampleEngine()
	defer eng.Close()
	ctx, addr := context.Background(), netip.MustParseAddr("198.51.100.7")
	cust, _ := eng.CreateCustomer(ctx, admin, "acme", engine.NewCustomer{Name: "Initech"})
	prod, _ := eng.CreateProduct(ctx, admin, "acme", engine.NewProduct{Name: "Widget"})
	lic, err := eng.CreateLicense(ctx, admin, "acme", engine.NewLicense{CustomerID: cust.ID, ProductID: prod.ID})
	if err != nil {
		panic(err)
	}

	res, _ := eng.ValidateLicense(ctx, lic.Key.Reveal(), engine.ValidationScope{ProductID: prod.ID}, addr)
	fmt.Println(res.Valid, res.Code)
	res, _ = eng.ValidateLicense(ctx, lic.Key.Reveal(), engine.ValidationScope{ProductID: "another"}, addr)
	fmt.Println(res.Valid, res.Code)

	_, _ = eng.SetLicenseStatus(ctx, admin, "acme", lic.License.ID, store.LicenseSuspended)
	res, _ = eng.ValidateLicense(ctx, lic.Key.Reveal(), engine.ValidationScope{}, addr)
	fmt.Println(res.Valid, res.Code)
	// Output:
	// true VALID
	// false PRODUCT_MISMATCH
	// false SUSPENDED
}
