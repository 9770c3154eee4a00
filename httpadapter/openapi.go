package httpadapter

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
)

// OpenAPI returns the API's OpenAPI 3.1 document, as served at
// GET /v1/openapi.json. It is generated from the route table (Routes) and
// the Go types of the bodies, so it cannot drift from what is served.
func (a *Adapter) OpenAPI() []byte { return slices.Clone(a.openapi) }

type obj = map[string]any

// enums lists the values of the string types whose values are closed.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[store.Role]():            {string(store.RoleAdmin), string(store.RoleMember)},
	reflect.TypeFor[store.UserStatus]():      {string(store.UserActive), string(store.UserDeactivated)},
	reflect.TypeFor[store.LicenseStatus]():   {string(store.LicenseActive), string(store.LicenseSuspended), string(store.LicenseRevoked)},
	reflect.TypeFor[store.TokenStatus]():     {string(store.TokenActive), string(store.TokenDeactivated), string(store.TokenDeleted)},
	reflect.TypeFor[store.Severity]():        {string(store.SeverityInfo), string(store.SeverityWarning), string(store.SeverityHigh)},
	reflect.TypeFor[engine.Finding]():        findingValues(),
	reflect.TypeFor[engine.ValidationCode](): {string(engine.CodeValid), string(engine.CodeNotFound), string(engine.CodeExpired), string(engine.CodeSuspended), string(engine.CodeRevoked), string(engine.CodeProductMismatch), string(engine.CodePlanMismatch)},
}

func findingValues() []string {
	var out []string
	for _, f := range engine.Findings() {
		out = append(out, string(f))
	}
	return out
}

// schemaNames gives the component names of types whose Go names collide
// or say little.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[engine.Event]():           "AuditEvent",
	reflect.TypeFor[createdLicenseResponse](): "CreatedLicense",
	reflect.TypeFor[rotatedTokenResponse]():   "RotatedUserToken",
	reflect.TypeFor[validationResponse]():     "ValidationResult",
	reflect.TypeFor[introspectionResponse]():  "Introspection",
	reflect.TypeFor[tokenResponse]():          "TokenResponse",
	reflect.TypeFor[tokenRequest]():           "TokenRequest",
	reflect.TypeFor[revokeRequest]():          "TokenParam",
	reflect.TypeFor[validateRequest]():        "ValidateRequest",
	reflect.TypeFor[struct{}]():               "Empty",
}

// hiddenFields are fields of the engine's types that the API never
// returns (the engine clears them).
var hiddenFields = map[reflect.Type]map[string]bool{
	reflect.TypeFor[store.User](): {"password_hash": true},
}

type schemaGen struct {
	components obj
	names      map[reflect.Type]string
}

// schema returns the JSON Schema of t, registering structs as components.
func (g *schemaGen) schema(t reflect.Type) obj {
	if t == reflect.TypeFor[map[string]any]() {
		return obj{"type": "object"}
	}
	if o, ok := reflect.Zero(t).Interface().(interface{ elemType() reflect.Type }); ok {
		return obj{"anyOf": []any{g.schema(o.elemType()), obj{"type": "null"}}}
	}
	switch t {
	case reflect.TypeFor[time.Time](), reflect.TypeFor[timestamp]():
		return obj{"type": "string", "format": "date-time"}
	case reflect.TypeFor[permission.Set]():
		return obj{"type": "array", "items": obj{"type": "string", "enum": permission.Full().Codes()}}
	}
	if vals, ok := enums[t]; ok {
		return obj{"type": "string", "enum": vals}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Struct:
		return obj{"$ref": "#/components/schemas/" + g.component(t)}
	}
	return obj{}
}

func (g *schemaGen) component(t reflect.Type) string {
	if name, ok := g.names[t]; ok {
		return name
	}
	name := schemaNames[t]
	if name == "" {
		name = t.Name()
		if name == "" {
			name = fmt.Sprintf("Object%d", len(g.names)+1)
		}
		name = capitalize(name)
		for _, taken := range g.names {
			if taken == name {
				pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
				name = capitalize(pkg) + name
			}
		}
	}
	g.names[t] = name
	props := obj{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		jname, opts, _ := strings.Cut(tag, ",")
		if jname == "" {
			jname = f.Name
		}
		if hiddenFields[t][jname] {
			continue
		}
		props[jname] = g.schema(f.Type)
		omit := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		_, isOpt := reflect.Zero(f.Type).Interface().(interface{ elemType() reflect.Type })
		if f.Tag.Get("oa") == "required" || (!omit && !isOpt && !g.isRequest(t)) {
			required = append(required, jname)
		}
	}
	s := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	if g.isRequest(t) {
		s["additionalProperties"] = false
	}
	g.components[name] = s
	return name
}

// isRequest reports whether t is one of the adapter's request bodies,
// whose unknown fields are refused.
func (g *schemaGen) isRequest(t reflect.Type) bool {
	return t.PkgPath() == reflect.TypeFor[route]().PkgPath() && strings.HasSuffix(t.Name(), "Request")
}

// buildOpenAPI renders the document of routes.
func buildOpenAPI(routes []*route, realm string) []byte {
	g := &schemaGen{components: obj{}, names: map[reflect.Type]string{}}
	g.components["Error"] = obj{
		"type":        "object",
		"description": "Every error. Extra fields may appear beside error (the token endpoint adds error_description).",
		"required":    []string{"error"},
		"properties":  obj{"error": obj{"type": "string"}, "error_description": obj{"type": "string"}},
	}
	paths := obj{}
	for _, rt := range routes {
		item, _ := paths[rt.pattern].(obj)
		if item == nil {
			item = obj{}
			paths[rt.pattern] = item
		}
		item[strings.ToLower(rt.method)] = g.operation(rt)
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "licensekit API",
			"version": "1",
			"description": "Multi-tenant licensing API. Authenticate by exchanging a user token at /v1/auth/token " +
				"(OAuth 2.0 client credentials) and sending the access token as Authorization: Bearer. " +
				"Each operation's x-permission is the permission its token must hold; x-access says who may call it. " +
				"Paths are relative to where the host mounts the API.",
		},
		"paths": paths,
		"components": obj{
			"schemas":   g.components,
			"responses": errorResponses(),
			"securitySchemes": obj{
				"bearerAuth": obj{"type": "http", "scheme": "bearer", "description": "An access token from /v1/auth/token (realm " + strconv.Quote(realm) + ")."},
				"clientBasic": obj{"type": "http", "scheme": "basic",
					"description": "client_secret_basic: the user token's UUID and the user token, each form-encoded."},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic("httpadapter: the OpenAPI document does not marshal: " + err.Error())
	}
	return append(b, '\n')
}

func (g *schemaGen) operation(rt *route) obj {
	op := obj{
		"operationId": rt.id,
		"summary":     rt.summary,
		"tags":        []string{tagOf(rt.pattern)},
		"x-access":    rt.access.String(),
	}
	if rt.op != "" {
		op["x-operation"] = string(rt.op)
	}
	if rt.access == engine.AccessPermission {
		op["x-permission"] = rt.perm.Code()
		op["description"] = "Requires the permission " + rt.perm.Code() + " (" + rt.perm.Name() + ")."
	}
	switch {
	case rt.pattern == "/v1/auth/token":
		op["security"] = []any{obj{"clientBasic": []string{}}, obj{}}
	case rt.access == engine.AccessPublic:
		op["security"] = []any{}
	default:
		op["security"] = []any{obj{"bearerAuth": []string{}}}
	}
	var params []any
	for _, name := range pathParams(rt.pattern) {
		params = append(params, obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string"}})
	}
	if rt.list {
		params = append(params,
			obj{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": store.MaxPageLimit},
				"description": fmt.Sprintf("page size (default %d)", store.DefaultPageLimit)},
			obj{"name": "cursor", "in": "query", "schema": obj{"type": "string"}, "description": "next_cursor of the previous page"})
	}
	for _, q := range rt.query {
		s := obj{"type": q.typ}
		if q.format != "" {
			s["format"] = q.format
		}
		params = append(params, obj{"name": q.name, "in": "query", "schema": s, "description": q.desc})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if t := typeOf(rt.req); t != nil {
		content := obj{"application/json": obj{"schema": g.schema(t)}}
		if rt.form {
			content["application/x-www-form-urlencoded"] = obj{"schema": g.schema(t)}
		}
		op["requestBody"] = obj{"required": true, "content": content}
	}
	responses := obj{}
	ok := obj{"description": http.StatusText(rt.status)}
	if t := typeOf(rt.resp); t != nil && rt.status != http.StatusNoContent {
		s := g.schema(t)
		if rt.list {
			s = obj{"type": "object", "required": []string{"items"}, "properties": obj{
				"items":       obj{"type": "array", "items": s},
				"next_cursor": obj{"type": "string", "description": "absent on the last page"},
			}}
		}
		ok["content"] = obj{"application/json": obj{"schema": s}}
	}
	if rt.secret {
		ok["description"] = http.StatusText(rt.status) + ". The response carries a secret shown once (Cache-Control: no-store)."
	}
	responses[strconv.Itoa(rt.status)] = ok
	for _, st := range errorStatuses(rt) {
		responses[strconv.Itoa(st)] = obj{"$ref": "#/components/responses/" + strconv.Itoa(st)}
	}
	op["responses"] = responses
	return op
}

// errorStatuses lists the errors a route may answer.
func errorStatuses(rt *route) []int {
	var s []int
	hasInput := rt.req != nil || rt.list || len(rt.query) > 0
	switch {
	case rt.op == "":
		return nil
	case rt.pattern == "/v1/auth/token":
		s = []int{400, 401, 402, 413, 415, 429}
	case rt.access == engine.AccessPublic:
		s = []int{400, 413, 415}
		if rt.op == engine.OpValidateLicense {
			s = append(s, 402, 429)
		}
	default:
		s = []int{401, 402}
		if rt.access == engine.AccessPermission {
			s = append(s, 403)
		}
		s = append(s, 429)
		if hasInput || len(pathParams(rt.pattern)) > 0 {
			s = append(s, 400)
		}
		if len(pathParams(rt.pattern)) > 0 {
			s = append(s, 404)
		}
		if rt.req != nil {
			s = append(s, 413, 415)
		}
	}
	s = append(s, rt.errs...)
	s = append(s, 500)
	slices.Sort(s)
	return slices.Compact(s)
}

func errorResponses() obj {
	errContent := obj{"application/json": obj{"schema": obj{"$ref": "#/components/schemas/Error"}}}
	hdr := func(desc string) obj { return obj{"description": desc, "schema": obj{"type": "string"}} }
	out := obj{}
	for st, desc := range map[int]string{
		400: "Malformed input; error says what is wrong.",
		401: `Invalid token: the same bytes whatever the reason.`,
		402: "Invalid license: the tenant's platform license is expired or suspended.",
		403: "Access denied: the token lacks the permission.",
		404: "Not found.",
		409: "Already exists.",
		413: "Request body too large.",
		415: "Unsupported media type.",
		429: "Too Many Requests (Reached license limit), or Too Many Requests from one client address.",
		500: "Internal error.",
	} {
		r := obj{"description": desc, "content": errContent}
		switch st {
		case 401, 403:
			r["headers"] = obj{"WWW-Authenticate": hdr("RFC 6750 §3 challenge")}
		case 429:
			r["headers"] = obj{
				"Retry-After":         hdr("seconds to wait"),
				"RateLimit-Limit":     hdr("the tenant's limit per window (license limit only)"),
				"RateLimit-Remaining": hdr("0 (license limit only)"),
				"RateLimit-Reset":     hdr("seconds until the quota is full again (license limit only)"),
			}
		}
		out[strconv.Itoa(st)] = r
	}
	return out
}

// tagOf groups a route by its first path segment after /v1.
func tagOf(pattern string) string {
	seg := strings.Split(strings.TrimPrefix(pattern, "/v1/"), "/")[0]
	return strings.TrimSuffix(seg, ".json")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
