package httpadapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/tenant"
)

// exampleEngine is an engine with one tenant, its admin and a license.
func exampleEngine() (*engine.Engine, engine.Admin, string) {
	ctx := context.Background()
	eng, err := engine.New(engine.Config{
		Store:     memstore.New(),
		MasterKey: engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{0x42}, 32)}, // use a real secret
	})
	if err != nil {
		panic(err)
	}
	sys := engine.System()
	if _, err := eng.CreateTenant(ctx, sys, engine.NewTenant{ID: "acme", Name: "Acme",
		License: tenant.License{Plan: "pro", Status: tenant.StatusActive}}); err != nil {
		panic(err)
	}
	u, err := eng.CreateUser(ctx, sys, "acme", engine.NewUser{Email: "admin@acme.test", Name: "Admin", Role: store.RoleAdmin})
	if err != nil {
		panic(err)
	}
	admin := engine.Admin{TenantID: "acme", UserID: u.ID}
	cu, _ := eng.CreateCustomer(ctx, admin, "acme", engine.NewCustomer{Name: "Initech"})
	pr, _ := eng.CreateProduct(ctx, admin, "acme", engine.NewProduct{Name: "Widget"})
	cl, err := eng.CreateLicense(ctx, admin, "acme", engine.NewLicense{CustomerID: cu.ID, ProductID: pr.ID})
	if err != nil {
		panic(err)
	}
	return eng, admin, cl.Key.Reveal()
}

// Mount the API in a host's mux under a prefix of its choosing, and
// validate a license key over HTTP with no token.
func Example_mount() {
	eng, _, key := exampleEngine()
	defer eng.Close()

	api := httpadapter.New(eng, httpadapter.Options{})
	mux := http.NewServeMux()
	mux.Handle("/licensing/v1/", http.StripPrefix("/licensing", api))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := http.Post(srv.URL+"/licensing/v1/licenses/validate", "application/json",
		strings.NewReader(`{"key": "`+key+`"}`))
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var out struct {
		Valid bool   `json:"valid"`
		Code  string `json:"code"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	fmt.Println(res.StatusCode, out.Valid, out.Code)
	// Output: 200 true VALID
}

// Guard a host's own route with one permission. Require authenticates the
// Bearer token, checks the permission and charges the tenant's quota; the
// handler finds the principal in its context.
func ExampleAdapter_Require() {
	eng, admin, _ := exampleEngine()
	defer eng.Close()
	api := httpadapter.New(eng, httpadapter.Options{})

	reports := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpadapter.PrincipalFrom(r.Context())
		fmt.Fprintf(w, "report for %s", p.TenantID)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /reports", api.Require(permission.ViewLicenses)(reports))
	mux.Handle("/v1/", api)

	// An access token for a user token holding View Licenses.
	ctx := context.Background()
	ct, _ := eng.CreateUserToken(ctx, admin, "acme", engine.NewUserToken{
		UserID: admin.UserID, Name: "reporting", Permissions: permission.NewSet(permission.ViewLicenses),
	})
	tr, _ := eng.Exchange(ctx, ct.Token.ID, ct.Credential.Reveal(), netip.Addr{})

	for _, auth := range []string{"", "Bearer " + tr.AccessToken.Reveal()} {
		r := httptest.NewRequest("GET", "/reports", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 401 {"error":"Invalid token"}
	// 200 report for acme
}
