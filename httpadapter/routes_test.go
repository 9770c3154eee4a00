package httpadapter_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
)

// fakePath fills a pattern's wildcards with IDs that exist nowhere.
func fakePath(pattern string) string {
	p := strings.ReplaceAll(pattern, "{id}", "0190a5d2-0000-7000-8000-000000000000")
	return strings.ReplaceAll(p, "{user_id}", "0190a5d2-0000-7000-8000-000000000001")
}

// TestRouteTableDeclared: every route names an operation with a declared
// rule (deny by default: a route without one fails here), operation IDs
// are unique, and the table's access is exactly engine.Operations()'s.
func TestRouteTableDeclared(t *testing.T) {
	rules := map[engine.Operation]engine.OperationRule{}
	for _, r := range engine.Operations() {
		rules[r.Operation] = r
	}
	ids := map[string]bool{}
	seen := map[string]bool{}
	for _, rt := range httpadapter.Routes() {
		key := rt.Method + " " + rt.Pattern
		require.False(t, seen[key], "duplicate route %s", key)
		seen[key] = true
		require.False(t, ids[rt.OperationID], "duplicate operation ID %s", rt.OperationID)
		ids[rt.OperationID] = true
		require.True(t, strings.HasPrefix(rt.Pattern, "/v1/"), key)
		if rt.Operation == "" {
			require.Equal(t, "/v1/openapi.json", rt.Pattern, "only the OpenAPI document serves no engine operation")
			require.Equal(t, engine.AccessPublic, rt.Access)
			continue
		}
		rule, ok := rules[rt.Operation]
		require.True(t, ok, "route %s: operation %s has no declared rule", key, rt.Operation)
		require.Equal(t, rule.Access, rt.Access, key)
		require.NotZero(t, rt.Access, key)
		if rt.Access == engine.AccessPermission {
			require.True(t, rt.Permission.Valid(), key)
			require.Equal(t, rule.Permission, rt.Permission, key)
		}
		require.NotEqual(t, engine.AccessAdmin, rt.Access, "%s: admin-only operations have no bearer-token route", key)
		require.NotEqual(t, engine.AccessSystem, rt.Access, "%s: system operations have no route", key)
	}
}

// TestRouteWalk walks every route that is not public with three tokens:
// one with no permission (403), one with exactly the route's permission
// (never 401 or 403), one with every other permission (403).
func TestRouteWalk(t *testing.T) {
	f := newFixture(t)
	tokens := map[permission.Set]string{}
	bearer := func(s permission.Set) string {
		if tok, ok := tokens[s]; ok {
			return tok
		}
		tok := f.access(f.userToken(f.admin, s)).AccessToken.Reveal()
		tokens[s] = tok
		return tok
	}
	walked := 0
	for _, rt := range httpadapter.Routes() {
		if rt.Access == engine.AccessPublic {
			continue
		}
		walked++
		path := fakePath(rt.Pattern)
		call := func(tok string) *http.Response {
			r := req{method: rt.Method, path: path, token: tok}
			if rt.Method != http.MethodGet && rt.Method != http.MethodDelete {
				r.ctype, r.body = "application/json", "{}"
			}
			return f.do(r).Result()
		}
		name := rt.Method + " " + rt.Pattern
		switch rt.Access {
		case engine.AccessPermission:
			code := rt.Permission.Code()
			res := call(bearer(permission.Set{}))
			require.Equal(t, 403, res.StatusCode, "%s with no permission", name)
			require.Equal(t, `Bearer realm="licensekit", error="insufficient_scope", scope="`+code+`"`,
				res.Header.Get("WWW-Authenticate"), name)

			res = call(bearer(permission.NewSet(rt.Permission)))
			require.NotContains(t, []int{401, 403}, res.StatusCode, "%s with exactly %s", name, code)
			require.Less(t, res.StatusCode, 500, name)

			res = call(bearer(permission.Full().Remove(rt.Permission)))
			require.Equal(t, 403, res.StatusCode, "%s with every permission but %s", name, code)
		case engine.AccessAuthenticated:
			res := call(bearer(permission.Set{}))
			require.NotContains(t, []int{401, 403}, res.StatusCode, "%s is open to any token of the tenant", name)
			require.Less(t, res.StatusCode, 500, name)
		default:
			t.Fatalf("%s: unexpected access %v", name, rt.Access)
		}
		// And without a token, 401 before anything else.
		res := call("")
		require.Equal(t, 401, res.StatusCode, name)
	}
	t.Logf("routes walked: %d (of %d)", walked, len(httpadapter.Routes()))
	require.GreaterOrEqual(t, walked, 40)
}

// TestOpenAPIDocument: every route of the table is in the served document
// with its method, operationId and permission.
func TestOpenAPIDocument(t *testing.T) {
	f := newFixture(t)
	rec := f.do(req{method: "GET", path: "/v1/openapi.json"})
	require.Equal(t, 200, rec.Code)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string           `json:"operationId"`
			Permission  string           `json:"x-permission"`
			Access      string           `json:"x-access"`
			Security    []map[string]any `json:"security"`
			Responses   map[string]any   `json:"responses"`
			RequestBody *struct {
				Content map[string]any `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	require.Equal(t, rec.Body.Bytes(), f.api.OpenAPI())
	n := 0
	for _, rt := range httpadapter.Routes() {
		item, ok := doc.Paths[rt.Pattern]
		require.True(t, ok, "path %s missing", rt.Pattern)
		op, ok := item[strings.ToLower(rt.Method)]
		require.True(t, ok, "%s %s missing", rt.Method, rt.Pattern)
		require.Equal(t, rt.OperationID, op.OperationID)
		require.Equal(t, rt.Access.String(), op.Access)
		if rt.Access == engine.AccessPermission {
			require.Equal(t, rt.Permission.Code(), op.Permission, rt.Pattern)
			require.Equal(t, []map[string]any{{"bearerAuth": []any{}}}, op.Security)
			for _, st := range []string{"401", "402", "403", "429"} {
				require.Contains(t, op.Responses, st, "%s %s", rt.Method, rt.Pattern)
			}
		}
		if op.RequestBody != nil {
			require.Contains(t, op.RequestBody.Content, "application/json")
			for _, st := range []string{"400", "413", "415"} {
				require.Contains(t, op.Responses, st, "%s %s", rt.Method, rt.Pattern)
			}
		}
		n++
	}
	// Nothing in the document that is not served.
	total := 0
	for _, item := range doc.Paths {
		total += len(item)
	}
	require.Equal(t, n, total)
	for _, name := range []string{"Error", "User", "License", "UserToken", "TokenResponse", "ValidationResult", "AuditEvent"} {
		require.Contains(t, doc.Components.Schemas, name)
	}
	require.Contains(t, doc.Components.Schemas["License"]["properties"], "key_hint")
	require.NotContains(t, doc.Components.Schemas["User"]["properties"], "password_hash")
}
