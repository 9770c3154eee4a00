package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// --- users -----------------------------------------------------------------

type users struct {
	collection[store.User]
}

func (s *scope) Users() store.Users {
	u := users{collection[store.User]{
		s: s, kind: kindUser,
		idOf:   func(r *store.User) string { return r.ID },
		tenant: func(r *store.User) *string { return &r.TenantID },
	}}
	u.index = u.reindex
	return u
}

func (u users) reindex(old, rec *store.User) error {
	s := u.s
	if rec != nil && rec.Email != "" && (old == nil || old.Email != rec.Email) {
		if err := checkIDs(rec.Email); err != nil {
			return err
		}
		k := key(pfxEmail, s.tenantID, rec.Email)
		taken, err := s.exists(k)
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("%w: email of user %q", store.ErrAlreadyExists, rec.ID)
		}
		if err := s.txn.Set(k, []byte(rec.ID)); err != nil {
			return err
		}
	}
	if old != nil && old.Email != "" && (rec == nil || old.Email != rec.Email) {
		if err := s.txn.Delete(key(pfxEmail, s.tenantID, old.Email)); err != nil {
			return err
		}
	}
	if rec == nil {
		// A deleted user leaves no memberships behind.
		groups, err := s.groupsOf(old.ID)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if err := s.deleteMembership(g, old.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (u users) GetByEmail(ctx context.Context, email string) (store.User, error) {
	if err := u.s.check(ctx); err != nil {
		return store.User{}, err
	}
	if err := checkIDs(u.s.tenantID, email); err != nil {
		return store.User{}, err
	}
	id, err := u.s.txn.Get(key(pfxEmail, u.s.tenantID, email))
	if err != nil {
		return store.User{}, fmt.Errorf("%w: user with that email", err)
	}
	return u.Get(ctx, string(id))
}

// --- groups ----------------------------------------------------------------

type groups struct {
	collection[store.Group]
}

func (s *scope) Groups() store.Groups {
	g := groups{collection[store.Group]{
		s: s, kind: kindGroup,
		idOf:   func(r *store.Group) string { return r.ID },
		tenant: func(r *store.Group) *string { return &r.TenantID },
	}}
	g.index = func(old, rec *store.Group) error {
		if rec != nil {
			return nil
		}
		members, err := s.allIDs(dirKey(pfxMember, s.tenantID, old.ID))
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := s.deleteMembership(old.ID, m); err != nil {
				return err
			}
		}
		return nil
	}
	return g
}

func (g groups) AddMember(ctx context.Context, groupID, userID string) error {
	if _, err := g.Get(ctx, groupID); err != nil {
		return err
	}
	if err := checkIDs(userID); err != nil {
		return err
	}
	s := g.s
	if err := s.txn.Set(key(pfxMember, s.tenantID, groupID, userID), nil); err != nil {
		return err
	}
	return s.txn.Set(key(pfxMemberOf, s.tenantID, userID, groupID), nil)
}

func (g groups) RemoveMember(ctx context.Context, groupID, userID string) error {
	s := g.s
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(s.tenantID, groupID, userID); err != nil {
		return err
	}
	ok, err := s.exists(key(pfxMember, s.tenantID, groupID, userID))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: user %q in group %q", store.ErrNotFound, userID, groupID)
	}
	return s.deleteMembership(groupID, userID)
}

func (g groups) Members(ctx context.Context, groupID string, page store.Page) ([]string, string, error) {
	s := g.s
	if err := s.check(ctx); err != nil {
		return nil, "", err
	}
	if err := checkIDs(s.tenantID, groupID); err != nil {
		return nil, "", err
	}
	return scanIDs(s.txn, dirKey(pfxMember, s.tenantID, groupID), page)
}

func (g groups) GroupsOf(ctx context.Context, userID string) ([]string, error) {
	if err := g.s.check(ctx); err != nil {
		return nil, err
	}
	if err := checkIDs(g.s.tenantID, userID); err != nil {
		return nil, err
	}
	return g.s.groupsOf(userID)
}

func (s *scope) groupsOf(userID string) ([]string, error) {
	return s.allIDs(dirKey(pfxMemberOf, s.tenantID, userID))
}

func (s *scope) deleteMembership(groupID, userID string) error {
	if err := s.txn.Delete(key(pfxMember, s.tenantID, groupID, userID)); err != nil {
		return err
	}
	return s.txn.Delete(key(pfxMemberOf, s.tenantID, userID, groupID))
}

// allIDs collects every last key component under dir. Collecting before
// acting keeps writes out of Scan's callback.
func (s *scope) allIDs(dir []byte) ([]string, error) {
	var out []string
	err := s.txn.Scan(dir, dir, func(k, _ []byte) (bool, error) {
		out = append(out, string(k[len(dir):]))
		return true, nil
	})
	return out, err
}

// --- products, plans, customers ---------------------------------------------

type products struct{ collection[store.Product] }

func (s *scope) Products() store.Products {
	return products{collection[store.Product]{
		s: s, kind: kindProduct,
		idOf:   func(r *store.Product) string { return r.ID },
		tenant: func(r *store.Product) *string { return &r.TenantID },
	}}
}

type plans struct{ collection[store.Plan] }

func (s *scope) Plans() store.Plans {
	p := plans{collection[store.Plan]{
		s: s, kind: kindPlan,
		idOf:   func(r *store.Plan) string { return r.ID },
		tenant: func(r *store.Plan) *string { return &r.TenantID },
	}}
	p.index = func(old, rec *store.Plan) error {
		if rec != nil {
			if err := checkIDs(rec.ProductID); err != nil {
				return err
			}
		}
		if old != nil && (rec == nil || old.ProductID != rec.ProductID) {
			if err := s.txn.Delete(key(pfxPlan, s.tenantID, old.ProductID, old.ID)); err != nil {
				return err
			}
		}
		if rec != nil && (old == nil || old.ProductID != rec.ProductID) {
			return s.txn.Set(key(pfxPlan, s.tenantID, rec.ProductID, rec.ID), nil)
		}
		return nil
	}
	return p
}

func (p plans) ListByProduct(ctx context.Context, productID string, page store.Page) ([]store.Plan, string, error) {
	s := p.s
	if err := s.check(ctx); err != nil {
		return nil, "", err
	}
	if err := checkIDs(s.tenantID, productID); err != nil {
		return nil, "", err
	}
	ids, next, err := scanIDs(s.txn, dirKey(pfxPlan, s.tenantID, productID), page)
	if err != nil {
		return nil, "", err
	}
	out := make([]store.Plan, 0, len(ids))
	for _, id := range ids {
		plan, err := p.Get(ctx, id)
		if err != nil {
			return nil, "", err
		}
		out = append(out, plan)
	}
	return out, next, nil
}

type customers struct{ collection[store.Customer] }

func (s *scope) Customers() store.Customers {
	return customers{collection[store.Customer]{
		s: s, kind: kindCustomer,
		idOf:   func(r *store.Customer) string { return r.ID },
		tenant: func(r *store.Customer) *string { return &r.TenantID },
	}}
}

// --- licenses --------------------------------------------------------------

type licenses struct{ collection[store.License] }

func (s *scope) Licenses() store.Licenses {
	return licenses{collection[store.License]{
		s: s, kind: kindLicense,
		idOf:   func(r *store.License) string { return r.ID },
		tenant: func(r *store.License) *string { return &r.TenantID },
		index: func(old, rec *store.License) error {
			if rec != nil && len(rec.KeyDigest) == 0 {
				return fmt.Errorf("%w: license %q without key digest", store.ErrInvalid, rec.ID)
			}
			if rec != nil && (old == nil || !bytes.Equal(old.KeyDigest, rec.KeyDigest)) {
				k := key(pfxLicenseKey, string(rec.KeyDigest))
				taken, err := s.exists(k)
				if err != nil {
					return err
				}
				if taken {
					return fmt.Errorf("%w: license key digest", store.ErrAlreadyExists)
				}
				ref := make([]byte, 0, len(s.tenantID)+1+len(rec.ID))
				ref = append(append(append(ref, s.tenantID...), 0), rec.ID...)
				if err := s.txn.Set(k, ref); err != nil {
					return err
				}
			}
			if old != nil && (rec == nil || !bytes.Equal(old.KeyDigest, rec.KeyDigest)) {
				return s.txn.Delete(key(pfxLicenseKey, string(old.KeyDigest)))
			}
			return nil
		},
	}}
}

// --- credentials -------------------------------------------------------------

// globalIndex claims id in a cross-tenant index on create.
func (s *scope) globalIndex(prefix byte, what string) func(old, rec *string) error {
	return func(old, rec *string) error {
		if old != nil {
			return nil // IDs never change and credentials are never deleted
		}
		k := key(prefix, *rec)
		taken, err := s.exists(k)
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("%w: %s %q", store.ErrAlreadyExists, what, *rec)
		}
		return s.txn.Set(k, []byte(s.tenantID))
	}
}

// credentials exposes a collection without Delete: credentials end by a
// status change, and the store does not offer another way.
type credentials[T any] struct{ c collection[T] }

func (k credentials[T]) Create(ctx context.Context, rec T) error       { return k.c.Create(ctx, rec) }
func (k credentials[T]) Get(ctx context.Context, id string) (T, error) { return k.c.Get(ctx, id) }
func (k credentials[T]) Update(ctx context.Context, rec T) error       { return k.c.Update(ctx, rec) }
func (k credentials[T]) List(ctx context.Context, page store.Page) ([]T, string, error) {
	return k.c.List(ctx, page)
}

func (s *scope) UserTokens() store.UserTokens {
	claim := s.globalIndex(pfxToken, "user token")
	return credentials[store.UserToken]{collection[store.UserToken]{
		s: s, kind: kindToken,
		idOf:   func(r *store.UserToken) string { return r.ID },
		tenant: func(r *store.UserToken) *string { return &r.TenantID },
		index: func(old, rec *store.UserToken) error {
			if old == nil {
				return claim(nil, &rec.ID)
			}
			return nil
		},
	}}
}

func (s *scope) RefreshFamilies() store.RefreshFamilies {
	claim := s.globalIndex(pfxFamily, "refresh family")
	return credentials[store.RefreshFamily]{collection[store.RefreshFamily]{
		s: s, kind: kindFamily,
		idOf:   func(r *store.RefreshFamily) string { return r.ID },
		tenant: func(r *store.RefreshFamily) *string { return &r.TenantID },
		index: func(old, rec *store.RefreshFamily) error {
			if old == nil {
				return claim(nil, &rec.ID)
			}
			return nil
		},
	}}
}

type sessions struct {
	credentials[store.ConsoleSession]
}

func (s *scope) ConsoleSessions() store.ConsoleSessions {
	claim := s.globalIndex(pfxSession, "console session")
	return sessions{credentials[store.ConsoleSession]{collection[store.ConsoleSession]{
		s: s, kind: kindSession,
		idOf:   func(r *store.ConsoleSession) string { return r.ID },
		tenant: func(r *store.ConsoleSession) *string { return &r.TenantID },
		index: func(old, rec *store.ConsoleSession) error {
			if old == nil {
				return claim(nil, &rec.ID)
			}
			return nil
		},
	}}}
}

func (k sessions) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	// A pruned session frees its ID in the global index too.
	return prune(ctx, k.c, limit,
		func(cs *store.ConsoleSession) bool { return cs.ExpiresAt.Before(before) },
		func(cs *store.ConsoleSession) error { return k.c.s.txn.Delete(key(pfxSession, cs.ID)) })
}

// prune deletes at most limit records of c's kind that doomed picks, in
// ID order, calling also for each, and returns how many it deleted.
func prune[T any](ctx context.Context, c collection[T], limit int, doomed func(*T) bool, also func(*T) error) (int, error) {
	s := c.s
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if err := checkIDs(s.tenantID); err != nil {
		return 0, err
	}
	if limit <= 0 {
		return 0, nil
	}
	var picked []T
	dir := dirKey(pfxRecord, s.tenantID, c.kind)
	err := s.txn.Scan(dir, dir, func(_, v []byte) (bool, error) {
		var rec T
		if err := decode(v, &rec); err != nil {
			return false, err
		}
		if doomed(&rec) {
			picked = append(picked, rec)
		}
		return len(picked) < limit, nil
	})
	if err != nil {
		return 0, err
	}
	for i := range picked {
		if err := s.txn.Delete(s.recordKey(c.kind, c.idOf(&picked[i]))); err != nil {
			return 0, err
		}
		if also != nil {
			if err := also(&picked[i]); err != nil {
				return 0, err
			}
		}
	}
	return len(picked), nil
}

// --- audit -----------------------------------------------------------------

type audit struct{ c collection[store.AuditEvent] }

func (s *scope) Audit() store.Audit {
	return audit{collection[store.AuditEvent]{
		s: s, kind: kindAudit,
		idOf:   func(r *store.AuditEvent) string { return r.ID },
		tenant: func(r *store.AuditEvent) *string { return &r.TenantID },
	}}
}

func (a audit) Append(ctx context.Context, ev store.AuditEvent) error { return a.c.Create(ctx, ev) }

func (a audit) List(ctx context.Context, q store.AuditQuery, page store.Page) ([]store.AuditEvent, string, error) {
	return a.c.list(ctx, page, func(ev *store.AuditEvent) bool { return q.Match(*ev) })
}

func (a audit) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	return prune(ctx, a.c, limit, func(ev *store.AuditEvent) bool { return ev.Time.Before(before) }, nil)
}

// --- usage and quotas ---------------------------------------------------------

type usage struct{ c collection[store.UsageRecord] }

func (s *scope) Usage() store.Usage {
	return usage{collection[store.UsageRecord]{
		s: s, kind: kindUsage,
		idOf:   func(r *store.UsageRecord) string { return r.TokenID },
		tenant: func(r *store.UsageRecord) *string { return &r.TenantID },
	}}
}

func (u usage) Get(ctx context.Context, tokenID string) (store.UsageRecord, error) {
	return u.c.Get(ctx, tokenID)
}

func (u usage) Put(ctx context.Context, rec store.UsageRecord) error {
	if err := u.c.prepare(ctx, &rec); err != nil {
		return err
	}
	return u.c.put(u.c.s.recordKey(kindUsage, rec.TokenID), &rec)
}

func (u usage) List(ctx context.Context, page store.Page) ([]store.UsageRecord, string, error) {
	return u.c.List(ctx, page)
}

type quotas struct{ s *scope }

func (s *scope) Quotas() store.Quotas { return quotas{s} }

func (q quotas) Get(ctx context.Context, name string) (tenant.LimiterState, error) {
	var st tenant.LimiterState
	if err := q.s.check(ctx); err != nil {
		return st, err
	}
	if err := checkIDs(q.s.tenantID, name); err != nil {
		return st, err
	}
	b, err := q.s.txn.Get(q.s.recordKey(kindQuota, name))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return st, fmt.Errorf("%w: quota %q", err, name)
		}
		return st, err
	}
	err = decode(b, &st)
	return st, err
}

func (q quotas) Put(ctx context.Context, name string, st tenant.LimiterState) error {
	if err := q.s.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(q.s.tenantID, name); err != nil {
		return err
	}
	b, err := encode(&st)
	if err != nil {
		return err
	}
	return q.s.txn.Set(q.s.recordKey(kindQuota, name), b)
}

// Compile-time guards: each kind implements its store interface.
var (
	_ store.Tx              = (*tx)(nil)
	_ store.Tenants         = tenants{}
	_ store.TenantTx        = (*scope)(nil)
	_ store.Users           = users{}
	_ store.Groups          = groups{}
	_ store.Products        = products{}
	_ store.Plans           = plans{}
	_ store.Customers       = customers{}
	_ store.Licenses        = licenses{}
	_ store.UserTokens      = credentials[store.UserToken]{}
	_ store.RefreshFamilies = credentials[store.RefreshFamily]{}
	_ store.ConsoleSessions = sessions{}
	_ store.Audit           = audit{}
	_ store.Usage           = usage{}
	_ store.Quotas          = quotas{}
)
