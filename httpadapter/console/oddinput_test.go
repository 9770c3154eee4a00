package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
)

// Odd requests are answered with a page, never a 500, and always with
// the security headers.
func TestOddInput(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	ct := f.token(f.acme, "t", permission.NewSet(permission.ViewUsers))
	for _, tc := range []struct {
		name, method, target, body, ctype string
	}{
		{"nul in id", "GET", prefix + "tokens/%00", "", ""},
		{"encoded slash in id", "GET", prefix + "users/..%2f..%2fetc", "", ""},
		{"long id", "GET", prefix + "tokens/" + strings.Repeat("a", 5000), "", ""},
		{"bad cursor", "GET", prefix + "tokens?after=%ff%fe", "", ""},
		{"bad audit cursor", "GET", prefix + "audit?after=" + strings.Repeat("z", 3000), "", ""},
		{"audit odd filters", "GET", prefix + "audit?type=%3Cscript%3E&token=%00&from=2026-13-45&to=", "", ""},
		{"unknown preset", "GET", prefix + "tokens/new?preset=%3Cscript%3E", "", ""},
		{"invalid utf-8 name", "POST", prefix + "tokens/new", "name=%ff%fe&owner=" + f.acme.UserID, "form"},
		{"control chars in name", "POST", prefix + "tokens/new", "name=a%07b&owner=" + f.acme.UserID, "form"},
		{"repeated fields", "POST", prefix + "tokens/new", "name=a&name=b&owner=x&owner=" + f.acme.UserID + "&perm=users:view&perm=users:view", "form"},
		{"bad form encoding", "POST", prefix + "tokens/new", "name=%zz", "form"},
		{"multipart", "POST", prefix + "tokens/new", "--x\r\n", "multipart/form-data; boundary=x"},
		{"json", "POST", prefix + "tokens/new", `{"name":"x"}`, "application/json"},
		{"no content type", "POST", prefix + "users/new", "email=a@b.test", ""},
		{"huge cidr list", "POST", prefix + "tokens/new", "name=x&owner=" + f.acme.UserID + "&cidrs=" + strings.Repeat("10.0.0.0/8,", 100), "form"},
		{"expiry far ahead", "POST", prefix + "tokens/new", "name=x&owner=" + f.acme.UserID + "&expires=9999-12-31", "form"},
		{"rotate deleted-looking id", "POST", prefix + "tokens/" + strings.ToUpper(ct.Token.ID) + "/rotate", "", "form"},
		{"role injection", "POST", prefix + "users/" + f.acme.UserID, "name=x&role=admin%00", "form"},
		{"password too long", "POST", prefix + "account/password", "current=x&password=" + strings.Repeat("p", 300), "form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *http.Request
			if tc.method == "POST" {
				body := tc.body
				if tc.ctype == "form" && body != "" {
					body += "&csrf=" + url.QueryEscape(b.csrf)
				}
				r = httptest.NewRequest("POST", tc.target, strings.NewReader(body))
				switch tc.ctype {
				case "form":
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				case "":
				default:
					r.Header.Set("Content-Type", tc.ctype)
				}
				r.Header.Set("Sec-Fetch-Site", "same-origin")
			} else {
				r = httptest.NewRequest("GET", tc.target, nil)
			}
			r.RemoteAddr = b.remote
			r.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
			rec := httptest.NewRecorder()
			f.con.ServeHTTP(rec, r)
			require.Less(t, rec.Code, 500, rec.Body.String())
			requireSecurityHeaders(t, rec)
			require.NotContains(t, rec.Body.String(), "<script>")
			if rec.Code != http.StatusSeeOther && rec.Code != http.StatusMovedPermanently {
				requireCleanHTML(t, tc.name, rec.Body.String())
			}
		})
	}
	// The admin is still an admin, still signed in.
	require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code)
}

// FuzzNext: wherever the sign-in page is asked to go next, it only ever
// sends the browser to a page of the console, on the same host.
func FuzzNext(f *testing.F) {
	for _, s := range []string{
		"/console/tokens", "/console/audit?type=x", "//evil.test", "https://evil.test/console/", "/console/../x",
		"/\\evil.test", "/console/%2e%2e/x", "javascript:alert(1)", "/console//evil.test", " /console/tokens",
		"/console/tokens\r\nLocation: //evil", "/console/signin", "/console/\t/evil", "/console/@evil.test",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		fx := newFixture(t)
		b := fx.admin()
		rec := b.get(prefix + "signin?next=" + url.QueryEscape(next))
		require.Equal(t, http.StatusSeeOther, rec.Code)
		loc := rec.Header().Get("Location")
		u, err := url.Parse(loc)
		require.NoError(t, err)
		require.Empty(t, u.Scheme, loc)
		require.Empty(t, u.Host, loc)
		require.True(t, strings.HasPrefix(loc, prefix), loc)
		require.False(t, strings.HasPrefix(loc, "//"), loc)
		require.NotContains(t, loc, "\\")
		// A browser resolving it against the console's origin stays there.
		base, _ := url.Parse("https://console.example/console/tokens")
		resolved := base.ResolveReference(u)
		require.Equal(t, "console.example", resolved.Host, loc)
		require.True(t, strings.HasPrefix(resolved.Path, prefix), loc)
	})
}
