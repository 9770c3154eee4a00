package httpadapter

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/store"
)

// routeTable is the API: every route, its engine operation and what the
// OpenAPI document says of it. Access and permission come from
// engine.Operations(), never from here.
func routeTable() []route {
	const (
		get, post, patch, put, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete
		created, noContent         = http.StatusCreated, http.StatusNoContent
	)
	conflict := []int{http.StatusConflict}
	return []route{
		// OAuth 2.0 and token introspection.
		{method: post, pattern: "/v1/auth/token", op: engine.OpExchange, id: "Token", handle: handleToken,
			summary: "OAuth 2.0 token endpoint: client_credentials (the user token) or refresh_token grant",
			req:     tokenRequest{}, form: true, resp: tokenResponse{}, secret: true},
		{method: post, pattern: "/v1/auth/revoke", op: engine.OpRevoke, handle: handleRevoke,
			summary: "Revoke an access or refresh token and its refresh family (RFC 7009)",
			req:     revokeRequest{}, form: true, resp: struct{}{}},
		{method: post, pattern: "/v1/auth/introspect", op: engine.OpIntrospect, handle: handleIntrospect,
			summary: "Introspect a token of the caller's tenant (RFC 7662)",
			req:     revokeRequest{}, form: true, resp: introspectionResponse{}},

		// User tokens. Creating tokens and changing their permissions are
		// for administrators, never for a bearer token: no route here.
		{method: get, pattern: "/v1/tokens", op: engine.OpListUserTokens, summary: "List user tokens",
			handle: list((*engine.Engine).ListUserTokens), resp: engine.UserToken{}, list: true},
		{method: get, pattern: "/v1/tokens/{id}", op: engine.OpGetUserToken, summary: "Get a user token",
			handle: get1((*engine.Engine).GetUserToken), resp: engine.UserToken{}},
		{method: post, pattern: "/v1/tokens/{id}/refresh", op: engine.OpRotateUserToken, handle: handleRotateToken,
			summary: "Rotate a user token: a new secret, shown once; everything derived from the old one dies",
			resp:    rotatedTokenResponse{}, secret: true},
		{method: post, pattern: "/v1/tokens/{id}/deactivate", op: engine.OpDeactivateUserToken, summary: "Deactivate a user token",
			handle: get1((*engine.Engine).DeactivateUserToken), resp: engine.UserToken{}},
		{method: del, pattern: "/v1/tokens/{id}", op: engine.OpDeleteUserToken, summary: "Delete a user token",
			handle: delete1((*engine.Engine).DeleteUserToken), status: noContent},

		// Users.
		{method: get, pattern: "/v1/users", op: engine.OpListUsers, summary: "List users",
			handle: list((*engine.Engine).ListUsers), resp: store.User{}, list: true},
		{method: post, pattern: "/v1/users", op: engine.OpCreateUser, summary: "Create a user",
			handle: handleCreateUser, req: createUserRequest{}, resp: store.User{}, status: created, errs: conflict},
		{method: get, pattern: "/v1/users/{id}", op: engine.OpGetUser, summary: "Get a user",
			handle: get1((*engine.Engine).GetUser), resp: store.User{}},
		{method: patch, pattern: "/v1/users/{id}", op: engine.OpUpdateUser, summary: "Update a user",
			handle: handleUpdateUser, req: updateUserRequest{}, resp: store.User{}, errs: conflict},
		{method: del, pattern: "/v1/users/{id}", op: engine.OpDeleteUser, summary: "Delete a user",
			handle: delete1((*engine.Engine).DeleteUser), status: noContent},

		// Groups.
		{method: get, pattern: "/v1/groups", op: engine.OpListGroups, summary: "List groups",
			handle: list((*engine.Engine).ListGroups), resp: store.Group{}, list: true},
		{method: post, pattern: "/v1/groups", op: engine.OpCreateGroup, summary: "Create a group",
			handle: handleCreateGroup, req: createGroupRequest{}, resp: store.Group{}, status: created},
		{method: get, pattern: "/v1/groups/{id}", op: engine.OpGetGroup, summary: "Get a group",
			handle: get1((*engine.Engine).GetGroup), resp: store.Group{}},
		{method: patch, pattern: "/v1/groups/{id}", op: engine.OpUpdateGroup, summary: "Update a group",
			handle: handleUpdateGroup, req: updateGroupRequest{}, resp: store.Group{}},
		{method: del, pattern: "/v1/groups/{id}", op: engine.OpDeleteGroup, summary: "Delete a group (never its users)",
			handle: delete1((*engine.Engine).DeleteGroup), status: noContent},
		{method: get, pattern: "/v1/groups/{id}/members", op: engine.OpListGroupMembers, summary: "List a group's members",
			handle: listIn((*engine.Engine).ListGroupMembers), resp: store.User{}, list: true},
		{method: put, pattern: "/v1/groups/{id}/members/{user_id}", op: engine.OpAddGroupMember, summary: "Add a user to a group",
			handle: member((*engine.Engine).AddGroupMember), status: noContent},
		{method: del, pattern: "/v1/groups/{id}/members/{user_id}", op: engine.OpRemoveGroupMember, summary: "Remove a user from a group",
			handle: member((*engine.Engine).RemoveGroupMember), status: noContent},

		// Products and plans.
		{method: get, pattern: "/v1/products", op: engine.OpListProducts, summary: "List products",
			handle: list((*engine.Engine).ListProducts), resp: store.Product{}, list: true},
		{method: post, pattern: "/v1/products", op: engine.OpCreateProduct, summary: "Create a product",
			handle: handleCreateProduct, req: createProductRequest{}, resp: store.Product{}, status: created},
		{method: get, pattern: "/v1/products/{id}", op: engine.OpGetProduct, summary: "Get a product",
			handle: get1((*engine.Engine).GetProduct), resp: store.Product{}},
		{method: patch, pattern: "/v1/products/{id}", op: engine.OpUpdateProduct, summary: "Update a product",
			handle: handleUpdateProduct, req: updateProductRequest{}, resp: store.Product{}},
		{method: del, pattern: "/v1/products/{id}", op: engine.OpDeleteProduct, summary: "Delete a product without plans",
			handle: delete1((*engine.Engine).DeleteProduct), status: noContent},
		{method: get, pattern: "/v1/products/{id}/plans", op: engine.OpListPlans, summary: "List a product's plans",
			handle: listIn((*engine.Engine).ListPlans), resp: store.Plan{}, list: true},
		{method: post, pattern: "/v1/products/{id}/plans", op: engine.OpCreatePlan, summary: "Create a plan of a product",
			handle: handleCreatePlan, req: createPlanRequest{}, resp: store.Plan{}, status: created},
		{method: get, pattern: "/v1/plans/{id}", op: engine.OpGetPlan, summary: "Get a plan",
			handle: get1((*engine.Engine).GetPlan), resp: store.Plan{}},
		{method: patch, pattern: "/v1/plans/{id}", op: engine.OpUpdatePlan, summary: "Update a plan",
			handle: handleUpdatePlan, req: updatePlanRequest{}, resp: store.Plan{}},
		{method: del, pattern: "/v1/plans/{id}", op: engine.OpDeletePlan, summary: "Delete a plan",
			handle: delete1((*engine.Engine).DeletePlan), status: noContent},

		// Customers.
		{method: get, pattern: "/v1/customers", op: engine.OpListCustomers, summary: "List customers",
			handle: list((*engine.Engine).ListCustomers), resp: store.Customer{}, list: true},
		{method: post, pattern: "/v1/customers", op: engine.OpCreateCustomer, summary: "Create a customer",
			handle: handleCreateCustomer, req: createCustomerRequest{}, resp: store.Customer{}, status: created},
		{method: get, pattern: "/v1/customers/{id}", op: engine.OpGetCustomer, summary: "Get a customer",
			handle: get1((*engine.Engine).GetCustomer), resp: store.Customer{}},
		{method: patch, pattern: "/v1/customers/{id}", op: engine.OpUpdateCustomer, summary: "Update a customer",
			handle: handleUpdateCustomer, req: updateCustomerRequest{}, resp: store.Customer{}},
		{method: del, pattern: "/v1/customers/{id}", op: engine.OpDeleteCustomer, summary: "Delete a customer",
			handle: delete1((*engine.Engine).DeleteCustomer), status: noContent},

		// Licenses.
		{method: get, pattern: "/v1/licenses", op: engine.OpListLicenses, summary: "List licenses",
			handle: list((*engine.Engine).ListLicenses), resp: engine.License{}, list: true},
		{method: post, pattern: "/v1/licenses", op: engine.OpCreateLicense, handle: handleCreateLicense,
			summary: "Issue a license; its key is shown once",
			req:     createLicenseRequest{}, resp: createdLicenseResponse{}, status: created, secret: true},
		{method: get, pattern: "/v1/licenses/{id}", op: engine.OpGetLicense, summary: "Get a license",
			handle: get1((*engine.Engine).GetLicense), resp: engine.License{}},
		{method: patch, pattern: "/v1/licenses/{id}", op: engine.OpUpdateLicense, summary: "Update a license's plan, expiry or attributes",
			handle: handleUpdateLicense, req: updateLicenseRequest{}, resp: engine.License{}},
		{method: del, pattern: "/v1/licenses/{id}", op: engine.OpDeleteLicense, summary: "Delete a license",
			handle: delete1((*engine.Engine).DeleteLicense), status: noContent},
		{method: post, pattern: "/v1/licenses/{id}/suspend", op: engine.OpSetLicenseStatus, id: "SuspendLicense",
			summary: "Suspend a license", handle: licenseStatus(store.LicenseSuspended), resp: engine.License{}},
		{method: post, pattern: "/v1/licenses/{id}/reinstate", op: engine.OpSetLicenseStatus, id: "ReinstateLicense",
			summary: "Reinstate a suspended license", handle: licenseStatus(store.LicenseActive), resp: engine.License{}},
		{method: post, pattern: "/v1/licenses/{id}/revoke", op: engine.OpSetLicenseStatus, id: "RevokeLicense",
			summary: "Revoke a license (final)", handle: licenseStatus(store.LicenseRevoked), resp: engine.License{}},
		{method: post, pattern: "/v1/licenses/{id}/reissue", op: engine.OpReissueLicense, handle: handleReissueLicense,
			summary: "Give a license a new key, shown once; the old key stops validating",
			resp:    createdLicenseResponse{}, secret: true},
		{method: post, pattern: "/v1/licenses/validate", op: engine.OpValidateLicense, handle: handleValidate,
			summary: "Validate a license key (no token needed)",
			req:     validateRequest{}, resp: validationResponse{}},

		// Governance.
		{method: get, pattern: "/v1/audit", op: engine.OpListAudit, summary: "List the tenant's audit events, oldest first",
			handle: handleListAudit, resp: engine.Event{}, list: true, query: []queryParam{
				{name: "type", typ: "string", desc: "only events of this type (e.g. auth.failed)"},
				{name: "token_id", typ: "string", desc: "only events about this user token"},
				{name: "from", typ: "string", format: "date-time", desc: "only events at or after this time (RFC 3339)"},
				{name: "to", typ: "string", format: "date-time", desc: "only events before this time (RFC 3339)"},
			}},
		{method: get, pattern: "/v1/review", op: engine.OpReview, handle: handleReview,
			summary: "The least-privilege review of the tenant's user tokens: never used, stale, unused permissions " +
				"(with the set that would have served), no expiry, expiring, due for rotation",
			resp: engine.Review{}, query: []queryParam{
				{name: "stale_days", typ: "integer", desc: "a token unused for longer is stale (default 30)"},
				{name: "window_days", typ: "integer", desc: "the period whose use decides the permissions a token needs (default 90)"},
				{name: "expiring_days", typ: "integer", desc: "report tokens expiring within this many days (default 30)"},
			}},

		// The document of all of the above.
		{method: get, pattern: "/v1/openapi.json", id: "OpenAPI", summary: "This API's OpenAPI 3.1 document",
			handle: handleOpenAPI, resp: map[string]any{}},
	}
}

// --- generic handlers ---------------------------------------------------------

type (
	listFunc[T any]   func(*engine.Engine, context.Context, engine.Actor, string, store.Page) ([]T, string, error)
	listInFunc[T any] func(*engine.Engine, context.Context, engine.Actor, string, string, store.Page) ([]T, string, error)
	getFunc[T any]    func(*engine.Engine, context.Context, engine.Actor, string, string) (T, error)
	deleteFunc        func(*engine.Engine, context.Context, engine.Actor, string, string) error
	memberFunc        func(*engine.Engine, context.Context, engine.Actor, string, string, string) error
)

// list serves GET of a tenant's collection.
func list[T any](f listFunc[T]) func(*call) error {
	return func(c *call) error {
		pg, err := page(c.r)
		if err != nil {
			return err
		}
		items, next, err := f(c.a.eng, c.r.Context(), c.p, c.tenant(), pg)
		if err != nil {
			return err
		}
		return c.reply(newList(items, next))
	}
}

// listIn serves GET of a collection inside the record {id}.
func listIn[T any](f listInFunc[T]) func(*call) error {
	return func(c *call) error {
		pg, err := page(c.r)
		if err != nil {
			return err
		}
		items, next, err := f(c.a.eng, c.r.Context(), c.p, c.tenant(), c.id(), pg)
		if err != nil {
			return err
		}
		return c.reply(newList(items, next))
	}
}

// get1 serves an operation on the record {id} that returns it.
func get1[T any](f getFunc[T]) func(*call) error {
	return func(c *call) error {
		v, err := f(c.a.eng, c.r.Context(), c.p, c.tenant(), c.id())
		if err != nil {
			return err
		}
		return c.reply(v)
	}
}

func delete1(f deleteFunc) func(*call) error {
	return func(c *call) error {
		if err := f(c.a.eng, c.r.Context(), c.p, c.tenant(), c.id()); err != nil {
			return err
		}
		return c.reply(nil)
	}
}

func member(f memberFunc) func(*call) error {
	return func(c *call) error {
		if err := f(c.a.eng, c.r.Context(), c.p, c.tenant(), c.id(), c.r.PathValue("user_id")); err != nil {
			return err
		}
		return c.reply(nil)
	}
}

// --- users, groups, products, plans, customers -------------------------------

type createUserRequest struct {
	Email string     `json:"email" oa:"required"`
	Name  string     `json:"name" oa:"required"`
	Role  store.Role `json:"role,omitempty"`
}

func handleCreateUser(c *call) error {
	var in createUserRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	u, err := c.a.eng.CreateUser(c.r.Context(), c.p, c.tenant(), engine.NewUser{Email: in.Email, Name: in.Name, Role: in.Role})
	if err != nil {
		return err
	}
	return c.reply(u)
}

type updateUserRequest struct {
	Name   *string           `json:"name,omitempty"`
	Email  *string           `json:"email,omitempty"`
	Role   *store.Role       `json:"role,omitempty"`
	Status *store.UserStatus `json:"status,omitempty"`
}

func handleUpdateUser(c *call) error {
	var in updateUserRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	u, err := c.a.eng.UpdateUser(c.r.Context(), c.p, c.tenant(), c.id(), engine.UserPatch{
		Name: in.Name, Email: in.Email, Role: in.Role, Status: in.Status,
	})
	if err != nil {
		return err
	}
	return c.reply(u)
}

type createGroupRequest struct {
	Name        string `json:"name" oa:"required"`
	Description string `json:"description,omitempty"`
}

func handleCreateGroup(c *call) error {
	var in createGroupRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	g, err := c.a.eng.CreateGroup(c.r.Context(), c.p, c.tenant(), engine.NewGroup{Name: in.Name, Description: in.Description})
	if err != nil {
		return err
	}
	return c.reply(g)
}

type updateGroupRequest struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

func handleUpdateGroup(c *call) error {
	var in updateGroupRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	g, err := c.a.eng.UpdateGroup(c.r.Context(), c.p, c.tenant(), c.id(), engine.GroupPatch{Name: in.Name, Description: in.Description})
	if err != nil {
		return err
	}
	return c.reply(g)
}

type createProductRequest struct {
	Name        string `json:"name" oa:"required"`
	Description string `json:"description,omitempty"`
}

func handleCreateProduct(c *call) error {
	var in createProductRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	p, err := c.a.eng.CreateProduct(c.r.Context(), c.p, c.tenant(), engine.NewProduct{Name: in.Name, Description: in.Description})
	if err != nil {
		return err
	}
	return c.reply(p)
}

type updateProductRequest struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

func handleUpdateProduct(c *call) error {
	var in updateProductRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	p, err := c.a.eng.UpdateProduct(c.r.Context(), c.p, c.tenant(), c.id(), engine.ProductPatch{Name: in.Name, Description: in.Description})
	if err != nil {
		return err
	}
	return c.reply(p)
}

type createPlanRequest struct {
	Name         string            `json:"name" oa:"required"`
	Entitlements map[string]string `json:"entitlements,omitempty"`
}

func handleCreatePlan(c *call) error {
	var in createPlanRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	p, err := c.a.eng.CreatePlan(c.r.Context(), c.p, c.tenant(), engine.NewPlan{
		ProductID: c.id(), Name: in.Name, Entitlements: in.Entitlements,
	})
	if err != nil {
		return err
	}
	return c.reply(p)
}

type updatePlanRequest struct {
	Name *string `json:"name,omitempty"`
	// Entitlements replace the plan's; {} removes them all.
	Entitlements *map[string]string `json:"entitlements,omitempty"`
}

func handleUpdatePlan(c *call) error {
	var in updatePlanRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	p, err := c.a.eng.UpdatePlan(c.r.Context(), c.p, c.tenant(), c.id(), engine.PlanPatch{Name: in.Name, Entitlements: in.Entitlements})
	if err != nil {
		return err
	}
	return c.reply(p)
}

type createCustomerRequest struct {
	Name  string `json:"name" oa:"required"`
	Email string `json:"email,omitempty"`
}

func handleCreateCustomer(c *call) error {
	var in createCustomerRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	cu, err := c.a.eng.CreateCustomer(c.r.Context(), c.p, c.tenant(), engine.NewCustomer{Name: in.Name, Email: in.Email})
	if err != nil {
		return err
	}
	return c.reply(cu)
}

type updateCustomerRequest struct {
	Name *string `json:"name,omitempty"`
	// Email "" removes the customer's email.
	Email *string `json:"email,omitempty"`
}

func handleUpdateCustomer(c *call) error {
	var in updateCustomerRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	cu, err := c.a.eng.UpdateCustomer(c.r.Context(), c.p, c.tenant(), c.id(), engine.CustomerPatch{Name: in.Name, Email: in.Email})
	if err != nil {
		return err
	}
	return c.reply(cu)
}

// --- licenses ---------------------------------------------------------------

type createLicenseRequest struct {
	CustomerID string            `json:"customer_id" oa:"required"`
	ProductID  string            `json:"product_id" oa:"required"`
	PlanID     string            `json:"plan_id,omitempty"`
	ExpiresAt  timestamp         `json:"expires_at,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// createdLicenseResponse carries a license key, shown this once.
type createdLicenseResponse struct {
	License engine.License `json:"license"`
	Key     string         `json:"key"`
}

func handleCreateLicense(c *call) error {
	var in createLicenseRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	exp, err := in.ExpiresAt.parse("expires_at")
	if err != nil {
		return err
	}
	cl, err := c.a.eng.CreateLicense(c.r.Context(), c.p, c.tenant(), engine.NewLicense{
		CustomerID: in.CustomerID, ProductID: in.ProductID, PlanID: in.PlanID, ExpiresAt: exp, Attributes: in.Attributes,
	})
	if err != nil {
		return err
	}
	return c.reply(createdLicenseResponse{License: cl.License, Key: cl.Key.Reveal()})
}

// updateLicenseRequest: an absent field is unchanged; null (or "") for
// plan_id removes the plan, for expires_at removes the expiry; null or {}
// for attributes removes them all.
type updateLicenseRequest struct {
	PlanID     optional[string]            `json:"plan_id"`
	ExpiresAt  optional[timestamp]         `json:"expires_at"`
	Attributes optional[map[string]string] `json:"attributes"`
}

func handleUpdateLicense(c *call) error {
	var in updateLicenseRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	var p engine.LicensePatch
	if in.PlanID.Set {
		p.PlanID = &in.PlanID.V
	}
	if in.ExpiresAt.Set {
		exp, err := in.ExpiresAt.V.parse("expires_at")
		if err != nil {
			return err
		}
		p.ExpiresAt = &exp
	}
	if in.Attributes.Set {
		attrs := in.Attributes.V
		if attrs == nil {
			attrs = map[string]string{}
		}
		p.Attributes = &attrs
	}
	l, err := c.a.eng.UpdateLicense(c.r.Context(), c.p, c.tenant(), c.id(), p)
	if err != nil {
		return err
	}
	return c.reply(l)
}

func licenseStatus(st store.LicenseStatus) func(*call) error {
	return func(c *call) error {
		l, err := c.a.eng.SetLicenseStatus(c.r.Context(), c.p, c.tenant(), c.id(), st)
		if err != nil {
			return err
		}
		return c.reply(l)
	}
}

func handleReissueLicense(c *call) error {
	cl, err := c.a.eng.ReissueLicense(c.r.Context(), c.p, c.tenant(), c.id())
	if err != nil {
		return err
	}
	return c.reply(createdLicenseResponse{License: cl.License, Key: cl.Key.Reveal()})
}

type validateRequest struct {
	Key       string `json:"key" oa:"required"`
	ProductID string `json:"product_id,omitempty"`
	PlanID    string `json:"plan_id,omitempty"`
}

type validationResponse struct {
	Valid bool                  `json:"valid"`
	Code  engine.ValidationCode `json:"code"`
	// License is set whenever the key was found, whatever the code.
	License *engine.PublicLicense `json:"license,omitempty"`
}

func handleValidate(c *call) error {
	var in validateRequest
	if err := c.a.decodeJSON(c.w, c.r, &in); err != nil {
		return err
	}
	if in.Key == "" {
		return badRequest("key is required")
	}
	res, err := c.a.eng.ValidateLicense(c.r.Context(), in.Key, engine.ValidationScope{ProductID: in.ProductID, PlanID: in.PlanID}, c.addr)
	if err != nil {
		return err
	}
	setDecisionHeaders(c.w, res.Quota)
	return c.reply(validationResponse{Valid: res.Valid, Code: res.Code, License: res.License})
}

// --- user tokens --------------------------------------------------------------

// rotatedTokenResponse carries a user token's new credential, shown this
// once.
type rotatedTokenResponse struct {
	Token      engine.UserToken `json:"token"`
	Credential string           `json:"credential"`
}

func handleRotateToken(c *call) error {
	ct, err := c.a.eng.RotateUserToken(c.r.Context(), c.p, c.tenant(), c.id())
	if err != nil {
		return err
	}
	return c.reply(rotatedTokenResponse{Token: ct.Token, Credential: ct.Credential.Reveal()})
}

// --- audit ----------------------------------------------------------------------

func handleListAudit(c *call) error {
	pg, err := page(c.r)
	if err != nil {
		return err
	}
	v := c.r.URL.Query()
	q := store.AuditQuery{Type: v.Get("type"), TokenID: v.Get("token_id")}
	if q.From, err = timestamp(v.Get("from")).parse("from"); err != nil {
		return err
	}
	if q.To, err = timestamp(v.Get("to")).parse("to"); err != nil {
		return err
	}
	items, next, err := c.a.eng.ListAudit(c.r.Context(), c.p, c.tenant(), q, pg)
	if err != nil {
		return err
	}
	return c.reply(newList(items, next))
}

// maxReviewDays bounds the review's day parameters: the engine's bound,
// in the unit of the query string.
const maxReviewDays = int(engine.MaxReviewDuration / (24 * time.Hour))

func handleReview(c *call) error {
	v := c.r.URL.Query()
	var opts engine.ReviewOptions
	for _, p := range []struct {
		name string
		d    *time.Duration
	}{{"stale_days", &opts.StaleAfter}, {"window_days", &opts.Window}, {"expiring_days", &opts.ExpiringWithin}} {
		s := v.Get(p.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxReviewDays {
			return badRequest(fmt.Sprintf("%s must be an integer from 1 to %d", p.name, maxReviewDays))
		}
		*p.d = time.Duration(n) * 24 * time.Hour
	}
	r, err := c.a.eng.Review(c.r.Context(), c.p, c.tenant(), opts)
	if err != nil {
		return err
	}
	return c.reply(r)
}

func handleOpenAPI(c *call) error {
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(c.a.openapi)
	return nil
}
