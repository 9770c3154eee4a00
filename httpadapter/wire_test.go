package httpadapter_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
)

// TestIdentical401OnTheWire: over a real connection, every refusal of a
// presented credential is the same bytes: all headers but Date, and the
// body.
func TestIdentical401OnTheWire(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.api)
	defer srv.Close()
	expired := f.bearer(permission.ViewUsers)
	revoked := f.bearer(permission.ViewUsers)
	require.NoError(t, f.eng.Revoke(f.ctx, revoked, fixtureAddr))
	ct := f.userToken(f.admin, permission.NewSet(permission.ViewUsers))

	type attempt struct {
		name, method, path, auth, ctype, body string
	}
	attempts := []attempt{
		{"malformed", "GET", "/v1/users", "Bearer nope", "", ""},
		{"revoked", "GET", "/v1/users", "Bearer " + revoked, "", ""},
		{"truncated", "GET", "/v1/users", "Bearer " + revoked[:len(revoked)-3], "", ""},
		{"lowercase scheme", "GET", "/v1/users", "bearer " + revoked, "", ""},
		{"other route", "POST", "/v1/licenses/validate/x", "Bearer nope", "", ""},
		{"token endpoint", "POST", "/v1/auth/token", "", "application/x-www-form-urlencoded",
			"grant_type=client_credentials&client_id=" + ct.Token.ID + "&client_secret=lkut_wrong"},
		{"token endpoint basic", "POST", "/v1/auth/token", "Basic " + basicAuth(ct.Token.ID, "lkut_wrong"), "application/x-www-form-urlencoded",
			"grant_type=client_credentials"},
		{"refresh", "POST", "/v1/auth/token", "", "application/json", `{"grant_type":"refresh_token","refresh_token":"lkrt_x"}`},
		{"expired", "GET", "/v1/users", "Bearer " + expired, "", ""}, // the clock moves first
	}
	var (
		refHeader http.Header
		refBody   string
	)
	for _, a := range attempts {
		if a.name == "expired" {
			f.clock.Advance(25 * time.Hour)
		}
		r, err := http.NewRequest(a.method, srv.URL+a.path, strings.NewReader(a.body))
		require.NoError(t, err)
		if a.auth != "" {
			r.Header.Set("Authorization", a.auth)
		}
		if a.ctype != "" {
			r.Header.Set("Content-Type", a.ctype)
		}
		res, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if a.name == "other route" {
			// Not a route: 404 before any authentication.
			require.Equal(t, 404, res.StatusCode)
			continue
		}
		require.Equal(t, 401, res.StatusCode, a.name)
		h := res.Header.Clone()
		h.Del("Date")
		if refHeader == nil {
			refHeader, refBody = h, string(body)
			require.Equal(t, "26", h.Get("Content-Length"))
			continue
		}
		require.Equal(t, refHeader, h, a.name)
		require.Equal(t, refBody, string(body), a.name)
	}
}

func basicAuth(id, secret string) string {
	r := http.Request{Header: http.Header{}}
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
