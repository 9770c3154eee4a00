package engine

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
)

// UserToken describes a user token. It never holds the secret or its
// digest.
type UserToken struct {
	ID           string            `json:"id"`
	TenantID     string            `json:"tenant_id"`
	UserID       string            `json:"user_id"`
	Name         string            `json:"name"`
	Permissions  permission.Set    `json:"permissions"`
	Status       store.TokenStatus `json:"status"`
	Generation   uint64            `json:"generation"`
	ExpiresAt    time.Time         `json:"expires_at,omitzero"`
	AllowedCIDRs []string          `json:"allowed_cidrs,omitempty"`
	CreatedBy    string            `json:"created_by,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	RotatedAt    time.Time         `json:"rotated_at,omitzero"`
}

func tokenView(r store.UserToken) UserToken {
	return UserToken{
		ID: r.ID, TenantID: r.TenantID, UserID: r.UserID, Name: r.Name, Permissions: r.Permissions,
		Status: r.Status, Generation: r.Generation, ExpiresAt: r.ExpiresAt, AllowedCIDRs: r.AllowedCIDRs,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, RotatedAt: r.RotatedAt,
	}
}

// NewUserToken describes a user token to create.
type NewUserToken struct {
	// UserID is the owning user; it must be an active user of the tenant.
	UserID string
	// Name says what the token is for ("billing sync").
	Name string
	// Permissions assigned directly to the token: grant the fewest that
	// serve (start from a preset of package permission).
	Permissions permission.Set
	// ExpiresAt, when set, ends the token. Required when the tenant's
	// policy caps token lifetime.
	ExpiresAt time.Time
	// AllowedCIDRs, when set, restricts where the token may be used from.
	AllowedCIDRs []string
}

// CreatedUserToken is a new (or rotated) user token and its credential,
// which is shown this once and never again.
type CreatedUserToken struct {
	Token      UserToken
	Credential Secret
}

// CreateUserToken creates a user token (tenant admins and the system only:
// no token can create a token). The credential is returned once.
func (e *Engine) CreateUserToken(ctx context.Context, actor Actor, tenantID string, in NewUserToken) (CreatedUserToken, error) {
	if err := e.authorize(ctx, actor, tenantID, OpCreateUserToken); err != nil {
		return CreatedUserToken{}, err
	}
	if err := checkName("token name", in.Name, 200); err != nil {
		return CreatedUserToken{}, err
	}
	cidrs, err := normalizeCIDRs(in.AllowedCIDRs)
	if err != nil {
		return CreatedUserToken{}, err
	}
	now := e.clock()
	if err := checkExpiry("token expiry", in.ExpiresAt); err != nil {
		return CreatedUserToken{}, err
	}
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(now) {
		return CreatedUserToken{}, invalidInput("token expiry is in the past")
	}
	id := uuid.New()
	cred, credential := newUserTokenCredential(id)
	ks := e.keys.current
	rec := store.UserToken{
		TenantID: tenantID, ID: id.String(), UserID: in.UserID, Name: in.Name,
		Permissions: in.Permissions, Status: store.TokenActive,
		SecretDigest: cred.digest(ks), KeyID: ks.id, Generation: 1,
		AllowedCIDRs: cidrs, CreatedBy: actorName(actor), CreatedAt: now, UpdatedAt: now,
	}
	if !in.ExpiresAt.IsZero() {
		rec.ExpiresAt = clockFrom(in.ExpiresAt)
	}
	ev := Event{
		TenantID: tenantID, Type: EventTokenCreated, Actor: actorName(actor), TokenID: rec.ID,
		Details: map[string]string{"permissions": in.Permissions.String(), "user": in.UserID},
	}
	err = e.update(ctx, func(tx store.Tx) error {
		t, err := tx.Tenants().Get(ctx, tenantID)
		if err != nil {
			return err
		}
		if max := t.Policy.MaxTokenLifetime; max > 0 && (rec.ExpiresAt.IsZero() || rec.ExpiresAt.Sub(now) > max) {
			return invalidInput("the tenant's policy limits token lifetime to %s: set an expiry within it", max)
		}
		owner, err := tx.Tenant(tenantID).Users().Get(ctx, in.UserID)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
			return invalidInput("owner %q is not a user of the tenant", in.UserID)
		}
		if err != nil {
			return err
		}
		if owner.Status != store.UserActive {
			return invalidInput("owner %q is deactivated", in.UserID)
		}
		if err := tx.Tenant(tenantID).UserTokens().Create(ctx, rec); err != nil {
			return err
		}
		return e.audit.record(ctx, tx, &ev)
	})
	if err != nil {
		return CreatedUserToken{}, err
	}
	e.audit.published(ev)
	return CreatedUserToken{Token: tokenView(rec), Credential: NewSecret(credential)}, nil
}

func normalizeCIDRs(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > 64 {
		return nil, invalidInput("at most 64 CIDRs")
	}
	out := make([]string, 0, len(in))
	for _, c := range in {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			// The parser's own message quotes its internals; say what a
			// CIDR looks like instead.
			return nil, invalidInput("%q is not a CIDR (an address and a prefix length, such as 203.0.113.0/24 or 2001:db8::/48)", c)
		}
		out = append(out, p.Masked().String())
	}
	return out, nil
}

// GetUserToken returns a user token's description.
func (e *Engine) GetUserToken(ctx context.Context, actor Actor, tenantID, id string) (UserToken, error) {
	if err := e.authorize(ctx, actor, tenantID, OpGetUserToken); err != nil {
		return UserToken{}, err
	}
	var rec store.UserToken
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Tenant(tenantID).UserTokens().Get(ctx, id)
		return err
	})
	if err != nil {
		return UserToken{}, notFound(err)
	}
	if rec.Status == store.TokenDeleted {
		return UserToken{}, ErrNotFound
	}
	return tokenView(rec), nil
}

// ListUserTokens pages through the tenant's user tokens, deleted ones
// excluded.
func (e *Engine) ListUserTokens(ctx context.Context, actor Actor, tenantID string, page store.Page) ([]UserToken, string, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListUserTokens); err != nil {
		return nil, "", err
	}
	var (
		recs []store.UserToken
		next string
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		recs, next, err = tx.Tenant(tenantID).UserTokens().List(ctx, page)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]UserToken, 0, len(recs))
	for _, r := range recs {
		if r.Status != store.TokenDeleted {
			out = append(out, tokenView(r))
		}
	}
	return out, next, nil
}

// RotateUserToken gives a user token a new secret (the response to a
// leaked token). At once, in one write however many are outstanding, the
// old secret, every access token and every refresh token derived from the
// token stop working: they carry the token's old generation. The new
// credential is returned once.
func (e *Engine) RotateUserToken(ctx context.Context, actor Actor, tenantID, id string) (CreatedUserToken, error) {
	return e.rotateUserToken(ctx, actor, tenantID, id, nil)
}

// RotateUserTokenFrom is RotateUserToken for a caller that showed the
// token at generation (UserToken.Generation) and asked to rotate that: if
// the token was rotated since, it refuses with ErrStale and rotates
// nothing. A form submitted twice (a reload of the page that showed the
// new credential) thus cannot silently replace the credential just
// handed out.
func (e *Engine) RotateUserTokenFrom(ctx context.Context, actor Actor, tenantID, id string, generation uint64) (CreatedUserToken, error) {
	return e.rotateUserToken(ctx, actor, tenantID, id, &generation)
}

func (e *Engine) rotateUserToken(ctx context.Context, actor Actor, tenantID, id string, from *uint64) (CreatedUserToken, error) {
	if err := e.authorize(ctx, actor, tenantID, OpRotateUserToken); err != nil {
		return CreatedUserToken{}, err
	}
	var credential string
	rec, err := e.changeToken(ctx, actor, tenantID, id, EventTokenRotated, func(r *store.UserToken) error {
		if r.Status == store.TokenDeleted {
			return ErrNotFound
		}
		if from != nil && r.Generation != *from {
			return ErrStale
		}
		// Rotation hands out the token's new credential, so a token may
		// rotate only tokens that hold nothing it does not hold itself:
		// otherwise Edit User Tokens would be a way to gain permissions.
		if p, ok := actor.(*Principal); ok {
			if reason := e.rotationRefusal(ctx, p, r); reason != "" {
				e.denied(p, OpRotateUserToken, reason, r.Permissions.Difference(p.Permissions).String())
				return ErrAccessDenied
			}
		}
		tokenID, err := uuid.Parse(r.ID)
		if err != nil {
			return err
		}
		var cred userTokenCredential
		cred, credential = newUserTokenCredential(tokenID)
		ks := e.keys.current
		r.SecretDigest, r.KeyID = cred.digest(ks), ks.id
		r.Generation++
		r.RotatedAt = e.clock()
		return nil
	})
	if err != nil {
		return CreatedUserToken{}, err
	}
	return CreatedUserToken{Token: tokenView(rec), Credential: NewSecret(credential)}, nil
}

// DeactivateUserToken suspends a user token: it and everything derived
// from it are refused until an admin reactivates it.
func (e *Engine) DeactivateUserToken(ctx context.Context, actor Actor, tenantID, id string) (UserToken, error) {
	if err := e.authorize(ctx, actor, tenantID, OpDeactivateUserToken); err != nil {
		return UserToken{}, err
	}
	rec, err := e.changeToken(ctx, actor, tenantID, id, EventTokenDeactivated, setTokenStatus(store.TokenDeactivated))
	return tokenView(rec), err
}

// ReactivateUserToken lifts a deactivation (admins and the system only).
func (e *Engine) ReactivateUserToken(ctx context.Context, actor Actor, tenantID, id string) (UserToken, error) {
	if err := e.authorize(ctx, actor, tenantID, OpReactivateUserToken); err != nil {
		return UserToken{}, err
	}
	rec, err := e.changeToken(ctx, actor, tenantID, id, EventTokenReactivated, setTokenStatus(store.TokenActive))
	return tokenView(rec), err
}

// DeleteUserToken ends a user token for good. Its record stays, marked
// deleted and without its digest, so nothing derived from it can return.
func (e *Engine) DeleteUserToken(ctx context.Context, actor Actor, tenantID, id string) error {
	if err := e.authorize(ctx, actor, tenantID, OpDeleteUserToken); err != nil {
		return err
	}
	_, err := e.changeToken(ctx, actor, tenantID, id, EventTokenDeleted, func(r *store.UserToken) error {
		if r.Status == store.TokenDeleted {
			return ErrNotFound
		}
		r.Status, r.SecretDigest = store.TokenDeleted, nil
		r.Generation++
		return nil
	})
	return err
}

// rotationRefusal says why principal p may not rotate target (and so
// receive its credential), or "". The credential it would receive must be
// no more than p's own: no permission p lacks, no expiry later than p's,
// no address p could not use.
func (e *Engine) rotationRefusal(ctx context.Context, p *Principal, target *store.UserToken) string {
	if !target.Permissions.SubsetOf(p.Permissions) {
		return "wider_target"
	}
	own, err := e.token(ctx, p.TokenID, e.now())
	if err != nil {
		return "unknown_actor"
	}
	if !own.expires.IsZero() && (target.ExpiresAt.IsZero() || target.ExpiresAt.After(own.expires)) {
		return "longer_lived_target"
	}
	if len(own.cidrs) > 0 {
		if len(target.AllowedCIDRs) == 0 {
			return "wider_address_range"
		}
		for _, c := range target.AllowedCIDRs {
			t, err := netip.ParsePrefix(c)
			if err != nil || !prefixWithin(t.Masked(), own.cidrs) {
				return "wider_address_range"
			}
		}
	}
	return ""
}

// prefixWithin reports whether p lies inside one of outer.
func prefixWithin(p netip.Prefix, outer []netip.Prefix) bool {
	for _, o := range outer {
		if o.IsValid() && o.Bits() <= p.Bits() && o.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func setTokenStatus(st store.TokenStatus) func(*store.UserToken) error {
	return func(r *store.UserToken) error {
		if r.Status == store.TokenDeleted {
			return ErrNotFound
		}
		r.Status = st
		return nil
	}
}

// SetUserTokenPermissions replaces a token's permissions (admins and the
// system only). Narrowing applies at once to outstanding access tokens;
// widening applies only to tokens exchanged afterwards, because an access
// token is honoured for the intersection of what it was issued with and
// what its user token holds now.
func (e *Engine) SetUserTokenPermissions(ctx context.Context, actor Actor, tenantID, id string, perms permission.Set) (UserToken, error) {
	if err := e.authorize(ctx, actor, tenantID, OpSetUserTokenPermissions); err != nil {
		return UserToken{}, err
	}
	rec, err := e.changeToken(ctx, actor, tenantID, id, EventTokenPermissions, func(r *store.UserToken) error {
		if r.Status == store.TokenDeleted {
			return ErrNotFound
		}
		r.Permissions = perms
		return nil
	})
	return tokenView(rec), err
}

// changeToken applies change to a token in one write, audits it, and
// refreshes the engine's cache so the change holds from the next request.
func (e *Engine) changeToken(ctx context.Context, actor Actor, tenantID, id, evType string, change func(*store.UserToken) error) (store.UserToken, error) {
	ev := Event{TenantID: tenantID, Type: evType, Actor: actorName(actor), TokenID: id}
	return e.changeTokenTx(ctx, ev, func(_ store.Tx, r *store.UserToken) error { return change(r) })
}

// changeTokenTx is changeToken with the event given whole (ev.TenantID and
// ev.TokenID name the token) and a change that may read in the write's
// transaction.
func (e *Engine) changeTokenTx(ctx context.Context, ev Event, change func(store.Tx, *store.UserToken) error) (store.UserToken, error) {
	tenantID, id := ev.TenantID, ev.TokenID
	tokenID, err := uuid.Parse(id)
	if err != nil {
		return store.UserToken{}, ErrNotFound
	}
	var rec store.UserToken
	details := ev.Details
	err = e.update(ctx, func(tx store.Tx) error {
		var err error
		if rec, err = tx.Tenant(tenantID).UserTokens().Get(ctx, id); err != nil {
			return notFound(err)
		}
		before := rec.Permissions
		if err := change(tx, &rec); err != nil {
			return err
		}
		ev.Details = details
		if !before.Equal(rec.Permissions) {
			ev.Details = map[string]string{"before": before.String(), "after": rec.Permissions.String()}
			for k, v := range details {
				ev.Details[k] = v
			}
		}
		rec.UpdatedAt = e.clock()
		if err := tx.Tenant(tenantID).UserTokens().Update(ctx, rec); err != nil {
			return err
		}
		return e.audit.record(ctx, tx, &ev)
	})
	if err != nil {
		return store.UserToken{}, err
	}
	e.invalidateToken(tokenID)
	e.audit.published(ev)
	return rec, nil
}

// notFound maps a malformed ID to not-found: to a caller, an ID that
// cannot exist and one that does not are the same.
func notFound(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return ErrNotFound
	}
	return err
}
