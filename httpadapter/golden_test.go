package httpadapter_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// hdr builds the exact header map of an adapter response: the headers
// every response carries plus kv.
func hdr(kv ...string) http.Header {
	h := http.Header{
		"Cache-Control":          {"no-store"},
		"Content-Type":           {"application/json"},
		"X-Content-Type-Options": {"nosniff"},
	}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

const (
	challengeNone    = `Bearer realm="licensekit"`
	challengeInvalid = `Bearer realm="licensekit", error="invalid_token"`
	bodyInvalidToken = `{"error":"Invalid token"}` + "\n"
)

// seedLicense creates a customer, a product and a license in admin's
// tenant and returns the license's ID and key.
func seedLicense(f *fixture, admin engine.Admin) (string, string) {
	f.t.Helper()
	cu, err := f.eng.CreateCustomer(f.ctx, admin, admin.TenantID, engine.NewCustomer{Name: "Initech"})
	require.NoError(f.t, err)
	pr, err := f.eng.CreateProduct(f.ctx, admin, admin.TenantID, engine.NewProduct{Name: "Widget"})
	require.NoError(f.t, err)
	cl, err := f.eng.CreateLicense(f.ctx, admin, admin.TenantID, engine.NewLicense{CustomerID: cu.ID, ProductID: pr.ID})
	require.NoError(f.t, err)
	return cl.License.ID, cl.Key.Reveal()
}

type goldenCase struct {
	name string
	// setup returns the fixture and the request to make.
	setup  func(t *testing.T) (*fixture, req)
	status int
	body   string // exact, when not empty
	header http.Header
	// presented marks a 401 for a presented token: all of them must be
	// byte-identical.
	presented bool
}

func TestGolden(t *testing.T) {
	// getLicense sets up a fixture with a license and a request for it
	// made with the token tok returns.
	getLicense := func(opts []func(*fixtureOpt), tok func(f *fixture) string) func(t *testing.T) (*fixture, req) {
		return func(t *testing.T) (*fixture, req) {
			f := newFixture(t, opts...)
			id, _ := seedLicense(f, f.admin)
			return f, req{method: "GET", path: "/v1/licenses/" + id, token: tok(f)}
		}
	}
	// twin is another deployment: its own store, the same master key (or
	// another), a tenant of the given name.
	twinToken := func(t *testing.T, key engine.MasterKey, tenantID string) string {
		tw := newFixture(t, func(o *fixtureOpt) { o.engine = func(c *engine.Config) { c.MasterKey = key } })
		admin := tw.admin
		if tenantID != "acme" {
			admin = tw.addTenant(tenantID, tenant.Limits{})
		}
		return tw.access(tw.userToken(admin, permission.Full())).AccessToken.Reveal()
	}
	none := []func(*fixtureOpt){}
	invalid := hdr("WWW-Authenticate", challengeInvalid)

	cases := []goldenCase{
		{name: "no token", setup: getLicense(none, func(*fixture) string { return "" }),
			status: 401, body: bodyInvalidToken, header: hdr("WWW-Authenticate", challengeNone)},
		{name: "another scheme is no token", setup: func(t *testing.T) (*fixture, req) {
			f, r := getLicense(none, func(*fixture) string { return "" })(t)
			r.auth = "Basic dXNlcjpwYXNz"
			return f, r
		}, status: 401, body: bodyInvalidToken, header: hdr("WWW-Authenticate", challengeNone)},
		{name: "malformed token", setup: getLicense(none, func(*fixture) string { return "not-a-token" }),
			status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "Bearer without a token", setup: func(t *testing.T) (*fixture, req) {
			f, r := getLicense(none, func(*fixture) string { return "" })(t)
			r.auth = "Bearer"
			return f, r
		}, status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "user token instead of access token", setup: getLicense(none, func(f *fixture) string {
			return f.userToken(f.admin, permission.Full()).Credential.Reveal()
		}), status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "unknown token", setup: getLicense(none, func(f *fixture) string {
			return twinToken(f.t.(*testing.T), testMasterKey, "acme")
		}), status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "another deployment's token", setup: getLicense(none, func(f *fixture) string {
			return twinToken(f.t.(*testing.T), engine.MasterKey{ID: "k9", Secret: bytes.Repeat([]byte{7}, 32)}, "acme")
		}), status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "another tenant's token", setup: getLicense(none, func(f *fixture) string {
			return twinToken(f.t.(*testing.T), testMasterKey, "globex")
		}), status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "expired token", setup: getLicense(none, func(f *fixture) string {
			tok := f.bearer(permission.ViewLicenses)
			f.clock.Advance(24*time.Hour + time.Second)
			return tok
		}), status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "revoked token", setup: getLicense(none, func(f *fixture) string {
			tok := f.bearer(permission.ViewLicenses)
			require.NoError(f.t, f.eng.Revoke(f.ctx, tok, netip.Addr{}))
			return tok
		}), status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "rotated user token", setup: getLicense(none, func(f *fixture) string {
			ct := f.userToken(f.admin, permission.NewSet(permission.ViewLicenses))
			tok := f.access(ct).AccessToken.Reveal()
			_, err := f.eng.RotateUserToken(f.ctx, f.admin, "acme", ct.Token.ID)
			require.NoError(f.t, err)
			return tok
		}), status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "deactivated user token", setup: getLicense(none, func(f *fixture) string {
			ct := f.userToken(f.admin, permission.NewSet(permission.ViewLicenses))
			tok := f.access(ct).AccessToken.Reveal()
			_, err := f.eng.DeactivateUserToken(f.ctx, f.admin, "acme", ct.Token.ID)
			require.NoError(f.t, err)
			return tok
		}), status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "other tenant's valid token on this tenant's record", setup: getLicense(none, func(f *fixture) string {
			globex := f.addTenant("globex", tenant.Limits{})
			return f.access(f.userToken(globex, permission.Full())).AccessToken.Reveal()
		}), status: 404, body: `{"error":"Not found"}` + "\n", header: hdr()},
		{name: "valid token without the permission", setup: getLicense(none, func(f *fixture) string {
			return f.bearer(permission.ViewUsers)
		}), status: 403, body: `{"error":"Access denied"}` + "\n",
			header: hdr("WWW-Authenticate", `Bearer realm="licensekit", error="insufficient_scope", scope="licenses:view"`)},
		{name: "tenant license expired", setup: getLicense(none, func(f *fixture) string {
			tok := f.bearer(permission.ViewLicenses)
			_, err := f.eng.SetTenantLicense(f.ctx, engine.System(), "acme", tenant.License{
				Plan: "pro", Status: tenant.StatusActive, ExpiresAt: f.clock.Now().Add(time.Hour),
			})
			require.NoError(f.t, err)
			f.clock.Advance(2 * time.Hour)
			return tok
		}), status: 402, body: `{"error":"Invalid license"}` + "\n", header: hdr()},
		{name: "tenant license suspended, without the permission", setup: getLicense(none, func(f *fixture) string {
			tok := f.bearer(permission.ViewUsers)
			_, err := f.eng.SuspendTenant(f.ctx, engine.System(), "acme")
			require.NoError(f.t, err)
			return tok
		}), status: 402, body: `{"error":"Invalid license"}` + "\n", header: hdr()},
		{name: "over quota", setup: func(t *testing.T) (*fixture, req) {
			// 2 per minute: the exchange takes one, the first GET the other.
			f, r := getLicense([]func(*fixtureOpt){withLimits(tenant.Limits{APIRequests: 2, APIWindow: time.Minute})},
				func(f *fixture) string { return f.bearer(permission.ViewLicenses) })(t)
			first := f.do(r)
			require.Equal(t, 200, first.Code)
			require.Equal(t, "2", first.Header().Get("RateLimit-Limit"))
			require.Equal(t, "0", first.Header().Get("RateLimit-Remaining"))
			require.Equal(t, "60", first.Header().Get("RateLimit-Reset"))
			return f, r
		}, status: 429, body: `{"error":"Too Many Requests (Reached license limit)"}` + "\n",
			header: hdr("Retry-After", "30", "RateLimit-Limit", "2", "RateLimit-Remaining", "0", "RateLimit-Reset", "60")},
		{name: "over quota without the permission", setup: func(t *testing.T) (*fixture, req) {
			f := newFixture(t, withLimits(tenant.Limits{APIRequests: 1, APIWindow: time.Minute}))
			id, _ := seedLicense(f, f.admin)
			return f, req{method: "GET", path: "/v1/licenses/" + id, token: f.bearer(permission.ViewUsers)}
		}, status: 403, body: `{"error":"Access denied"}` + "\n",
			header: hdr("WWW-Authenticate", `Bearer realm="licensekit", error="insufficient_scope", scope="licenses:view"`)},
		{name: "malformed body", setup: func(t *testing.T) (*fixture, req) {
			f := newFixture(t)
			return f, jsonReq("POST", "/v1/products", f.bearer(permission.EditProducts), `{"name":`)
		}, status: 400, body: `{"error":"malformed JSON: unexpected end of the request body"}` + "\n", header: hdr()},
		{name: "malformed body without the permission", setup: func(t *testing.T) (*fixture, req) {
			f := newFixture(t)
			return f, jsonReq("POST", "/v1/products", f.bearer(permission.ViewProducts), `{"name":`)
		}, status: 403, body: `{"error":"Access denied"}` + "\n",
			header: hdr("WWW-Authenticate", `Bearer realm="licensekit", error="insufficient_scope", scope="products:edit"`)},
		{name: "malformed body with a bad token", setup: func(t *testing.T) (*fixture, req) {
			f := newFixture(t)
			return f, jsonReq("POST", "/v1/products", "junk", `{"name":`)
		}, status: 401, body: bodyInvalidToken, header: invalid, presented: true},
		{name: "invalid input from the engine", setup: func(t *testing.T) (*fixture, req) {
			f := newFixture(t)
			return f, jsonReq("POST", "/v1/products", f.bearer(permission.EditProducts), `{"name":"  "}`)
		}, status: 400, body: `{"error":"product name is required"}` + "\n", header: hdr()},
	}

	var (
		refBody   []byte
		refHeader http.Header
		refName   string
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, r := tc.setup(t)
			rec := f.do(r)
			require.Equal(t, tc.status, rec.Code, "body: %s", rec.Body.String())
			if tc.body != "" {
				require.Equal(t, tc.body, rec.Body.String())
			}
			require.Equal(t, tc.header, rec.Header())
			if tc.presented {
				if refBody == nil {
					refBody, refHeader, refName = rec.Body.Bytes(), rec.Header().Clone(), tc.name
				}
				require.Equal(t, refHeader, rec.Header(), "401 headers differ from %q", refName)
				require.True(t, bytes.Equal(refBody, rec.Body.Bytes()), "401 body differs from %q", refName)
			}
		})
	}

	// The token endpoint's refusals are the same bytes.
	t.Run("token endpoint refusals are the same 401", func(t *testing.T) {
		require.NotNil(t, refBody)
		f := newFixture(t)
		ct := f.userToken(f.admin, permission.NewSet(permission.ViewLicenses))
		good := f.access(ct)
		// Use the refresh token once, so that presenting it again is reuse.
		_, err := f.eng.Refresh(f.ctx, good.RefreshToken.Reveal(), netip.Addr{})
		require.NoError(t, err)
		other := f.userToken(f.admin, permission.NewSet(permission.ViewLicenses))
		for name, body := range map[string]string{
			"wrong secret":           "grant_type=client_credentials&client_id=" + ct.Token.ID + "&client_secret=lkut_nope",
			"id and secret mismatch": "grant_type=client_credentials&client_id=" + ct.Token.ID + "&client_secret=" + other.Credential.Reveal(),
			"unknown refresh token":  "grant_type=refresh_token&refresh_token=lkrt_junk",
			"reused refresh token":   "grant_type=refresh_token&refresh_token=" + good.RefreshToken.Reveal(),
		} {
			rec := f.do(req{method: "POST", path: "/v1/auth/token", ctype: "application/x-www-form-urlencoded", body: body})
			require.Equal(t, 401, rec.Code, name)
			require.Equal(t, refHeader, rec.Header(), name)
			require.True(t, bytes.Equal(refBody, rec.Body.Bytes()), name)
		}
	})
}

// TestSuccessHeaders checks a successful response's headers and body
// shape, and that secrets are marked no-store.
func TestSuccessHeaders(t *testing.T) {
	f := newFixture(t)
	id, _ := seedLicense(f, f.admin)
	rec := f.do(req{method: "GET", path: "/v1/licenses/" + id, token: f.bearer(permission.ViewLicenses)})
	require.Equal(t, 200, rec.Code)
	require.Equal(t, hdr(), rec.Header(), "an unlimited tenant gets no RateLimit headers")
	var l engine.License
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &l))
	require.Equal(t, id, l.ID)

	rec = f.do(jsonReq("POST", "/v1/licenses/"+id+"/reissue", f.bearer(permission.EditLicenses), ""))
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.Equal(t, hdr("Pragma", "no-cache"), rec.Header())
	var cl struct {
		License engine.License `json:"license"`
		Key     string         `json:"key"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &cl))
	require.NotEmpty(t, cl.Key)
	require.NotContains(t, cl.Key, "REDACTED")

	// The new key validates, with no token.
	rec = f.do(jsonReq("POST", "/v1/licenses/validate", "", `{"key":"`+cl.Key+`"}`))
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"valid":true,"code":"VALID","license":{"id":"`+id+`","product_id":"`+cl.License.ProductID+
		`","customer_id":"`+cl.License.CustomerID+`","status":"active"}}`, rec.Body.String())
}

// TestCRUDOverHTTP drives a realistic sequence through the API.
func TestCRUDOverHTTP(t *testing.T) {
	f := newFixture(t)
	tok := f.bearer(permission.Full().Permissions()...)
	do := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		r := req{method: method, path: path, token: tok}
		if body != "" {
			r.ctype, r.body = "application/json", body
		}
		rec := f.do(r)
		var m map[string]any
		if rec.Body.Len() > 0 {
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
		}
		return rec.Code, m
	}
	code, u := do("POST", "/v1/users", `{"email":"Bob@Example.test","name":"Bob"}`)
	require.Equal(t, 201, code, u)
	require.Equal(t, "bob@example.test", u["email"])
	require.NotContains(t, u, "password_hash")
	code, _ = do("POST", "/v1/users", `{"email":"bob@example.test","name":"Bob again"}`)
	require.Equal(t, 409, code)
	code, _ = do("POST", "/v1/users", `{"email":"eve@example.test","name":"Eve","role":"admin"}`)
	require.Equal(t, 403, code, "a token cannot make an admin")
	code, g := do("POST", "/v1/groups", `{"name":"Ops"}`)
	require.Equal(t, 201, code)
	gid := g["id"].(string)
	code, _ = do("PUT", "/v1/groups/"+gid+"/members/"+u["id"].(string), "")
	require.Equal(t, 204, code)
	code, members := do("GET", "/v1/groups/"+gid+"/members", "")
	require.Equal(t, 200, code)
	require.Len(t, members["items"], 1)
	code, p := do("POST", "/v1/products", `{"name":"Widget"}`)
	require.Equal(t, 201, code)
	pid := p["id"].(string)
	code, plan := do("POST", "/v1/products/"+pid+"/plans", `{"name":"Pro","entitlements":{"seats":"10"}}`)
	require.Equal(t, 201, code, plan)
	code, cu := do("POST", "/v1/customers", `{"name":"Initech","email":"it@initech.test"}`)
	require.Equal(t, 201, code)
	code, cl := do("POST", "/v1/licenses", `{"customer_id":"`+cu["id"].(string)+`","product_id":"`+pid+
		`","plan_id":"`+plan["id"].(string)+`","expires_at":"2027-01-01T00:00:00Z","attributes":{"tier":"gold"}}`)
	require.Equal(t, 201, code, cl)
	lic := cl["license"].(map[string]any)
	lid := lic["id"].(string)
	require.Equal(t, "2027-01-01T00:00:00Z", lic["expires_at"])
	code, l := do("PATCH", "/v1/licenses/"+lid, `{"expires_at":null,"plan_id":null}`)
	require.Equal(t, 200, code, l)
	require.NotContains(t, l, "expires_at")
	require.NotContains(t, l, "plan_id")
	require.Equal(t, map[string]any{"tier": "gold"}, l["attributes"])
	code, l = do("POST", "/v1/licenses/"+lid+"/suspend", "")
	require.Equal(t, 200, code)
	require.Equal(t, "suspended", l["status"])
	code, v := do("POST", "/v1/licenses/validate", `{"key":"`+cl["key"].(string)+`"}`)
	require.Equal(t, 200, code)
	require.Equal(t, false, v["valid"])
	require.Equal(t, "SUSPENDED", v["code"])
	code, _ = do("POST", "/v1/licenses/"+lid+"/revoke", "")
	require.Equal(t, 200, code)
	code, e := do("POST", "/v1/licenses/"+lid+"/reinstate", "")
	require.Equal(t, 400, code)
	require.Contains(t, e["error"], "revocation is final")
	code, list := do("GET", "/v1/licenses?limit=1", "")
	require.Equal(t, 200, code)
	require.Len(t, list["items"], 1)
	code, _ = do("GET", "/v1/licenses?limit=0", "")
	require.Equal(t, 400, code)
	code, _ = do("DELETE", "/v1/licenses/"+lid, "")
	require.Equal(t, 204, code)
	code, _ = do("GET", "/v1/licenses/"+lid, "")
	require.Equal(t, 404, code)
	code, toks := do("GET", "/v1/tokens", "")
	require.Equal(t, 200, code)
	require.NotEmpty(t, toks["items"])
	require.NoError(t, f.eng.Flush(f.ctx))
	code, audit := do("GET", "/v1/audit?type=license.created&from=2026-01-01T00:00:00Z", "")
	require.Equal(t, 200, code, audit)
	require.Len(t, audit["items"], 1)
	code, _ = do("GET", "/v1/audit?from=yesterday", "")
	require.Equal(t, 400, code)
	code, _ = do("DELETE", "/v1/users/"+u["id"].(string), "")
	require.Equal(t, 204, code)
}

// TestRotateOverHTTP rotates a user token through the API: the new
// credential is shown once and every access token of the old one dies.
func TestRotateOverHTTP(t *testing.T) {
	f := newFixture(t)
	target := f.userToken(f.admin, permission.NewSet(permission.ViewUsers))
	old := f.access(target).AccessToken.Reveal()
	require.Equal(t, 200, f.do(req{method: "GET", path: "/v1/users", token: old}).Code)

	rotator := f.bearer(permission.EditUserTokens, permission.ViewUsers)
	rec := f.do(req{method: "POST", path: "/v1/tokens/" + target.Token.ID + "/refresh", token: rotator})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.Equal(t, hdr("Pragma", "no-cache"), rec.Header())
	var out struct {
		Token      engine.UserToken `json:"token"`
		Credential string           `json:"credential"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	require.Equal(t, uint64(2), out.Token.Generation)
	require.Equal(t, 401, f.do(req{method: "GET", path: "/v1/users", token: old}).Code)

	// A token cannot rotate a token holding more than itself.
	wide := f.userToken(f.admin, permission.Full())
	rec = f.do(req{method: "POST", path: "/v1/tokens/" + wide.Token.ID + "/refresh", token: rotator})
	require.Equal(t, 403, rec.Code)
	require.Equal(t, `Bearer realm="licensekit", error="insufficient_scope"`, rec.Header().Get("WWW-Authenticate"))

	// The new credential exchanges over HTTP.
	rec = f.do(req{method: "POST", path: "/v1/auth/token", ctype: "application/x-www-form-urlencoded",
		body: "grant_type=client_credentials&client_secret=" + out.Credential})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.Equal(t, hdr("Pragma", "no-cache"), rec.Header())
}

// TestIntrospect covers RFC 7662 over HTTP.
func TestIntrospect(t *testing.T) {
	f := newFixture(t)
	caller := f.bearer()
	target := f.access(f.userToken(f.admin, permission.NewSet(permission.ViewUsers, permission.ViewLicenses)))
	rec := f.do(req{method: "POST", path: "/v1/auth/introspect", token: caller, ctype: "application/x-www-form-urlencoded",
		body: "token=" + target.AccessToken.Reveal()})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, true, got["active"])
	require.Equal(t, "users:view licenses:view", got["scope"])
	require.Equal(t, "access_token", got["token_type"])
	require.Equal(t, "acme", got["tenant_id"])
	require.EqualValues(t, target.ExpiresAt.Unix(), got["exp"])

	rec = f.do(jsonReq("POST", "/v1/auth/introspect", caller, `{"token":"lkat_junk"}`))
	require.Equal(t, 200, rec.Code)
	require.JSONEq(t, `{"active":false}`, rec.Body.String())

	rec = f.do(jsonReq("POST", "/v1/auth/introspect", caller, `{}`))
	require.Equal(t, 400, rec.Code)
	rec = f.do(jsonReq("POST", "/v1/auth/introspect", "", `{"token":"x"}`))
	require.Equal(t, 401, rec.Code)
}

// TestRevokeEndpoint covers RFC 7009 over HTTP.
func TestRevokeEndpoint(t *testing.T) {
	f := newFixture(t)
	tr := f.access(f.userToken(f.admin, permission.NewSet(permission.ViewUsers)))
	tok := tr.AccessToken.Reveal()
	require.Equal(t, 200, f.do(req{method: "GET", path: "/v1/users", token: tok}).Code)
	for _, body := range []string{"token=" + tr.RefreshToken.Reveal(), "token=unknown&token_type_hint=access_token"} {
		rec := f.do(req{method: "POST", path: "/v1/auth/revoke", ctype: "application/x-www-form-urlencoded", body: body})
		require.Equal(t, 200, rec.Code, rec.Body.String())
		require.Equal(t, "{}\n", rec.Body.String())
	}
	require.Equal(t, 401, f.do(req{method: "GET", path: "/v1/users", token: tok}).Code)
	rec := f.do(req{method: "POST", path: "/v1/auth/revoke", ctype: "application/x-www-form-urlencoded", body: ""})
	require.Equal(t, 400, rec.Code)
	require.JSONEq(t, `{"error":"invalid_request","error_description":"token is required"}`, rec.Body.String())
}

// TestNoSecretInErrors: an error never echoes a credential.
func TestNoSecretInErrors(t *testing.T) {
	f := newFixture(t)
	secret := f.userToken(f.admin, permission.Full()).Credential.Reveal()
	tok := f.bearer(permission.EditProducts)
	for _, r := range []req{
		jsonReq("POST", "/v1/products", tok, `{"name":"x","`+secret+`":1}`),
		jsonReq("POST", "/v1/products", tok, `{"name":{"`+secret+`":1}}`),
		jsonReq("POST", "/v1/products", tok, `{"name":"`+secret+`"`),
		{method: "GET", path: "/v1/users", auth: "Bearer " + secret},
		{method: "POST", path: "/v1/auth/token", ctype: "application/json", body: `{"grant_type":"client_credentials","client_secret":"` + secret + `x"}`},
	} {
		rec := f.do(r)
		require.GreaterOrEqual(t, rec.Code, 400)
		require.NotContains(t, rec.Body.String(), secret)
		for _, vs := range rec.Header() {
			for _, v := range vs {
				require.NotContains(t, v, secret)
			}
		}
	}
}

func TestRealmAndRenderer(t *testing.T) {
	var seen []int
	f := newFixture(t, withOptions(httpAdapterOptions(func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
		seen = append(seen, status)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg))
	})))
	rec := f.do(req{method: "GET", path: "/v1/users"})
	require.Equal(t, 401, rec.Code)
	require.Equal(t, "Invalid token", rec.Body.String())
	require.Equal(t, `Bearer realm="acme \"licensing\""`, rec.Header().Get("WWW-Authenticate"))
	rec = f.do(req{method: "POST", path: "/v1/auth/token", ctype: "application/x-www-form-urlencoded", body: "grant_type=password"})
	require.Equal(t, 400, rec.Code)
	require.Equal(t, "unsupported_grant_type", rec.Body.String())
	require.Equal(t, []int{401, 400}, seen)
}

func httpAdapterOptions(r httpadapter.ErrorRenderer) httpadapter.Options {
	return httpadapter.Options{ErrorRenderer: r, Realm: `acme "licensing"`}
}
