package httpadapter_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/tenant"
)

// contractStatuses are the only statuses the API answers (DESIGN §6).
var contractStatuses = map[int]bool{
	200: true, 201: true, 204: true,
	400: true, 401: true, 402: true, 403: true, 404: true, 405: true, 409: true, 413: true, 415: true, 429: true,
}

// FuzzHandler sends arbitrary requests (method, path, Authorization,
// Content-Type, body) to the adapter over a real engine: no panic, no 5xx,
// only statuses of the contract, and every error body is JSON with an
// "error" string.
//
// authMode picks the credential: 0 the fuzzed Authorization value as is,
// 1 a valid access token with every permission, 2 one with none, 3 a
// user token as HTTP Basic, 4 a valid token with the fuzzed value
// appended. In path and body, {license}, {key}, {token} and {refresh}
// become a real license ID, license key, user-token ID and refresh token,
// so that the fuzzer reaches past "not found".
func FuzzHandler(f *testing.F) {
	fx := newFixture(f, func(o *fixtureOpt) {
		o.engine = func(c *engine.Config) {
			// Let failed exchanges through the per-address limit, so the
			// token endpoint stays reachable.
			c.GuessLimit = tenant.Rate{Limit: 1 << 40, Window: time.Second, Burst: 1 << 40}
		}
	})
	full := fx.bearer(permission.Full().Permissions()...)
	none := fx.bearer()
	basicTok := fx.userToken(fx.admin, permission.NewSet(permission.ViewUsers))
	refresh := fx.access(basicTok).RefreshToken.Reveal()
	licenseID, key := seedLicense(fx, fx.admin)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(basicTok.Token.ID+":"+basicTok.Credential.Reveal()))
	expand := strings.NewReplacer("{license}", licenseID, "{key}", key, "{token}", basicTok.Token.ID, "{refresh}", refresh)

	const js, form = "application/json", "application/x-www-form-urlencoded"
	seeds := []struct {
		method, path string
		mode         uint8
		auth, ctype  string
		body         string
	}{
		{"GET", "/v1/users", 1, "", "", ""},
		{"GET", "/v1/users?limit=2&cursor=abc", 1, "", "", ""},
		{"GET", "/v1/users", 0, "Bearer lkat_junk", "", ""},
		{"GET", "/v1/users", 0, "", "", ""},
		{"GET", "/v1/licenses/{license}", 2, "", "", ""},
		{"GET", "/v1/licenses/{license}", 4, "x", "", ""},
		{"PATCH", "/v1/licenses/{license}", 1, "", js, `{"expires_at":"2030-01-01T00:00:00Z","attributes":{"a":"b"},"plan_id":null}`},
		{"POST", "/v1/licenses/{license}/suspend", 1, "", "", ""},
		{"POST", "/v1/licenses/{license}/reinstate", 1, "", "", ""},
		{"POST", "/v1/licenses", 1, "", js, `{"customer_id":"c","product_id":"p"}`},
		{"POST", "/v1/licenses/validate", 0, "", js, `{"key":"{key}"}`},
		{"POST", "/v1/licenses/validate", 0, "", js, `{"key":"AAAAA-BBBBB","product_id":"x"}`},
		{"POST", "/v1/auth/token", 0, "", form, "grant_type=client_credentials&client_id={token}&client_secret=lkut_x"},
		{"POST", "/v1/auth/token", 3, "", form, "grant_type=client_credentials"},
		{"POST", "/v1/auth/token", 0, "", js, `{"grant_type":"refresh_token","refresh_token":"{refresh}"}`},
		{"POST", "/v1/auth/revoke", 0, "", form, "token=lkrt_x"},
		{"POST", "/v1/auth/introspect", 2, "", form, "token=lkat_x"},
		{"POST", "/v1/users", 1, "", js, `{"email":"a@b.test","name":"A"}`},
		{"POST", "/v1/users", 1, "", js, `{"email":"a@b.test","name":"A"} trailing`},
		{"POST", "/v1/users", 2, "", js, `{"email":`},
		{"POST", "/v1/products", 1, "", "text/plain", `{"name":"p"}`},
		{"POST", "/v1/products/{license}/plans", 1, "", js, `{"name":"p","entitlements":{"seats":"5"}}`},
		{"PUT", "/v1/groups/x/members/y", 1, "", "", ""},
		{"DELETE", "/v1/customers/x", 1, "", "", ""},
		{"GET", "/v1/audit?from=2026-01-01T00:00:00Z&type=auth.failed", 1, "", "", ""},
		{"GET", "/v1/tokens/{token}", 1, "", "", ""},
		{"OPTIONS", "/v1/users", 1, "", "", ""},
		{"GET", "/v1//users/../x", 1, "", "", ""},
		{"GET", "/v1/openapi.json", 0, "", "", ""},
		{"HEAD", "/v1/users", 1, "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.mode, s.auth, s.ctype, []byte(s.body))
	}

	f.Fuzz(func(t *testing.T, method, path string, mode uint8, auth, ctype string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		path = expand.Replace(path)
		body = []byte(expand.Replace(string(body)))
		r, err := http.NewRequest(method, "http://api.test"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a server could receive
		}
		r.RemoteAddr = "192.0.2.44:5555"
		switch mode % 5 {
		case 0:
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
		case 1:
			r.Header.Set("Authorization", "Bearer "+full)
		case 2:
			r.Header.Set("Authorization", "Bearer "+none)
		case 3:
			r.Header.Set("Authorization", basic)
		case 4:
			r.Header.Set("Authorization", "Bearer "+full+auth)
		}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		fx.api.ServeHTTP(rec, r)

		if !contractStatuses[rec.Code] {
			t.Fatalf("%s %q: status %d is not in the contract; body %s", method, path, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 {
			var e map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("%s %q: %d with a body that is not JSON: %q", method, path, rec.Code, rec.Body.String())
			}
			if msg, ok := e["error"].(string); !ok || msg == "" {
				t.Fatalf("%s %q: %d without an error string: %s", method, path, rec.Code, rec.Body.String())
			}
		}
		if ct := rec.Header().Get("Content-Type"); rec.Body.Len() > 0 && ct != "application/json" {
			t.Fatalf("%s %q: Content-Type %q", method, path, ct)
		}
	})
}
