package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// quotaLease counts one tenant quota in the store, for engines that share
// it (Config.SharedQuotas). The store holds the one GCRA state all engines
// admit against; an engine takes admissions from it in leases of several
// at a time, in a serializable transaction, and spends them locally. A
// lease consumes the quota when it is taken, so the engines together never
// admit more than the limit: overshoot is zero, and the cost is that
// admissions leased but not yet spent by one engine are unavailable to the
// others (at most leaseSize per engine and quota).
type quotaLease struct {
	mu      sync.Mutex
	left    int64           // leased admissions not yet spent
	last    tenant.Decision // the decision of the last lease, for headers
	retryAt time.Time       // after a refused lease: refuse locally until then
}

// leaseSize is how many admissions one store round trip takes: a
// fiftieth of the burst, between 1 and 100.
func leaseSize(r tenant.Rate) int64 {
	r = r.Normalize()
	return min(max(r.Burst/50, 1), 100)
}

// takeShared admits one request against the shared quota name of ts.
func (e *Engine) takeShared(ctx context.Context, q *quotaLease, tenantID, name string, r tenant.Rate, now time.Time) (tenant.Decision, error) {
	if r.Unlimited() {
		return tenant.Decision{Allowed: true, Remaining: -1}, nil
	}
	// q.mu is held across the store round trip on purpose: the tenant's
	// other requests on this engine wait for the lease in flight instead of
	// each taking one (which would strand leases); they would otherwise
	// have waited on the store anyway. Other tenants are not held.
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.left > 0 {
		q.left--
		d := q.last
		d.Remaining = max(d.Remaining, q.left)
		return d, nil
	}
	if now.Before(q.retryAt) {
		return tenant.Decision{Allowed: false, Limit: r.Limit, RetryAfter: q.retryAt.Sub(now), ResetAfter: q.last.ResetAfter}, nil
	}
	want := leaseSize(r)
	var (
		got int64
		d   tenant.Decision
	)
	err := e.update(ctx, func(tx store.Tx) error {
		got = 0
		quotas := tx.Tenant(tenantID).Quotas()
		st, err := quotas.Get(ctx, name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		l := restoreLimiter(st, r, now)
		for n := want; n >= 1; n /= 2 {
			if d = l.AllowN(now, n); d.Allowed {
				got = n
				break
			}
		}
		if got == 0 {
			return nil
		}
		return quotas.Put(ctx, name, l.State())
	})
	if err != nil {
		return tenant.Decision{}, err
	}
	if got == 0 {
		q.retryAt = now.Add(d.RetryAfter)
		q.last = d
		return d, nil
	}
	q.left, q.last = got-1, d
	d.Remaining += q.left
	return d, nil
}

// takeAPI admits one API request of ts: from its limiter, or from the
// store when quotas are shared.
func (e *Engine) takeAPI(ctx context.Context, ts *tenantState, now time.Time) (tenant.Decision, error) {
	if !e.sharedQuotas {
		d := ts.api.Allow(now)
		if d.Allowed && !ts.dirty.Load() {
			ts.dirty.Store(true)
		}
		return d, nil
	}
	return e.takeShared(ctx, &ts.apiLease, ts.id, quotaAPI, ts.license.Load().Limits.APIRate(), now)
}

// takeValidation admits one license validation of ts.
func (e *Engine) takeValidation(ctx context.Context, ts *tenantState, now time.Time) (tenant.Decision, error) {
	if !e.sharedQuotas {
		d := ts.validate.Allow(now)
		if d.Allowed && !ts.dirty.Load() {
			ts.dirty.Store(true)
		}
		return d, nil
	}
	return e.takeShared(ctx, &ts.validateLease, ts.id, quotaValidate, ts.license.Load().Limits.ValidationRate(), now)
}
