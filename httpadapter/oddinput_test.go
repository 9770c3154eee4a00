package httpadapter_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
)

// TestOddInputNeverFails sends odd IDs and queries to every route with a
// token holding every permission: never a 5xx, always the contract's JSON.
func TestOddInputNeverFails(t *testing.T) {
	f := newFixture(t)
	tok := f.bearer(permission.Full().Permissions()...)
	ids := []string{
		strings.Repeat("a", 5000), "%00", "%ff%fe", "%2F", "..", "%2e%2e", "日本", "a%0Ab", "%20", "lkut_x",
		url.PathEscape(strings.Repeat("é", 300)),
	}
	queries := []string{"", "?limit=1000000", "?cursor=" + strings.Repeat("z", 3000), "?cursor=%00%ff", "?limit=-1",
		"?token_id=%00&type=" + strings.Repeat("x", 2000), "?from=2026-01-01T00:00:00Z&to=2020-01-01T00:00:00Z"}
	bodies := []string{"{}", `{"name":"` + strings.Repeat("n", 5000) + `"}`, `{"name":"\u0000"}`, `{"email":"x@y","name":"n","role":"root"}`,
		`{"attributes":{"":""}}`, `{"entitlements":null}`, `{"customer_id":"` + strings.Repeat("c", 500) + `","product_id":"\u0001"}`,
		`{"key":"` + strings.Repeat("K", 10000) + `"}`, `{"status":"gone"}`, `{"token":"lkrt_` + strings.Repeat("A", 500) + `"}`}
	n := 0
	for _, rt := range httpadapter.Routes() {
		for _, id := range ids {
			p := strings.ReplaceAll(strings.ReplaceAll(rt.Pattern, "{id}", id), "{user_id}", id)
			var rs []req
			if rt.Method == "GET" || rt.Method == "DELETE" {
				for _, q := range queries {
					rs = append(rs, req{method: rt.Method, path: p + q, token: tok})
				}
			} else {
				for _, body := range bodies {
					rs = append(rs, jsonReq(rt.Method, p, tok, body))
				}
			}
			for _, r := range rs {
				rec := f.do(r)
				n++
				require.Less(t, rec.Code, 500, "%s %s %s: %s", r.method, r.path, r.body, rec.Body.String())
				require.True(t, contractStatuses[rec.Code], "%s %s: %d", r.method, r.path, rec.Code)
			}
		}
	}
	t.Logf("%d requests", n)
}
