package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/licensekit/licensekit/permission"
)

// pathf builds an API path from format and ids, each path-escaped; an empty
// id is an error, so a call never hits the wrong route.
func pathf(format string, ids ...string) (string, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		if id == "" {
			return "", errors.New("licensekit: empty id")
		}
		args[i] = url.PathEscape(id)
	}
	return fmt.Sprintf(format, args...), nil
}

// call sends in (nil: no body) to path and decodes the answer into a T.
func call[T any](ctx context.Context, c *Client, method, path string, in any) (T, error) {
	var out T
	r, err := jsonRequest(method, path, in)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, r, &out)
	return out, err
}

// callID is call on a path with ids.
func callID[T any](ctx context.Context, c *Client, method, format string, in any, ids ...string) (T, error) {
	p, err := pathf(format, ids...)
	if err != nil {
		var zero T
		return zero, err
	}
	return call[T](ctx, c, method, p, in)
}

// noContent sends a request whose answer has no body of interest (204).
func (c *Client) noContent(ctx context.Context, method, format string, ids ...string) error {
	p, err := pathf(format, ids...)
	if err != nil {
		return err
	}
	r, err := jsonRequest(method, p, nil)
	if err != nil {
		return err
	}
	return c.do(ctx, r, nil)
}

// page is a list answer: {"items": [...], "next_cursor": "..."}.
type page[T any] struct {
	Items      json.RawMessage `json:"items"`
	NextCursor string          `json:"next_cursor"`
	items      []T
}

func (p *page[T]) validate() error {
	if len(p.Items) == 0 {
		return errors.New("list without items")
	}
	if err := json.Unmarshal(p.Items, &p.items); err != nil {
		return fmt.Errorf("items: %w", err)
	}
	for i := range p.items {
		if v, ok := any(&p.items[i]).(validator); ok {
			if err := v.validate(); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
	}
	return nil
}

// list gets one page of path.
func list[T any](ctx context.Context, c *Client, path string, q url.Values, opts ListOptions) ([]T, string, error) {
	if q == nil {
		q = url.Values{}
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	r := &apiRequest{method: http.MethodGet, path: path, query: q, auth: authBearer}
	var p page[T]
	if err := c.do(ctx, r, &p); err != nil {
		return nil, "", err
	}
	if p.items == nil {
		p.items = []T{}
	}
	return p.items, p.NextCursor, nil
}

func listID[T any](ctx context.Context, c *Client, format string, opts ListOptions, ids ...string) ([]T, string, error) {
	p, err := pathf(format, ids...)
	if err != nil {
		return nil, "", err
	}
	return list[T](ctx, c, p, nil, opts)
}

// --- users ------------------------------------------------------------------

// ListUsers lists the tenant's users (users:view).
func (c *Client) ListUsers(ctx context.Context, opts ListOptions) ([]User, string, error) {
	return list[User](ctx, c, "/users", nil, opts)
}

// GetUser returns a user (users:view).
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	return callID[User](ctx, c, http.MethodGet, "/users/%s", nil, id)
}

// CreateUser creates a user (users:create).
func (c *Client) CreateUser(ctx context.Context, in NewUser) (User, error) {
	return call[User](ctx, c, http.MethodPost, "/users", in)
}

// UpdateUser changes a user (users:edit).
func (c *Client) UpdateUser(ctx context.Context, id string, p UserPatch) (User, error) {
	return callID[User](ctx, c, http.MethodPatch, "/users/%s", p, id)
}

// DeleteUser deletes a user.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, "/users/%s", id)
}

// --- groups -----------------------------------------------------------------

// ListGroups lists the tenant's groups.
func (c *Client) ListGroups(ctx context.Context, opts ListOptions) ([]Group, string, error) {
	return list[Group](ctx, c, "/groups", nil, opts)
}

// GetGroup returns a group.
func (c *Client) GetGroup(ctx context.Context, id string) (Group, error) {
	return callID[Group](ctx, c, http.MethodGet, "/groups/%s", nil, id)
}

// CreateGroup creates a group.
func (c *Client) CreateGroup(ctx context.Context, in NewGroup) (Group, error) {
	return call[Group](ctx, c, http.MethodPost, "/groups", in)
}

// UpdateGroup changes a group.
func (c *Client) UpdateGroup(ctx context.Context, id string, p GroupPatch) (Group, error) {
	return callID[Group](ctx, c, http.MethodPatch, "/groups/%s", p, id)
}

// DeleteGroup deletes a group.
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, "/groups/%s", id)
}

// ListGroupMembers lists the users of a group.
func (c *Client) ListGroupMembers(ctx context.Context, groupID string, opts ListOptions) ([]User, string, error) {
	return listID[User](ctx, c, "/groups/%s/members", opts, groupID)
}

// AddGroupMember puts a user in a group (PUT: adding a member twice is not
// an error).
func (c *Client) AddGroupMember(ctx context.Context, groupID, userID string) error {
	return c.noContent(ctx, http.MethodPut, "/groups/%s/members/%s", groupID, userID)
}

// RemoveGroupMember takes a user out of a group.
func (c *Client) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	return c.noContent(ctx, http.MethodDelete, "/groups/%s/members/%s", groupID, userID)
}

// --- products and plans -----------------------------------------------------

// ListProducts lists the tenant's products.
func (c *Client) ListProducts(ctx context.Context, opts ListOptions) ([]Product, string, error) {
	return list[Product](ctx, c, "/products", nil, opts)
}

// GetProduct returns a product.
func (c *Client) GetProduct(ctx context.Context, id string) (Product, error) {
	return callID[Product](ctx, c, http.MethodGet, "/products/%s", nil, id)
}

// CreateProduct creates a product.
func (c *Client) CreateProduct(ctx context.Context, in NewProduct) (Product, error) {
	return call[Product](ctx, c, http.MethodPost, "/products", in)
}

// UpdateProduct changes a product.
func (c *Client) UpdateProduct(ctx context.Context, id string, p ProductPatch) (Product, error) {
	return callID[Product](ctx, c, http.MethodPatch, "/products/%s", p, id)
}

// DeleteProduct deletes a product.
func (c *Client) DeleteProduct(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, "/products/%s", id)
}

// ListPlans lists the plans of a product.
func (c *Client) ListPlans(ctx context.Context, productID string, opts ListOptions) ([]Plan, string, error) {
	return listID[Plan](ctx, c, "/products/%s/plans", opts, productID)
}

// CreatePlan creates a plan of a product.
func (c *Client) CreatePlan(ctx context.Context, productID string, in NewPlan) (Plan, error) {
	return callID[Plan](ctx, c, http.MethodPost, "/products/%s/plans", in, productID)
}

// GetPlan returns a plan.
func (c *Client) GetPlan(ctx context.Context, id string) (Plan, error) {
	return callID[Plan](ctx, c, http.MethodGet, "/plans/%s", nil, id)
}

// UpdatePlan changes a plan.
func (c *Client) UpdatePlan(ctx context.Context, id string, p PlanPatch) (Plan, error) {
	return callID[Plan](ctx, c, http.MethodPatch, "/plans/%s", p, id)
}

// DeletePlan deletes a plan.
func (c *Client) DeletePlan(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, "/plans/%s", id)
}

// --- customers --------------------------------------------------------------

// ListCustomers lists the tenant's customers.
func (c *Client) ListCustomers(ctx context.Context, opts ListOptions) ([]Customer, string, error) {
	return list[Customer](ctx, c, "/customers", nil, opts)
}

// GetCustomer returns a customer.
func (c *Client) GetCustomer(ctx context.Context, id string) (Customer, error) {
	return callID[Customer](ctx, c, http.MethodGet, "/customers/%s", nil, id)
}

// CreateCustomer creates a customer.
func (c *Client) CreateCustomer(ctx context.Context, in NewCustomer) (Customer, error) {
	return call[Customer](ctx, c, http.MethodPost, "/customers", in)
}

// UpdateCustomer changes a customer.
func (c *Client) UpdateCustomer(ctx context.Context, id string, p CustomerPatch) (Customer, error) {
	return callID[Customer](ctx, c, http.MethodPatch, "/customers/%s", p, id)
}

// DeleteCustomer deletes a customer.
func (c *Client) DeleteCustomer(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, "/customers/%s", id)
}

// --- licenses ---------------------------------------------------------------

// createdLicense is the wire form of a CreatedLicense.
type createdLicense struct {
	License *License `json:"license"`
	Key     string   `json:"key"`
}

func (x *createdLicense) validate() error {
	switch {
	case x.License == nil:
		return errors.New("no license")
	case x.Key == "":
		return errors.New("no key")
	}
	return x.License.validate()
}

func (c *Client) createdLicense(ctx context.Context, r *apiRequest) (CreatedLicense, error) {
	var out createdLicense
	if err := c.do(ctx, r, &out); err != nil {
		return CreatedLicense{}, err
	}
	return CreatedLicense{License: *out.License, Key: NewSecret(out.Key)}, nil
}

// ListLicenses lists the tenant's licenses.
func (c *Client) ListLicenses(ctx context.Context, opts ListOptions) ([]License, string, error) {
	return list[License](ctx, c, "/licenses", nil, opts)
}

// GetLicense returns a license (never its key).
func (c *Client) GetLicense(ctx context.Context, id string) (License, error) {
	return callID[License](ctx, c, http.MethodGet, "/licenses/%s", nil, id)
}

// CreateLicense creates a license; its key is in the answer, this once.
func (c *Client) CreateLicense(ctx context.Context, in NewLicense) (CreatedLicense, error) {
	r, err := jsonRequest(http.MethodPost, "/licenses", in)
	if err != nil {
		return CreatedLicense{}, err
	}
	return c.createdLicense(ctx, r)
}

// UpdateLicense changes a license.
func (c *Client) UpdateLicense(ctx context.Context, id string, p LicensePatch) (License, error) {
	return callID[License](ctx, c, http.MethodPatch, "/licenses/%s", p, id)
}

// DeleteLicense deletes a license.
func (c *Client) DeleteLicense(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, "/licenses/%s", id)
}

// SuspendLicense suspends a license: validations answer SUSPENDED until it
// is reinstated.
func (c *Client) SuspendLicense(ctx context.Context, id string) (License, error) {
	return callID[License](ctx, c, http.MethodPost, "/licenses/%s/suspend", nil, id)
}

// ReinstateLicense makes a suspended license active again.
func (c *Client) ReinstateLicense(ctx context.Context, id string) (License, error) {
	return callID[License](ctx, c, http.MethodPost, "/licenses/%s/reinstate", nil, id)
}

// RevokeLicense revokes a license for good.
func (c *Client) RevokeLicense(ctx context.Context, id string) (License, error) {
	return callID[License](ctx, c, http.MethodPost, "/licenses/%s/revoke", nil, id)
}

// ReissueLicense gives a license a new key (the old one stops working); the
// new key is in the answer, this once.
func (c *Client) ReissueLicense(ctx context.Context, id string) (CreatedLicense, error) {
	p, err := pathf("/licenses/%s/reissue", id)
	if err != nil {
		return CreatedLicense{}, err
	}
	r, err := jsonRequest(http.MethodPost, p, nil)
	if err != nil {
		return CreatedLicense{}, err
	}
	return c.createdLicense(ctx, r)
}

// --- user tokens ------------------------------------------------------------

// ListTokens lists the tenant's user tokens (tokens:edit).
func (c *Client) ListTokens(ctx context.Context, opts ListOptions) ([]UserToken, string, error) {
	return list[UserToken](ctx, c, "/tokens", nil, opts)
}

// GetToken returns a user token's description (tokens:edit).
func (c *Client) GetToken(ctx context.Context, id string) (UserToken, error) {
	return callID[UserToken](ctx, c, http.MethodGet, "/tokens/%s", nil, id)
}

// rotatedToken is the wire form of a RotatedToken.
type rotatedToken struct {
	Token      *UserToken `json:"token"`
	Credential string     `json:"credential"`
}

func (x *rotatedToken) validate() error {
	switch {
	case x.Token == nil:
		return errors.New("no token")
	case x.Credential == "":
		return errors.New("no credential")
	}
	return x.Token.validate()
}

// RotateToken gives a user token a new secret (POST /v1/tokens/{id}/refresh,
// tokens:edit): the old secret and every access and refresh token obtained
// with it stop working at once. The new credential is in the answer, this
// once. When id is the client's own user token, the client switches to the
// new credential and exchanges it on its next call.
func (c *Client) RotateToken(ctx context.Context, id string) (RotatedToken, error) {
	p, err := pathf("/tokens/%s/refresh", id)
	if err != nil {
		return RotatedToken{}, err
	}
	r, err := jsonRequest(http.MethodPost, p, nil)
	if err != nil {
		return RotatedToken{}, err
	}
	var out rotatedToken
	if err := c.do(ctx, r, &out); err != nil {
		return RotatedToken{}, err
	}
	cred := NewSecret(out.Credential)
	if id == c.ts.userTokenID {
		c.ts.replaceUserToken(cred)
	}
	return RotatedToken{Token: *out.Token, Credential: cred}, nil
}

// DeactivateToken deactivates a user token: it, and everything obtained
// with it, stops working (tokens:edit).
func (c *Client) DeactivateToken(ctx context.Context, id string) (UserToken, error) {
	return callID[UserToken](ctx, c, http.MethodPost, "/tokens/%s/deactivate", nil, id)
}

// DeleteToken deletes a user token for good (tokens:edit).
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, "/tokens/%s", id)
}

// --- audit ------------------------------------------------------------------

// ListAudit lists the tenant's audit events matching q (audit:view).
func (c *Client) ListAudit(ctx context.Context, q AuditQuery, opts ListOptions) ([]AuditEvent, string, error) {
	v := url.Values{}
	if q.Type != "" {
		v.Set("type", q.Type)
	}
	if q.TokenID != "" {
		v.Set("token_id", q.TokenID)
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	return list[AuditEvent](ctx, c, "/audit", v, opts)
}

// Review returns the least-privilege review of the tenant's user tokens
// (GET /v1/review, audit:view): tokens never used or stale, tokens holding
// permissions they did not use within the window (with the set that would
// have served them), tokens without expiry, expiring, or due for rotation.
func (c *Client) Review(ctx context.Context, opts ReviewOptions) (Review, error) {
	v := url.Values{}
	for _, p := range []struct {
		name string
		n    int
	}{{"stale_days", opts.StaleDays}, {"window_days", opts.WindowDays}, {"expiring_days", opts.ExpiringDays}} {
		switch {
		case p.n < 0:
			return Review{}, fmt.Errorf("licensekit: review: negative %s", p.name)
		case p.n > 0:
			v.Set(p.name, strconv.Itoa(p.n))
		}
	}
	r := &apiRequest{method: http.MethodGet, path: "/review", query: v, auth: authBearer}
	var out Review
	if err := c.do(ctx, r, &out); err != nil {
		return Review{}, err
	}
	if out.Tokens == nil {
		out.Tokens = []TokenReview{}
	}
	return out, nil
}

// --- OAuth ------------------------------------------------------------------

// introspection is the wire form of an Introspection (RFC 7662 §2.2).
type introspection struct {
	Active    *bool  `json:"active"`
	Scope     string `json:"scope"`
	ClientID  string `json:"client_id"`
	Subject   string `json:"sub"`
	TokenType string `json:"token_type"`
	Exp       int64  `json:"exp"`
	TenantID  string `json:"tenant_id"`
}

func (x *introspection) validate() error {
	if x.Active == nil {
		return errors.New("no active field")
	}
	return nil
}

// Introspect asks whether token (an access or refresh token of the tenant)
// is active (POST /v1/auth/introspect, RFC 7662).
func (c *Client) Introspect(ctx context.Context, tok Secret) (Introspection, error) {
	r, err := jsonRequest(http.MethodPost, "/auth/introspect", map[string]string{"token": tok.Reveal()})
	if err != nil {
		return Introspection{}, err
	}
	r.secrets = []Secret{tok}
	var out introspection
	if err := c.do(ctx, r, &out); err != nil {
		return Introspection{}, err
	}
	if !*out.Active {
		return Introspection{}, nil
	}
	scope, err := permission.ParseList(out.Scope)
	if err != nil {
		return Introspection{}, malformed(c.scrubber(tok), "POST /auth/introspect: scope: %v", err)
	}
	in := Introspection{
		Active: true, Scope: scope, ClientID: out.ClientID, Subject: out.Subject,
		TokenType: out.TokenType, TenantID: out.TenantID,
	}
	if out.Exp > 0 {
		in.ExpiresAt = time.Unix(out.Exp, 0).UTC()
	}
	return in, nil
}

// Revoke revokes an access or refresh token (POST /v1/auth/revoke, RFC
// 7009). Revoking a refresh token ends its whole family, access tokens
// included. The server answers success whether or not the token was
// valid. When tok is one of the client's own tokens, the client forgets
// them and exchanges its user token on its next call.
func (c *Client) Revoke(ctx context.Context, tok Secret) error {
	if tok.IsZero() {
		return errors.New("licensekit: empty token")
	}
	if err := c.revoke(ctx, tok); err != nil {
		return err
	}
	c.ts.forget(tok)
	return nil
}

func (c *Client) revoke(ctx context.Context, tok Secret) error {
	r := formRequest("/auth/revoke", map[string][]string{"token": {tok.Reveal()}})
	r.secrets = []Secret{tok}
	var waited time.Duration
	for {
		resp, err := roundTrip(ctx, c.hc, c.base, c.userAgent, r, nil)
		if err == nil {
			err = decode(r, resp, nil, c.scrubber(tok), c.now())
		}
		d, ok := retryWait(err, waited, c.maxRetryWait)
		if !ok {
			return err
		}
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
		waited += d
	}
}

// revokeQuietly revokes tok best effort, for cleanup paths.
func (c *Client) revokeQuietly(ctx context.Context, tok Secret) {
	if tok.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = c.revoke(ctx, tok)
}

// OpenAPI returns the server's OpenAPI 3.1 document (GET /v1/openapi.json,
// public).
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	r := &apiRequest{method: http.MethodGet, path: "/openapi.json", auth: authNone}
	var doc json.RawMessage
	if err := c.do(ctx, r, &doc); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(strings.TrimSpace(string(doc)), "{") {
		return nil, malformed(nil, "GET /openapi.json: not a JSON object")
	}
	return doc, nil
}
