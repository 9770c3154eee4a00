package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/httpadapter/console"
	"github.com/stretchr/testify/require"
)

func TestNewOptions(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		prefix string
		ok     bool
	}{
		{"", true}, {"/", true}, {"/console/", true}, {"/admin/licensing/", true}, {"/a-b_c.d~e/", true},
		{"console/", false}, {"/console", false}, {"/a//b/", false}, {"/a/../b/", false}, {"/a/./", false},
		{"/{id}/", false}, {"/a b/", false}, {"/é/", false}, {"/a?b/", false},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			c, err := console.New(f.eng, console.Options{Prefix: tc.prefix})
			if !tc.ok {
				require.ErrorIs(t, err, console.ErrInvalidOptions)
				return
			}
			require.NoError(t, err)
			want := tc.prefix
			if want == "" {
				want = console.DefaultPrefix
			}
			require.Equal(t, want, c.Prefix())
		})
	}
	_, err := console.New(nil, console.Options{})
	require.ErrorIs(t, err, console.ErrInvalidOptions)
}

// Under another prefix every link, redirect and the cookie's path
// follow it.
func TestCustomPrefix(t *testing.T) {
	f := newFixture(t)
	c, err := console.New(f.eng, console.Options{Prefix: "/admin/lk/", Clock: f.clock.Now})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/admin/lk/", c)

	serve := func(r *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		return rec
	}
	r := httptest.NewRequest("GET", "/admin/lk/tokens", nil)
	rec := serve(r)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.True(t, strings.HasPrefix(rec.Header().Get("Location"), "/admin/lk/signin"))

	rec = serve(httptest.NewRequest("GET", "/admin/lk/signin", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	signin := rec.Result().Cookies()[0]
	require.Equal(t, "lk_console_signin", signin.Name)
	require.Equal(t, "/admin/lk/", signin.Path)

	form := url.Values{"tenant": {"acme"}, "email": {"admin@acme.test"}, "password": {adminPassword}, "signin_csrf": {signin.Value}}
	r = httptest.NewRequest("POST", "/admin/lk/signin", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: signin.Name, Value: signin.Value})
	rec = serve(r)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, "/admin/lk/tokens", rec.Header().Get("Location"))
	ck := rec.Result().Cookies()[0]
	require.Equal(t, "/admin/lk/", ck.Path)

	r = httptest.NewRequest("GET", "/admin/lk/tokens", nil)
	r.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	rec = serve(r)
	require.Equal(t, http.StatusOK, rec.Code)
	for _, m := range regexp.MustCompile(`(?:href|action|src)="([^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1) {
		if !strings.HasPrefix(m[1], "#") {
			require.True(t, strings.HasPrefix(m[1], "/admin/lk/"), m[1])
		}
	}
}

// The assets are embedded, cacheable for good under their versioned
// URL, and carry the security headers too.
func TestAssets(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	page := b.get(prefix + "signin").Body.String()
	for _, tc := range []struct{ name, ctype string }{
		{"console.css", "text/css; charset=utf-8"},
		{"console.js", "text/javascript; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := regexp.MustCompile(`"(/console/assets/` + regexp.QuoteMeta(tc.name) + `\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
			require.NotNil(t, m)
			rec := b.get(m[1])
			require.Equal(t, http.StatusOK, rec.Code)
			require.Equal(t, tc.ctype, rec.Header().Get("Content-Type"))
			require.Equal(t, "public, max-age=31536000, immutable", rec.Header().Get("Cache-Control"))
			requireSecurityHeaders(t, rec)
			require.NotEmpty(t, rec.Body.String())

			stale := b.get(prefix + "assets/" + tc.name + "?v=old")
			require.Equal(t, http.StatusOK, stale.Code)
			require.Equal(t, "no-cache", stale.Header().Get("Cache-Control"))

			r := b.request("GET", m[1], nil)
			r.Header.Set("If-None-Match", rec.Header().Get("ETag"))
			require.Equal(t, http.StatusNotModified, b.do(r).Code)
		})
	}
	require.Equal(t, http.StatusNotFound, b.get(prefix+"assets/secret.txt").Code)
	require.Equal(t, http.StatusNotFound, b.get(prefix+"assets/..%2fconsole.go").Code)
}

// Unknown paths and methods are the console's own 404 page.
func TestNotFound(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	for _, rt := range []struct{ method, path string }{
		{"GET", prefix + "nope"}, {"GET", prefix + "tokens/x/y/z"}, {"GET", "/elsewhere"},
		{"DELETE", prefix + "tokens"}, {"PUT", prefix + "users/new"},
	} {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r := b.request(rt.method, rt.path, nil)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			rec := b.do(r)
			require.Equal(t, http.StatusNotFound, rec.Code)
			requireSecurityHeaders(t, rec)
			require.Contains(t, rec.Body.String(), "Not found")
		})
	}
}

// A ?done= value names one of the console's fixed messages; anything
// else shows nothing, and nothing of the URL is reflected.
func TestNoticesAreFixed(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	body := b.get(prefix + "tokens?done=token-deleted").Body.String()
	require.Equal(t, "The token was deleted.", textOf(t, body, "notice"))
	for _, done := range []string{"<script>alert(1)</script>", "You have been hacked", "token-deleted "} {
		body := b.get(prefix + "tokens?done=" + url.QueryEscape(done)).Body.String()
		require.NotContains(t, body, `id="notice"`)
		require.NotContains(t, body, "hacked")
		require.NotContains(t, body, "alert(1)")
	}
}

// HEAD answers like GET, without a body.
func TestHead(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	rec := b.do(b.request("HEAD", prefix+"tokens", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.String())
	requireSecurityHeaders(t, rec)
}
