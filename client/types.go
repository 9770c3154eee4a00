package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/permission"
)

// The records below mirror the JSON of the API (the json tags are its field
// names). Times are UTC RFC 3339; a zero time means "not set".

// ListOptions pages through a list. The zero value asks for the first page
// at the server's default size.
type ListOptions struct {
	// Limit is the page size; zero or less: the server's default.
	Limit int
	// Cursor is the next cursor of the previous page; empty: the first
	// page.
	Cursor string
}

// Role of a user within its tenant.
type Role string

// Roles.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// UserStatus says whether a user may act.
type UserStatus string

// User statuses.
const (
	UserActive      UserStatus = "active"
	UserDeactivated UserStatus = "deactivated"
)

// User is a person of a tenant.
type User struct {
	TenantID  string     `json:"tenant_id"`
	ID        string     `json:"id"`
	Email     string     `json:"email"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Status    UserStatus `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// NewUser is the body of CreateUser. Email and Name are required; an empty
// Role is member.
type NewUser struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  Role   `json:"role,omitempty"`
}

// UserPatch is the body of UpdateUser: nil fields stay as they are.
type UserPatch struct {
	Name   *string     `json:"name,omitempty"`
	Email  *string     `json:"email,omitempty"`
	Role   *Role       `json:"role,omitempty"`
	Status *UserStatus `json:"status,omitempty"`
}

// Group is a named set of users.
type Group struct {
	TenantID    string    `json:"tenant_id"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// NewGroup is the body of CreateGroup. Name is required.
type NewGroup struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// GroupPatch is the body of UpdateGroup: nil fields stay as they are.
type GroupPatch struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// Product is something a tenant licenses to its customers.
type Product struct {
	TenantID    string    `json:"tenant_id"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// NewProduct is the body of CreateProduct. Name is required.
type NewProduct struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// ProductPatch is the body of UpdateProduct: nil fields stay as they are.
type ProductPatch struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// Plan is one way a product is sold, with free-form entitlements.
type Plan struct {
	TenantID     string            `json:"tenant_id"`
	ID           string            `json:"id"`
	ProductID    string            `json:"product_id"`
	Name         string            `json:"name"`
	Entitlements map[string]string `json:"entitlements,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// NewPlan is the body of CreatePlan (the product is in the path). Name is
// required.
type NewPlan struct {
	Name         string            `json:"name"`
	Entitlements map[string]string `json:"entitlements,omitempty"`
}

// PlanPatch is the body of UpdatePlan: nil fields stay as they are;
// Entitlements, when set, replace the whole map (a pointer to an empty map
// removes them all).
type PlanPatch struct {
	Name         *string            `json:"name,omitempty"`
	Entitlements *map[string]string `json:"entitlements,omitempty"`
}

// Customer is whom a tenant licenses its products to.
type Customer struct {
	TenantID  string    `json:"tenant_id"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewCustomer is the body of CreateCustomer. Name is required.
type NewCustomer struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// CustomerPatch is the body of UpdateCustomer: nil fields stay as they
// are; a pointer to "" removes the email.
type CustomerPatch struct {
	Name  *string `json:"name,omitempty"`
	Email *string `json:"email,omitempty"`
}

// LicenseStatus is the state of a customer's license.
type LicenseStatus string

// License statuses.
const (
	LicenseActive    LicenseStatus = "active"
	LicenseSuspended LicenseStatus = "suspended"
	LicenseRevoked   LicenseStatus = "revoked"
)

// License grants a customer a product under a plan. The key is not part of
// it: it is shown once, in a CreatedLicense.
type License struct {
	ID         string            `json:"id"`
	TenantID   string            `json:"tenant_id"`
	CustomerID string            `json:"customer_id"`
	ProductID  string            `json:"product_id"`
	PlanID     string            `json:"plan_id,omitempty"`
	Status     LicenseStatus     `json:"status"`
	KeyHint    string            `json:"key_hint,omitempty"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"`
	Attributes map[string]string `json:"attributes,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// NewLicense is the body of CreateLicense. CustomerID and ProductID are
// required; PlanID, when set, must be a plan of the product; a zero
// ExpiresAt never expires.
type NewLicense struct {
	CustomerID string            `json:"customer_id"`
	ProductID  string            `json:"product_id"`
	PlanID     string            `json:"plan_id,omitempty"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// LicensePatch is the body of UpdateLicense: nil fields stay as they are.
// A pointer to "" removes the plan, a pointer to the zero time the expiry
// (both are sent as JSON null); Attributes, when set, replace the whole
// map (a pointer to an empty map removes them all).
type LicensePatch struct {
	PlanID     *string            `json:"plan_id,omitempty"`
	ExpiresAt  *time.Time         `json:"expires_at,omitempty"`
	Attributes *map[string]string `json:"attributes,omitempty"`
}

// MarshalJSON sends a removal (pointer to "" or to the zero time) as null.
func (p LicensePatch) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if p.PlanID != nil {
		if *p.PlanID == "" {
			m["plan_id"] = nil
		} else {
			m["plan_id"] = *p.PlanID
		}
	}
	if p.ExpiresAt != nil {
		if p.ExpiresAt.IsZero() {
			m["expires_at"] = nil
		} else {
			m["expires_at"] = p.ExpiresAt.UTC().Format(time.RFC3339Nano)
		}
	}
	if p.Attributes != nil {
		a := *p.Attributes
		if a == nil {
			a = map[string]string{}
		}
		m["attributes"] = a
	}
	return json.Marshal(m)
}

// CreatedLicense is a new or reissued license and its key, which the
// server shows this once.
type CreatedLicense struct {
	License License
	Key     Secret
}

// TokenStatus is the state of a user token.
type TokenStatus string

// Token statuses.
const (
	TokenActive      TokenStatus = "active"
	TokenDeactivated TokenStatus = "deactivated"
	TokenDeleted     TokenStatus = "deleted"
)

// UserToken describes a user token (never its secret).
type UserToken struct {
	ID           string         `json:"id"`
	TenantID     string         `json:"tenant_id"`
	UserID       string         `json:"user_id"`
	Name         string         `json:"name"`
	Permissions  permission.Set `json:"permissions"`
	Status       TokenStatus    `json:"status"`
	Generation   uint64         `json:"generation"`
	ExpiresAt    time.Time      `json:"expires_at,omitzero"`
	AllowedCIDRs []string       `json:"allowed_cidrs,omitempty"`
	CreatedBy    string         `json:"created_by,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	RotatedAt    time.Time      `json:"rotated_at,omitzero"`
}

// RotatedToken is a rotated user token and its new credential, which the
// server shows this once. The old credential, and every access and refresh
// token obtained with it, no longer works.
type RotatedToken struct {
	Token      UserToken
	Credential Secret
}

// Severity of an audit event.
type Severity string

// Severities.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityHigh    Severity = "high"
)

// AuditEvent is one entry of the tenant's audit log.
type AuditEvent struct {
	TenantID   string            `json:"tenant_id"`
	ID         string            `json:"id"`
	Time       time.Time         `json:"time"`
	Type       string            `json:"type"`
	Severity   Severity          `json:"severity"`
	Actor      string            `json:"actor,omitempty"`
	TokenID    string            `json:"token_id,omitempty"`
	ClientAddr string            `json:"client_addr,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
}

// AuditQuery filters ListAudit. Zero fields match everything.
type AuditQuery struct {
	Type    string
	TokenID string
	From    time.Time // inclusive
	To      time.Time // exclusive
}

// ReviewOptions tune Review, in whole days. Zero fields take the server's
// defaults (30 days stale, a 90-day window, 30 days expiring).
type ReviewOptions struct {
	// StaleDays: a token unused for longer is stale.
	StaleDays int
	// WindowDays is the period whose use decides which permissions a
	// token needs.
	WindowDays int
	// ExpiringDays: tokens expiring within it are reported.
	ExpiringDays int
}

// Finding is one thing a review reports about a token. Findings other
// than these may appear in later versions of the API.
type Finding string

// Findings.
const (
	FindingNeverUsed         Finding = "never_used"
	FindingStale             Finding = "stale"
	FindingUnusedPermissions Finding = "unused_permissions"
	FindingNoExpiry          Finding = "no_expiry"
	FindingExpiringSoon      Finding = "expiring_soon"
	FindingExpired           Finding = "expired"
	FindingRotationDue       Finding = "rotation_due"
)

// TokenReview is one token in a Review.
type TokenReview struct {
	Token UserToken `json:"token"`
	// LastUsedAt and LastUsedAddr describe the token's latest use; zero
	// if it was never used.
	LastUsedAt   time.Time `json:"last_used_at,omitzero"`
	LastUsedAddr string    `json:"last_used_addr,omitempty"`
	// ObservedSince is the start of the evidence: the window's start, or
	// the token's creation if later.
	ObservedSince time.Time `json:"observed_since"`
	// Requests within the window, in all and per UTC day ("2006-01-02").
	Requests      int64            `json:"requests"`
	DailyRequests map[string]int64 `json:"daily_requests,omitempty"`
	// PermissionLastUsed is when the token last exercised each permission
	// (by code) it ever exercised.
	PermissionLastUsed map[string]time.Time `json:"permission_last_used,omitempty"`
	// SuggestedPermissions would have served every request of the window;
	// UnusedPermissions are the rest of what the token holds.
	SuggestedPermissions permission.Set `json:"suggested_permissions"`
	UnusedPermissions    permission.Set `json:"unused_permissions"`
	Findings             []Finding      `json:"findings"`
}

// Has reports whether the review found f about the token.
func (t TokenReview) Has(f Finding) bool {
	for _, g := range t.Findings {
		if g == f {
			return true
		}
	}
	return false
}

// Review is the least-privilege review of the tenant's user tokens.
type Review struct {
	TenantID    string    `json:"tenant_id"`
	GeneratedAt time.Time `json:"generated_at"`
	// The cut-offs the findings were judged by; RotateBefore is zero when
	// the tenant has no rotation policy.
	WindowStart    time.Time     `json:"window_start"`
	StaleBefore    time.Time     `json:"stale_before"`
	ExpiringBefore time.Time     `json:"expiring_before"`
	RotateBefore   time.Time     `json:"rotate_before,omitzero"`
	Tokens         []TokenReview `json:"tokens"`
}

// With returns the tokens the review found f about.
func (r Review) With(f Finding) []TokenReview {
	var out []TokenReview
	for _, t := range r.Tokens {
		if t.Has(f) {
			out = append(out, t)
		}
	}
	return out
}

// Introspection is the RFC 7662 answer about a token. An inactive (or
// unknown, or another tenant's) token has only Active false.
type Introspection struct {
	Active    bool
	Scope     permission.Set
	ClientID  string // the user token's UUID
	Subject   string // the owning user
	TokenType string // "access_token" or "refresh_token"
	ExpiresAt time.Time
	TenantID  string
}

// ValidationCode is the outcome of a license validation. Codes other than
// these may appear in later versions of the API; only CodeValid is valid.
type ValidationCode string

// Validation codes.
const (
	CodeValid           ValidationCode = "VALID"
	CodeNotFound        ValidationCode = "NOT_FOUND"
	CodeExpired         ValidationCode = "EXPIRED"
	CodeSuspended       ValidationCode = "SUSPENDED"
	CodeRevoked         ValidationCode = "REVOKED"
	CodeProductMismatch ValidationCode = "PRODUCT_MISMATCH"
	CodePlanMismatch    ValidationCode = "PLAN_MISMATCH"
)

// Validation answers ValidateLicense. License is set whenever the key was
// found, whatever the code.
type Validation struct {
	Valid   bool           `json:"valid"`
	Code    ValidationCode `json:"code"`
	License *PublicLicense `json:"license,omitempty"`
}

// PublicLicense is what an application may learn of its own license from
// its key.
type PublicLicense struct {
	ID         string            `json:"id"`
	ProductID  string            `json:"product_id"`
	PlanID     string            `json:"plan_id,omitempty"`
	CustomerID string            `json:"customer_id"`
	Status     LicenseStatus     `json:"status"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// ValidateOptions narrows what a key must be valid for. Zero fields accept
// anything.
type ValidateOptions struct {
	ProductID string
	PlanID    string
	// AllowInsecureHTTP lets the package-level ValidateLicense send the key
	// over plain HTTP to a host that is not loopback. (*Client).ValidateLicense
	// ignores it and follows its Config.)
	AllowInsecureHTTP bool
}

// Shape checks of decoded records: an API record always has an ID.

var errNoID = errors.New("record without id")

func (x *User) validate() error     { return needID(x.ID) }
func (x *Group) validate() error    { return needID(x.ID) }
func (x *Product) validate() error  { return needID(x.ID) }
func (x *Plan) validate() error     { return needID(x.ID) }
func (x *Customer) validate() error { return needID(x.ID) }
func (x *License) validate() error  { return needID(x.ID) }
func (x *UserToken) validate() error {
	return needID(x.ID)
}
func (x *AuditEvent) validate() error { return needID(x.ID) }

func (x *Review) validate() error {
	if x.TenantID == "" {
		return errors.New("review without tenant_id")
	}
	for i := range x.Tokens {
		if err := x.Tokens[i].Token.validate(); err != nil {
			return fmt.Errorf("token %d: %w", i, err)
		}
	}
	return nil
}

func (x *Validation) validate() error {
	switch {
	case x.Code == "":
		return errors.New("validation without code")
	case x.Valid != (x.Code == CodeValid):
		return errors.New("validation whose valid and code disagree")
	case x.License != nil && x.License.ID == "":
		return errors.New("validation license without id")
	}
	return nil
}

func needID(id string) error {
	if id == "" {
		return errNoID
	}
	return nil
}
