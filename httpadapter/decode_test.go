package httpadapter_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
)

func TestRequestDecoding(t *testing.T) {
	f := newFixture(t, withOptions(httpadapter.Options{MaxBodyBytes: 1024}))
	tok := f.bearer(permission.EditProducts, permission.ViewProducts)
	big := `{"name":"` + strings.Repeat("x", 2000) + `"}`
	for _, tc := range []struct {
		name   string
		r      req
		status int
		body   string
	}{
		{"wrong content type", req{method: "POST", path: "/v1/products", token: tok, ctype: "text/plain", body: `{"name":"a"}`},
			415, `{"error":"Unsupported media type"}`},
		{"no content type", req{method: "POST", path: "/v1/products", token: tok, body: `{"name":"a"}`},
			415, `{"error":"Unsupported media type"}`},
		{"form where JSON is required", req{method: "POST", path: "/v1/products", token: tok, ctype: "application/x-www-form-urlencoded", body: `name=a`},
			415, `{"error":"Unsupported media type"}`},
		{"another charset", req{method: "POST", path: "/v1/products", token: tok, ctype: "application/json; charset=latin1", body: `{"name":"a"}`},
			415, `{"error":"Unsupported media type"}`},
		{"too large", jsonReq("POST", "/v1/products", tok, big),
			413, `{"error":"Request body too large"}`},
		{"unknown field", jsonReq("POST", "/v1/products", tok, `{"name":"a","colour":"red"}`),
			400, `{"error":"unknown field \"colour\""}`},
		{"trailing data", jsonReq("POST", "/v1/products", tok, `{"name":"a"} {"name":"b"}`),
			400, `{"error":"the request body has data after the JSON object"}`},
		{"trailing garbage", jsonReq("POST", "/v1/products", tok, `{"name":"a"}x`),
			400, `{"error":"the request body has data after the JSON object"}`},
		{"wrong type", jsonReq("POST", "/v1/products", tok, `{"name":5}`),
			400, `{"error":"field \"name\" must be a string"}`},
		{"not an object", jsonReq("POST", "/v1/products", tok, `["a"]`),
			400, `{"error":"the request body must be a JSON object"}`},
		{"null", jsonReq("POST", "/v1/products", tok, `null`),
			400, `{"error":"the request body must be a JSON object"}`},
		{"empty", jsonReq("POST", "/v1/products", tok, ``),
			400, `{"error":"the request body is empty: send a JSON object"}`},
		{"syntax", jsonReq("POST", "/v1/products", tok, `{"name" "a"}`),
			400, `{"error":"malformed JSON at byte 9"}`},
		{"bad timestamp", jsonReq("POST", "/v1/licenses", f.bearer(permission.EditLicenses), `{"customer_id":"c","product_id":"p","expires_at":"tomorrow"}`),
			400, `{"error":"expires_at must be an RFC 3339 timestamp (2006-01-02T15:04:05Z)"}`},
		{"bad limit", req{method: "GET", path: "/v1/products?limit=ten", token: tok},
			400, `{"error":"limit must be an integer from 1 to 1000"}`},
		{"wrong method", req{method: "PUT", path: "/v1/products", token: tok},
			405, `{"error":"Method not allowed"}`},
		{"unknown path", req{method: "GET", path: "/v1/nothing", token: tok},
			404, `{"error":"Not found"}`},
		{"outside v1", req{method: "GET", path: "/"},
			404, `{"error":"Not found"}`},
		{"not canonical", req{method: "GET", path: "/v1//products", token: tok},
			404, `{"error":"Not found"}`},
		{"dot segments", req{method: "GET", path: "/v1/users/../products", token: tok},
			404, `{"error":"Not found"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(tc.r)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			if tc.body != "" {
				require.JSONEq(t, tc.body, rec.Body.String())
			}
		})
	}

	rec := f.do(req{method: "DELETE", path: "/v1/auth/token"})
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "POST", rec.Header().Get("Allow"))
	rec = f.do(req{method: "POST", path: "/v1/users/x"})
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "DELETE, GET, HEAD, PATCH", rec.Header().Get("Allow"))
}
