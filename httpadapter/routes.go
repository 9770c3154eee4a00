package httpadapter

import (
	"errors"
	"net/http"
	"net/netip"
	"reflect"
	"strings"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
)

// RouteInfo describes one route of the API: the route table that drives
// the adapter's mux, its OpenAPI document and its tests.
type RouteInfo struct {
	// Method and Pattern as registered: "GET", "/v1/users/{id}".
	Method  string
	Pattern string
	// OperationID names the route in the OpenAPI document.
	OperationID string
	// Operation is the engine operation the route performs; "" for the
	// OpenAPI document, which performs none.
	Operation engine.Operation
	// Access and Permission are the operation's rule, as declared in
	// engine.Operations(). Access is 0 for an operation without a rule
	// (the engine refuses it; a test fails).
	Access     engine.Access
	Permission permission.Permission
}

// Routes returns the API's route table. The slice is the caller's.
func Routes() []RouteInfo {
	rs := buildRoutes()
	out := make([]RouteInfo, len(rs))
	for i, rt := range rs {
		out[i] = rt.info()
	}
	return out
}

func (rt *route) info() RouteInfo {
	return RouteInfo{
		Method: rt.method, Pattern: rt.pattern, OperationID: rt.id, Operation: rt.op,
		Access: rt.access, Permission: rt.perm,
	}
}

// route is one entry of the route table.
type route struct {
	method, pattern string
	id              string // OpenAPI operationId; default string(op)
	op              engine.Operation
	summary         string
	handle          func(*call) error

	// For the OpenAPI document.
	req    any  // request body type (nil: none)
	form   bool // the body may also be a form
	resp   any  // response body type (nil: none)
	list   bool // the response is a page of resp
	status int  // success status
	query  []queryParam
	errs   []int // statuses beyond those every route of its access has
	secret bool  // the response carries a secret shown once

	// Filled from engine.Operations() by buildRoutes.
	access engine.Access
	perm   permission.Permission
}

type queryParam struct {
	name, typ, format, desc string
}

// buildRoutes returns the table with each route's rule filled in.
func buildRoutes() []*route {
	rules := map[engine.Operation]engine.OperationRule{}
	for _, r := range engine.Operations() {
		rules[r.Operation] = r
	}
	table := routeTable()
	out := make([]*route, len(table))
	for i := range table {
		rt := table[i]
		if rt.id == "" {
			rt.id = string(rt.op)
		}
		if rt.status == 0 {
			rt.status = http.StatusOK
		}
		if rt.op == "" {
			rt.access = engine.AccessPublic // serves no engine operation
		} else if rule, ok := rules[rt.op]; ok {
			rt.access, rt.perm = rule.Access, rule.Permission
		}
		out[i] = &rt
	}
	return out
}

// call is one request on a route.
type call struct {
	a    *Adapter
	w    http.ResponseWriter
	r    *http.Request
	rt   *route
	p    *engine.Principal // nil on public routes
	addr netip.Addr
}

// serveRoute is the one path every route's request takes:
//
//  1. a route that is not public authenticates the Bearer token
//     (401, then 402), before anything of the request is read;
//  2. the route's handler reads its parameters and body and calls its
//     engine operation, which checks the permission (403) and charges the
//     tenant's quota (429) before it looks at its input;
//  3. when the handler could not read the request (400, 413, 415) the
//     route's permission is checked first with engine.Authorize, so that
//     a caller without the permission learns 403 whatever it sent, and the
//     precedence 401, 402, 403, 429 holds for every request.
func (a *Adapter) serveRoute(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{a: a, w: w, r: r, rt: rt, addr: a.ClientAddr(r)}
		if rt.access != engine.AccessPublic {
			p, ok := a.authenticate(w, r, c.addr)
			if !ok {
				return
			}
			c.p = p
		}
		err := rt.handle(c)
		if err == nil {
			return
		}
		var ie *inputError
		if errors.As(err, &ie) && c.p != nil && rt.access == engine.AccessPermission {
			if aerr := a.eng.Authorize(c.r.Context(), c.p, rt.perm); aerr != nil {
				err = aerr
			}
		}
		scope := ""
		if c.p != nil && rt.access == engine.AccessPermission && !c.p.Permissions.Has(rt.perm) {
			scope = rt.perm.Code()
		}
		a.writeError(w, r, err, c.p, scope)
	})
}

// reply writes a success response with the route's status.
func (c *call) reply(v any) error {
	h := c.w.Header()
	if c.rt.secret {
		h.Set("Pragma", "no-cache")
	}
	c.a.setQuotaHeaders(c.w, c.p)
	if c.rt.status == http.StatusNoContent || v == nil {
		c.w.WriteHeader(c.rt.status)
		return nil
	}
	writeJSON(c.w, c.rt.status, v)
	return nil
}

func (c *call) tenant() string { return c.p.TenantID }

func (c *call) id() string { return c.r.PathValue("id") }

// pathParams lists the {names} of a pattern.
func pathParams(pattern string) []string {
	var out []string
	for seg := range strings.SplitSeq(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return out
}

// typeOf is reflect.TypeOf that tolerates nil.
func typeOf(v any) reflect.Type {
	if v == nil {
		return nil
	}
	return reflect.TypeOf(v)
}
