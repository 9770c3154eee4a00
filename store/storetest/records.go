package storetest

import (
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// Tenant IDs the cases use.
const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"
	tenantC = "tenant-c"
)

// base is the suite's clock: microsecond precision, UTC, as the contract
// keeps times.
var base = time.Date(2025, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// at is a time derived from a variant v and an offset n.
func at(v, n int) time.Time {
	return base.Add(time.Duration(v)*24*time.Hour + time.Duration(n)*time.Minute)
}

// digest is a 32-byte digest of its arguments.
func digest(parts ...any) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "%q", parts))
	return h[:]
}

// short is a short hex hash of s, for attributes derived from IDs that must
// stay short whatever the ID.
func short(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return fmt.Sprintf("%016x", h.Sum64())
}

// Record builders. Each takes an ID and a variant v: odd variants set every
// field, even variants leave every optional field zero, and two variants
// differ in every field. TenantID is left empty (the store fills it in).

func newTenant(id string, v int) tenant.Tenant {
	tn := tenant.Tenant{
		ID:   id,
		Name: fmt.Sprintf("Tenant %s v%d", id, v),
		License: tenant.License{
			Plan:      fmt.Sprintf("plan-%d", v),
			Status:    tenant.StatusActive,
			ExpiresAt: at(v, 60),
			Limits: tenant.Limits{
				APIRequests:      int64(1000 * v),
				APIWindow:        time.Duration(v) * time.Minute,
				APIBurst:         int64(50 * v),
				Validations:      int64(500 * v),
				ValidationWindow: time.Duration(v) * time.Second,
				ValidationBurst:  int64(20 * v),
				MaxUsers:         int64(10 * v),
				MaxLicenses:      int64(100 * v),
			},
		},
		Policy: tenant.Policy{
			MaxTokenLifetime:      time.Duration(v) * 24 * time.Hour,
			MaxTokenAge:           time.Duration(v) * 90 * time.Hour,
			DeactivateUnusedAfter: time.Duration(v) * 30 * time.Hour,
		},
		CreatedAt: at(v, 0),
		UpdatedAt: at(v, 1),
	}
	if v%2 == 0 {
		tn.License = tenant.License{Plan: fmt.Sprintf("plan-%d", v), Status: tenant.StatusSuspended}
		tn.Policy = tenant.Policy{}
	}
	return tn
}

func newUser(id string, v int) store.User {
	u := store.User{
		ID:           id,
		Email:        fmt.Sprintf("user-%s.v%d@example.com", short(id), v),
		Name:         fmt.Sprintf("User %d", v),
		Role:         store.RoleAdmin,
		Status:       store.UserActive,
		PasswordHash: fmt.Sprintf("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$%s%d", short(id), v),
		SessionEpoch: uint64(5 * v),
		CreatedAt:    at(v, 0),
		UpdatedAt:    at(v, 1),
	}
	if v%2 == 0 {
		u.Role = store.RoleMember
		u.Status = store.UserDeactivated
		u.PasswordHash = ""
	}
	return u
}

func newGroup(id string, v int) store.Group {
	g := store.Group{
		ID:          id,
		Name:        fmt.Sprintf("Group %d", v),
		Description: fmt.Sprintf("the group, variant %d", v),
		CreatedAt:   at(v, 0),
		UpdatedAt:   at(v, 1),
	}
	if v%2 == 0 {
		g.Description = ""
	}
	return g
}

func newProduct(id string, v int) store.Product {
	p := store.Product{
		ID:          id,
		Name:        fmt.Sprintf("Product %d", v),
		Description: fmt.Sprintf("the product, variant %d", v),
		CreatedAt:   at(v, 0),
		UpdatedAt:   at(v, 1),
	}
	if v%2 == 0 {
		p.Description = ""
	}
	return p
}

func newPlan(id string, v int) store.Plan {
	p := store.Plan{
		ID:        id,
		ProductID: fmt.Sprintf("product-%d", v),
		Name:      fmt.Sprintf("Plan %d", v),
		Entitlements: map[string]string{
			"seats":                     fmt.Sprint(5 * v),
			fmt.Sprintf("feature%d", v): "on",
		},
		CreatedAt: at(v, 0),
		UpdatedAt: at(v, 1),
	}
	if v%2 == 0 {
		p.Entitlements = nil
	}
	return p
}

func newCustomer(id string, v int) store.Customer {
	c := store.Customer{
		ID:        id,
		Name:      fmt.Sprintf("Customer %d", v),
		Email:     fmt.Sprintf("customer-%d@example.org", v),
		CreatedAt: at(v, 0),
		UpdatedAt: at(v, 1),
	}
	if v%2 == 0 {
		c.Email = ""
	}
	return c
}

// newLicense's key digest depends on the ID and the variant, so the same
// ID in two tenants needs two variants.
func newLicense(id string, v int) store.License {
	l := store.License{
		ID:         id,
		CustomerID: fmt.Sprintf("customer-%d", v),
		ProductID:  fmt.Sprintf("product-%d", v),
		PlanID:     fmt.Sprintf("plan-%d", v),
		Status:     store.LicenseActive,
		KeyDigest:  digest("license", id, v),
		KeyID:      fmt.Sprintf("key-%d", v),
		KeyHint:    fmt.Sprintf("X%03d", v),
		ExpiresAt:  at(v, 365*24*60),
		Attributes: map[string]string{
			"machine":                fmt.Sprintf("m-%d", v),
			fmt.Sprintf("attr%d", v): "x",
		},
		CreatedAt: at(v, 0),
		UpdatedAt: at(v, 1),
	}
	if v%2 == 0 {
		l.Status = store.LicenseSuspended
		l.PlanID = ""
		l.KeyHint = ""
		l.ExpiresAt = time.Time{}
		l.Attributes = nil
	}
	return l
}

func newToken(id string, v int) store.UserToken {
	tk := store.UserToken{
		ID:           id,
		UserID:       fmt.Sprintf("user-%d", v),
		Name:         fmt.Sprintf("token %d", v),
		Permissions:  permission.NewSet(permission.ViewUsers, permission.EditLicenses, permission.ViewAudit),
		Status:       store.TokenActive,
		SecretDigest: digest("token", id, v),
		KeyID:        fmt.Sprintf("key-%d", v),
		Generation:   uint64(7 * v),
		ExpiresAt:    at(v, 90*24*60),
		AllowedCIDRs: []string{"10.0.0.0/8", fmt.Sprintf("2001:db8:%x::/48", v)},
		CreatedBy:    fmt.Sprintf("admin-%d", v),
		CreatedAt:    at(v, 0),
		UpdatedAt:    at(v, 1),
		RotatedAt:    at(v, 2),
	}
	if v%2 == 0 {
		tk.Permissions = permission.NewSet(permission.ViewProducts)
		tk.Status = store.TokenDeactivated
		tk.ExpiresAt = time.Time{}
		tk.AllowedCIDRs = nil
		tk.CreatedBy = ""
		tk.RotatedAt = time.Time{}
	}
	return tk
}

func newFamily(id string, v int) store.RefreshFamily {
	f := store.RefreshFamily{
		ID:              id,
		UserTokenID:     fmt.Sprintf("token-%d", v),
		TokenGeneration: uint64(3 * v),
		Permissions:     permission.NewSet(permission.ViewLicenses, permission.ViewProducts),
		Status:          store.FamilyRevoked,
		Seq:             uint64(11 * v),
		SecretDigest:    digest("family", id, v),
		KeyID:           fmt.Sprintf("key-%d", v),
		CreatedAt:       at(v, 0),
		RefreshedAt:     at(v, 5),
		IdleExpiresAt:   at(v, 60),
		ExpiresAt:       at(v, 600),
		RevokedAt:       at(v, 30),
		RevokeReason:    fmt.Sprintf("reuse %d", v),
	}
	if v%7 == 1 {
		f.UsedDigests = [][]byte{digest("used", id, v), digest("used2", id, v)}
	}
	if v%2 == 0 {
		f.Permissions = permission.NewSet(permission.ViewUsers)
		f.Status = store.FamilyActive
		f.RevokedAt = time.Time{}
		f.RevokeReason = ""
	}
	return f
}

func newSession(id string, v int) store.ConsoleSession {
	cs := store.ConsoleSession{
		ID:            id,
		UserID:        fmt.Sprintf("user-%d", v),
		SecretDigest:  digest("session", id, v),
		KeyID:         fmt.Sprintf("key-%d", v),
		UserStamp:     digest("stamp", id, v),
		Status:        store.SessionEnded,
		ClientAddr:    fmt.Sprintf("192.0.2.%d", v%250),
		CreatedAt:     at(v, 0),
		LastSeenAt:    at(v, 3),
		IdleExpiresAt: at(v, 33),
		ExpiresAt:     at(v, 720),
		EndedAt:       at(v, 7),
		EndReason:     fmt.Sprintf("signed out %d", v),
	}
	if v%2 == 0 {
		cs.Status = store.SessionActive
		cs.EndedAt = time.Time{}
		cs.EndReason = ""
		cs.ClientAddr = ""
	}
	return cs
}

func newEvent(id string, v int) store.AuditEvent {
	ev := store.AuditEvent{
		ID:         id,
		Time:       at(v, 0),
		Type:       fmt.Sprintf("type.%d", v),
		Severity:   store.SeverityHigh,
		Actor:      fmt.Sprintf("actor-%d", v),
		TokenID:    fmt.Sprintf("token-%d", v),
		ClientAddr: fmt.Sprintf("192.0.2.%d", v%250),
		Reason:     fmt.Sprintf("reason-%d", v),
		Details:    map[string]string{"k": fmt.Sprint(v), fmt.Sprintf("d%d", v): "y"},
	}
	if v%2 == 0 {
		ev.Severity = store.SeverityInfo
		ev.Actor, ev.TokenID, ev.ClientAddr, ev.Reason = "", "", "", ""
		ev.Details = nil
	}
	return ev
}

func newUsage(tokenID string, v int) store.UsageRecord {
	u := store.UsageRecord{
		TokenID:      tokenID,
		LastUsedAt:   at(v, 0),
		LastUsedAddr: fmt.Sprintf("198.51.100.%d", v%250),
		Daily: map[string]int64{
			at(v, 0).Format(time.DateOnly):      int64(v),
			at(v, -24*60).Format(time.DateOnly): int64(10 * v),
		},
		PermissionLastUsed: map[string]time.Time{
			"users:view":    at(v, -5),
			"licenses:edit": at(v, -9),
		},
	}
	if v%2 == 0 {
		u.LastUsedAt = time.Time{}
		u.LastUsedAddr = ""
		u.Daily = nil
		u.PermissionLastUsed = nil
	}
	return u
}

func newLimiterState(v int) tenant.LimiterState {
	if v%2 == 0 {
		return tenant.LimiterState{}
	}
	return tenant.LimiterState{TAT: at(v, 3)}
}
