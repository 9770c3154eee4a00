package httpadapter_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/stretchr/testify/require"
)

func TestTrustedProxies(t *testing.T) {
	f := newFixture(t, withOptions(httpadapter.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:aa::/48")},
	}))
	// A host route that reports the principal's client address.
	host := f.api.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := httpadapter.PrincipalFrom(r.Context())
		require.True(t, ok)
		_, _ = w.Write([]byte(p.ClientAddr.String()))
	}))
	tok := f.bearer()
	for _, tc := range []struct {
		name, remote string
		header       http.Header
		want         string
	}{
		{"no proxy", "192.0.2.1:1234", nil, "192.0.2.1"},
		{"untrusted peer's XFF is ignored", "192.0.2.1:1234",
			http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "192.0.2.1"},
		{"untrusted peer's Forwarded is ignored", "192.0.2.1:1234",
			http.Header{"Forwarded": {"for=203.0.113.9"}}, "192.0.2.1"},
		{"trusted peer's XFF is honoured", "10.1.2.3:1234",
			http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"right-most untrusted hop wins", "10.1.2.3:1234",
			http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.9, 10.9.9.9"}}, "203.0.113.9"},
		{"several XFF lines", "10.1.2.3:1234",
			http.Header{"X-Forwarded-For": {"198.51.100.1", "203.0.113.9:5555"}}, "203.0.113.9"},
		{"only the configured header counts: a client's Forwarded is ignored", "10.1.2.3:1234",
			http.Header{"Forwarded": {`for=192.0.2.50`}, "X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"garbage hop stops at the last known proxy", "10.1.2.3:1234",
			http.Header{"X-Forwarded-For": {"203.0.113.9, garbage, 10.4.4.4"}}, "10.4.4.4"},
		{"all hops trusted: the left-most", "10.1.2.3:1234",
			http.Header{"X-Forwarded-For": {"10.7.7.7, 10.8.8.8"}}, "10.7.7.7"},
		{"IPv6 trusted peer", "[2001:db8:aa::1]:443",
			http.Header{"X-Forwarded-For": {"2001:db8:bb::5"}}, "2001:db8:bb::5"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:1234",
			http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(host, f, req{method: "GET", path: "/anything", token: tok, header: tc.header, remote: tc.remote})
			require.Equal(t, 200, rec.Code, rec.Body.String())
			require.Equal(t, tc.want, rec.Body.String())
		})
	}

	// The engine records the forwarded address in the audit log.
	rec := f.do(req{method: "POST", path: "/v1/auth/token", ctype: "application/x-www-form-urlencoded", remote: "10.1.2.3:1",
		header: http.Header{"X-Forwarded-For": {"203.0.113.77"}},
		body:   "grant_type=client_credentials&client_secret=" + f.userToken(f.admin, permission.Set{}).Credential.Reveal()})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	rec = f.do(req{method: "POST", path: "/v1/auth/token", ctype: "application/x-www-form-urlencoded", remote: "192.0.2.99:1",
		header: http.Header{"X-Forwarded-For": {"203.0.113.78"}},
		body:   "grant_type=client_credentials&client_secret=" + f.userToken(f.admin, permission.Set{}).Credential.Reveal()})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	evs, _, err := f.eng.ListAudit(f.ctx, f.admin, "acme", store.AuditQuery{Type: engine.EventTokenExchanged}, store.Page{})
	require.NoError(t, err)
	var addrs []string
	for _, ev := range evs {
		addrs = append(addrs, ev.ClientAddr)
	}
	require.Contains(t, addrs, "203.0.113.77", "forwarded by a trusted proxy")
	require.Contains(t, addrs, "192.0.2.99", "an untrusted peer's header is ignored")
	require.NotContains(t, addrs, "203.0.113.78")
}

func TestMiddleware(t *testing.T) {
	f := newFixture(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, found := httpadapter.PrincipalFrom(r.Context())
		require.True(t, found)
		_, _ = w.Write([]byte(p.TenantID))
	})
	guarded := f.api.Require(permission.ViewLicenses)(ok)

	rec := serve(guarded, f, req{method: "GET", path: "/reports"})
	require.Equal(t, 401, rec.Code)
	require.Equal(t, hdr("WWW-Authenticate", challengeNone), rec.Header())

	rec = serve(guarded, f, req{method: "GET", path: "/reports", token: "junk"})
	require.Equal(t, 401, rec.Code)
	require.Equal(t, hdr("WWW-Authenticate", challengeInvalid), rec.Header())
	require.Equal(t, bodyInvalidToken, rec.Body.String())

	rec = serve(guarded, f, req{method: "GET", path: "/reports", token: f.bearer(permission.ViewUsers)})
	require.Equal(t, 403, rec.Code)
	require.Equal(t, `Bearer realm="licensekit", error="insufficient_scope", scope="licenses:view"`, rec.Header().Get("WWW-Authenticate"))

	rec = serve(guarded, f, req{method: "GET", path: "/reports", token: f.bearer(permission.ViewLicenses)})
	require.Equal(t, 200, rec.Code)
	require.Equal(t, "acme", rec.Body.String())

	// Require inside Authenticate uses the principal already there.
	rec = serve(f.api.Authenticate(guarded), f, req{method: "GET", path: "/reports", token: f.bearer(permission.ViewLicenses)})
	require.Equal(t, 200, rec.Code)
}

// With ForwardedHeader "Forwarded", RFC 7239 is read and X-Forwarded-For
// ignored; a misspelt header is refused at construction.
func TestForwardedHeaderOption(t *testing.T) {
	f := newFixture(t, withOptions(httpadapter.Options{
		TrustedProxies:  []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		ForwardedHeader: "Forwarded",
	}))
	host := f.api.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpadapter.PrincipalFrom(r.Context())
		_, _ = w.Write([]byte(p.ClientAddr.String()))
	}))
	rec := serve(host, f, req{method: "GET", path: "/anything", token: f.bearer(), remote: "10.1.2.3:1234",
		header: http.Header{"Forwarded": {`for=10.2.2.2, for="[2001:db8::7]:4711";proto=https`}, "X-Forwarded-For": {"198.51.100.1"}}})
	require.Equal(t, "2001:db8::7", rec.Body.String())

	require.Panics(t, func() { httpadapter.New(f.eng, httpadapter.Options{ForwardedHeader: "X-Real-IP"}) })
}

// One host holds a whole IPv6 /64: rotating addresses inside it does not
// buy fresh guesses.
func TestGuessLimiterCountsIPv6Per64(t *testing.T) {
	f := newFixture(t)
	for i := range 200 {
		form := url.Values{"grant_type": {"client_credentials"}, "client_secret": {"lkut_garbage"}}
		rec := f.do(req{method: "POST", path: "/v1/auth/token", ctype: "application/x-www-form-urlencoded", body: form.Encode(),
			remote: fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)})
		if rec.Code == http.StatusTooManyRequests {
			return
		}
	}
	t.Fatal("200 failed exchanges from one /64 and never limited (default: 30/min)")
}
