package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/httpadapter/console"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/tenant"
)

// Mount the console beside the API with one line, and sign in as the
// tenant's administrator.
func ExampleNew() {
	ctx := context.Background()
	eng, err := engine.New(engine.Config{
		Store:     memstore.New(),
		MasterKey: engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{0x42}, 32)}, // use a real secret
	})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	// Bootstrap: a tenant, its first administrator and their password.
	sys := engine.System()
	if _, err := eng.CreateTenant(ctx, sys, engine.NewTenant{ID: "acme", Name: "Acme",
		License: tenant.License{Plan: "pro", Status: tenant.StatusActive}}); err != nil {
		panic(err)
	}
	admin, err := eng.CreateUser(ctx, sys, "acme", engine.NewUser{Email: "admin@acme.test", Name: "Admin", Role: store.RoleAdmin})
	if err != nil {
		panic(err)
	}
	if err := eng.SetPassword(ctx, sys, "acme", admin.ID, engine.NewSecret("a long demo password")); err != nil {
		panic(err)
	}

	api := httpadapter.New(eng, httpadapter.Options{})
	con, err := console.New(eng, console.Options{Adapter: api}) // Prefix: "/console/"
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("/console/", con)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A browser: it keeps cookies, and loads the sign-in form before
	// posting it (the form carries an anti-forgery token that matches a
	// cookie of the page).
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(srv.URL + "/console/signin")
	if err != nil {
		panic(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := regexp.MustCompile(`name="signin_csrf" value="([^"]+)"`).FindSubmatch(page)[1]

	form := url.Values{"tenant": {"acme"}, "email": {"admin@acme.test"}, "password": {"a long demo password"}, "signin_csrf": {string(token)}}
	req, _ := http.NewRequest("POST", srv.URL+"/console/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Location"))
	fmt.Println(resp.Cookies()[0].Name, resp.Cookies()[0].HttpOnly, resp.Cookies()[0].SameSite == http.SameSiteStrictMode)
	// Output:
	// 303 /console/tokens
	// lk_console true true
}
