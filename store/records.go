package store

import (
	"time"

	"github.com/licensekit/licensekit/permission"
)

// Role of a user within its tenant.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// UserStatus says whether a user may act.
type UserStatus string

const (
	UserActive      UserStatus = "active"
	UserDeactivated UserStatus = "deactivated"
)

// User is a person of a tenant.
type User struct {
	TenantID string     `json:"tenant_id"`
	ID       string     `json:"id"`
	Email    string     `json:"email"`
	Name     string     `json:"name"`
	Role     Role       `json:"role"`
	Status   UserStatus `json:"status"`
	// PasswordHash is an encoded password hash (argon2id) for the admin
	// console; empty when the user cannot sign in.
	PasswordHash string `json:"password_hash,omitempty"`
	// SessionEpoch counts changes of the user's role, status or email:
	// console sessions remember it, so such a change ends them for good
	// (undoing the change does not bring them back).
	SessionEpoch uint64    `json:"session_epoch,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
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

// Product is something the tenant licenses to its customers.
type Product struct {
	TenantID    string    `json:"tenant_id"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Plan is one way a product is sold (for example "pro"), with free-form
// entitlements.
type Plan struct {
	TenantID     string            `json:"tenant_id"`
	ID           string            `json:"id"`
	ProductID    string            `json:"product_id"`
	Name         string            `json:"name"`
	Entitlements map[string]string `json:"entitlements,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// Customer is who a tenant licenses its products to.
type Customer struct {
	TenantID  string    `json:"tenant_id"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LicenseStatus is the state of a customer's license.
type LicenseStatus string

const (
	LicenseActive    LicenseStatus = "active"
	LicenseSuspended LicenseStatus = "suspended"
	LicenseRevoked   LicenseStatus = "revoked"
)

// License grants a customer a product under a plan. The key itself is never
// stored: only its keyed digest.
type License struct {
	TenantID   string        `json:"tenant_id"`
	ID         string        `json:"id"`
	CustomerID string        `json:"customer_id"`
	ProductID  string        `json:"product_id"`
	PlanID     string        `json:"plan_id,omitempty"`
	Status     LicenseStatus `json:"status"`
	// KeyDigest is the keyed digest of the license key, unique across
	// tenants; KeyID names the digest key that made it.
	KeyDigest []byte `json:"key_digest"`
	KeyID     string `json:"key_id"`
	// KeyHint is a short non-secret suffix of the key for display.
	KeyHint    string            `json:"key_hint,omitempty"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"`
	Attributes map[string]string `json:"attributes,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// TokenStatus is the state of a user token.
type TokenStatus string

const (
	TokenActive      TokenStatus = "active"
	TokenDeactivated TokenStatus = "deactivated"
	// TokenDeleted keeps a deleted token's record so that its ID can never
	// be reused and nothing derived from it can come back.
	TokenDeleted TokenStatus = "deleted"
)

// UserToken is a user token's record. ID is a UUID, unique across tenants.
// The secret is never stored: only its keyed digest.
type UserToken struct {
	TenantID    string         `json:"tenant_id"`
	ID          string         `json:"id"`
	UserID      string         `json:"user_id"`
	Name        string         `json:"name"`
	Permissions permission.Set `json:"permissions"`
	Status      TokenStatus    `json:"status"`
	// SecretDigest is the keyed digest of the current secret; KeyID names
	// the digest key.
	SecretDigest []byte `json:"secret_digest"`
	KeyID        string `json:"key_id"`
	// Generation increases on every rotation; access and refresh tokens
	// carry the generation they were derived from and die when it moves.
	Generation   uint64    `json:"generation"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	AllowedCIDRs []string  `json:"allowed_cidrs,omitempty"`
	CreatedBy    string    `json:"created_by,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	RotatedAt    time.Time `json:"rotated_at,omitzero"`
}

// FamilyStatus is the state of a refresh-token family.
type FamilyStatus string

const (
	FamilyActive  FamilyStatus = "active"
	FamilyRevoked FamilyStatus = "revoked"
)

// RefreshFamily is the chain of refresh tokens issued from one exchange.
// Only the newest refresh token of the chain (sequence Seq) is valid;
// presenting an older one is reuse.
type RefreshFamily struct {
	TenantID    string `json:"tenant_id"`
	ID          string `json:"id"`
	UserTokenID string `json:"user_token_id"`
	// TokenGeneration is the user token's generation at the exchange.
	TokenGeneration uint64 `json:"token_generation"`
	// Permissions is the scope granted at the exchange; refreshes never
	// issue more, even if the user token has gained permissions since.
	Permissions permission.Set `json:"permissions"`
	Status      FamilyStatus   `json:"status"`
	// Seq is the sequence number of the current refresh token; SecretDigest
	// its keyed digest, KeyID the digest key.
	Seq          uint64 `json:"seq"`
	SecretDigest []byte `json:"secret_digest"`
	KeyID        string `json:"key_id"`
	// UsedDigests are the digests of the last refresh tokens of the chain
	// that were already redeemed, newest last: presenting one again is
	// reuse, which only a holder of that token can prove.
	UsedDigests [][]byte  `json:"used_digests,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	RefreshedAt time.Time `json:"refreshed_at"`
	// IdleExpiresAt moves forward on every refresh; ExpiresAt never does.
	IdleExpiresAt time.Time `json:"idle_expires_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	RevokedAt     time.Time `json:"revoked_at,omitzero"`
	RevokeReason  string    `json:"revoke_reason,omitempty"`
}

// SessionStatus says whether a console session may still be used.
type SessionStatus string

const (
	SessionActive SessionStatus = "active"
	SessionEnded  SessionStatus = "ended"
)

// ConsoleSession is a tenant administrator's signed-in session of the
// admin console. The cookie carries its ID and a secret; the store keeps
// only the secret's keyed digest. A session ends by a status change
// (sign-out), by its expiry, or when the user's password, role or status
// changes (the engine checks the user on every use).
type ConsoleSession struct {
	TenantID     string `json:"tenant_id"`
	ID           string `json:"id"`
	UserID       string `json:"user_id"`
	SecretDigest []byte `json:"secret_digest"`
	KeyID        string `json:"key_id"`
	// UserStamp is a keyed digest of the user's password hash at sign-in;
	// a password change makes it differ, which ends the session.
	UserStamp  []byte        `json:"user_stamp"`
	Status     SessionStatus `json:"status"`
	ClientAddr string        `json:"client_addr,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	LastSeenAt time.Time     `json:"last_seen_at"`
	// IdleExpiresAt moves forward as the session is used; ExpiresAt never
	// does.
	IdleExpiresAt time.Time `json:"idle_expires_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	EndedAt       time.Time `json:"ended_at,omitzero"`
	EndReason     string    `json:"end_reason,omitempty"`
}

// Severity of an audit event.
type Severity string

const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityHigh    Severity = "high"
)

// AuditEvent is one entry of a tenant's audit log. It never holds a secret.
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

// AuditQuery filters an audit listing. Zero fields match everything.
type AuditQuery struct {
	From    time.Time // inclusive
	To      time.Time // exclusive
	Type    string
	TokenID string
}

// Match reports whether ev passes the filter. Backends that cannot filter
// natively use it, so that every backend filters alike.
func (q AuditQuery) Match(ev AuditEvent) bool {
	if !q.From.IsZero() && ev.Time.Before(q.From) {
		return false
	}
	if !q.To.IsZero() && !ev.Time.Before(q.To) {
		return false
	}
	if q.Type != "" && ev.Type != q.Type {
		return false
	}
	if q.TokenID != "" && ev.TokenID != q.TokenID {
		return false
	}
	return true
}

// UsageRecord is what a user token did, for the least-privilege review.
type UsageRecord struct {
	TenantID     string    `json:"tenant_id"`
	TokenID      string    `json:"token_id"`
	LastUsedAt   time.Time `json:"last_used_at,omitzero"`
	LastUsedAddr string    `json:"last_used_addr,omitempty"`
	// Daily counts requests per UTC day ("2006-01-02").
	Daily map[string]int64 `json:"daily,omitempty"`
	// PermissionLastUsed maps a permission code to when the token last
	// exercised it.
	PermissionLastUsed map[string]time.Time `json:"permission_last_used,omitempty"`
}
