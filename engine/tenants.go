package engine

import (
	"context"
	"strings"
	"time"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// NewTenant describes a tenant to create.
type NewTenant struct {
	// ID is the tenant's permanent identifier: 1 to 64 characters of
	// lowercase letters, digits, '-' and '_'.
	ID      string
	Name    string
	License tenant.License
	Policy  tenant.Policy
}

func checkTenantID(id string) error {
	if len(id) == 0 || len(id) > maxTenantIDLen {
		return invalidInput("tenant id must be 1 to %d characters", maxTenantIDLen)
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return invalidInput("tenant id %q: only lowercase letters, digits, '-' and '_'", id)
		}
	}
	return nil
}

// checkExpiry refuses an expiry the store cannot keep: every backend
// encodes times as RFC 3339, which has four-digit years, and one before
// 1970 is a mistake rather than a policy. The zero time (no expiry)
// passes.
func checkExpiry(what string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return invalidInput("%s: year %d is outside 1970..9999", what, y)
	}
	return nil
}

func checkName(what, name string, max int) error {
	if strings.TrimSpace(name) == "" {
		return invalidInput("%s is required", what)
	}
	if len(name) > max {
		return invalidInput("%s is longer than %d bytes", what, max)
	}
	if store.CheckID(name) != nil {
		return invalidInput("%s contains control characters or invalid UTF-8", what)
	}
	if strings.ContainsFunc(name, spoofing) {
		return invalidInput("%s contains a direction override or an invisible character", what)
	}
	return nil
}

// spoofing reports the format characters that make a name read as
// something it is not where administrators see it: bidirectional
// overrides, embeddings and isolates (U+202A..U+202E, U+2066..U+2069),
// the marks U+200E, U+200F and U+061C, and the invisible U+200B,
// U+2060 and U+FEFF. The joiners of emoji sequences (U+200C, U+200D)
// are allowed.
func spoofing(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	switch r {
	case 0x200B, 0x200E, 0x200F, 0x061C, 0x2060, 0xFEFF:
		return true
	}
	return false
}

// actorName identifies actor in audit events.
func actorName(actor Actor) string {
	switch a := actor.(type) {
	case systemActor:
		return "system"
	case Admin:
		return "admin:" + a.UserID
	case *Principal:
		return "token:" + a.TokenID.String()
	}
	return ""
}

// CreateTenant creates a tenant with its platform license (system only).
func (e *Engine) CreateTenant(ctx context.Context, actor Actor, in NewTenant) (tenant.Tenant, error) {
	if err := e.authorize(ctx, actor, in.ID, OpCreateTenant); err != nil {
		return tenant.Tenant{}, err
	}
	if err := checkTenantID(in.ID); err != nil {
		return tenant.Tenant{}, err
	}
	if err := checkName("tenant name", in.Name, 200); err != nil {
		return tenant.Tenant{}, err
	}
	if err := in.License.Validate(); err != nil {
		return tenant.Tenant{}, invalidInput("platform license: %v", err)
	}
	if err := checkExpiry("platform license expiry", in.License.ExpiresAt); err != nil {
		return tenant.Tenant{}, err
	}
	now := e.clock()
	t := tenant.Tenant{ID: in.ID, Name: in.Name, License: in.License, Policy: in.Policy, CreatedAt: now, UpdatedAt: now}
	if !t.License.ExpiresAt.IsZero() {
		t.License.ExpiresAt = clockFrom(t.License.ExpiresAt)
	}
	ev := Event{TenantID: t.ID, Type: EventTenantCreated, Actor: actorName(actor)}
	err := e.update(ctx, func(tx store.Tx) error {
		if err := tx.Tenants().Create(ctx, t); err != nil {
			return err
		}
		return e.audit.record(ctx, tx, &ev)
	})
	if err != nil {
		return tenant.Tenant{}, err
	}
	e.audit.published(ev)
	return t, nil
}

// GetTenant returns a tenant (its admins, or the system).
func (e *Engine) GetTenant(ctx context.Context, actor Actor, id string) (tenant.Tenant, error) {
	if err := e.authorize(ctx, actor, id, OpGetTenant); err != nil {
		return tenant.Tenant{}, err
	}
	var t tenant.Tenant
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		t, err = tx.Tenants().Get(ctx, id)
		return err
	})
	return t, err
}

// ListTenants pages through all tenants (system only).
func (e *Engine) ListTenants(ctx context.Context, actor Actor, page store.Page) ([]tenant.Tenant, string, error) {
	if err := e.authorize(ctx, actor, "", OpListTenants); err != nil {
		return nil, "", err
	}
	var (
		out  []tenant.Tenant
		next string
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, next, err = tx.Tenants().List(ctx, page)
		return err
	})
	return out, next, err
}

// SetTenantLicense replaces a tenant's platform license: renew it, change
// its limits, suspend or reinstate it (system only). It takes effect on
// the tenant's next request; quota already consumed stays consumed.
func (e *Engine) SetTenantLicense(ctx context.Context, actor Actor, id string, lic tenant.License) (tenant.Tenant, error) {
	if err := e.authorize(ctx, actor, id, OpSetTenantLicense); err != nil {
		return tenant.Tenant{}, err
	}
	if err := lic.Validate(); err != nil {
		return tenant.Tenant{}, invalidInput("platform license: %v", err)
	}
	if err := checkExpiry("platform license expiry", lic.ExpiresAt); err != nil {
		return tenant.Tenant{}, err
	}
	if !lic.ExpiresAt.IsZero() {
		lic.ExpiresAt = clockFrom(lic.ExpiresAt)
	}
	return e.changeTenant(ctx, actor, id, func(t *tenant.Tenant) { t.License = lic })
}

// SuspendTenant suspends a tenant's platform license (system only): every
// request of the tenant is refused with ErrInvalidLicense until
// SetTenantLicense reinstates it.
func (e *Engine) SuspendTenant(ctx context.Context, actor Actor, id string) (tenant.Tenant, error) {
	if err := e.authorize(ctx, actor, id, OpSuspendTenant); err != nil {
		return tenant.Tenant{}, err
	}
	return e.changeTenant(ctx, actor, id, func(t *tenant.Tenant) { t.License.Status = tenant.StatusSuspended })
}

// SetTenantPolicy sets a tenant's governance policy (its admins or the
// system).
func (e *Engine) SetTenantPolicy(ctx context.Context, actor Actor, id string, p tenant.Policy) (tenant.Tenant, error) {
	if err := e.authorize(ctx, actor, id, OpSetTenantPolicy); err != nil {
		return tenant.Tenant{}, err
	}
	if p.MaxTokenLifetime < 0 || p.MaxTokenAge < 0 || p.DeactivateUnusedAfter < 0 {
		return tenant.Tenant{}, invalidInput("policy durations must not be negative")
	}
	return e.changeTenant(ctx, actor, id, func(t *tenant.Tenant) { t.Policy = p })
}

func (e *Engine) changeTenant(ctx context.Context, actor Actor, id string, change func(*tenant.Tenant)) (tenant.Tenant, error) {
	var t tenant.Tenant
	ev := Event{TenantID: id, Type: EventTenantUpdated, Actor: actorName(actor)}
	err := e.update(ctx, func(tx store.Tx) error {
		var err error
		if t, err = tx.Tenants().Get(ctx, id); err != nil {
			return err
		}
		change(&t)
		t.UpdatedAt = e.clock()
		if err := tx.Tenants().Update(ctx, t); err != nil {
			return err
		}
		return e.audit.record(ctx, tx, &ev)
	})
	if err != nil {
		return tenant.Tenant{}, err
	}
	e.audit.published(ev)
	// The change is committed: it must reach the cache even if the caller
	// has gone. Should the reload still fail, the state is marked stale and
	// the tenant's next request reloads it.
	if _, err := e.reloadTenant(context.WithoutCancel(ctx), id); err != nil {
		e.markTenantStale(id)
		return t, err
	}
	return t, nil
}
