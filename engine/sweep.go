package engine

import (
	"context"
	"errors"
	"time"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// Bounds of one Sweep's work; what is left waits for the next.
const (
	// maxSweepDeactivations bounds the tokens one sweep deactivates.
	maxSweepDeactivations = 1000
	// maxSweepPrunePerTenant and maxSweepPrune bound the audit events one
	// sweep deletes, per tenant and in all.
	maxSweepPrunePerTenant = 10_000
	maxSweepPrune          = 100_000
	// pruneBatch is how many events one transaction deletes.
	pruneBatch = 256
)

// ReasonUnused is the Reason of a token deactivation made by the tenant's
// DeactivateUnusedAfter policy.
const ReasonUnused = "unused"

// Sweep applies the time-based rules now, for every tenant; the engine
// runs it every Config.SweepInterval, and a host (or a test with an
// injected clock) may call it at any time. Each run does bounded work and
// leaves the rest to the next:
//
//   - tenant.Policy.DeactivateUnusedAfter: an active, unexpired user token
//     not used for longer (counted from its latest use, or from its latest
//     change by an administrator, such as its creation or a
//     reactivation, whichever is later) is deactivated, and the
//     deactivation is audited (EventTokenDeactivated, actor "system",
//     reason ReasonUnused). Not applied when usage tracking is disabled.
//   - Console sessions past their absolute expiry are deleted (they can
//     never authenticate again).
//   - Config.AuditRetention: audit events older than it are deleted.
//     Deletion waits until the oldest event is a little past the
//     retention (a tenth of it, at most an hour), so that a sweep scans a
//     tenant's log at most about once an hour; nothing else is touched.
func (e *Engine) Sweep(ctx context.Context) error {
	if e.closed.Load() {
		return ErrClosed
	}
	e.sweepMu.Lock()
	defer e.sweepMu.Unlock()
	// The store must know of every use this engine saw before judging
	// tokens unused.
	if err := e.flushUsage(ctx); err != nil {
		return err
	}
	deactivate, prune := maxSweepDeactivations, maxSweepPrune
	var errs []error
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		if e.closed.Load() {
			return errors.Join(append(errs, ErrClosed)...)
		}
		var (
			tenants []tenant.Tenant
			next    string
		)
		err := e.st.View(ctx, func(tx store.Tx) error {
			var err error
			tenants, next, err = tx.Tenants().List(ctx, page)
			return err
		})
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, t := range tenants {
			if p := t.Policy.DeactivateUnusedAfter; p > 0 && e.trackUsage && deactivate > 0 {
				n, err := e.deactivateUnused(ctx, t.ID, p, deactivate)
				deactivate -= n
				errs = append(errs, err)
			}
			if e.auditRetention > 0 && prune > 0 {
				n, err := e.pruneAudit(ctx, t.ID, min(prune, maxSweepPrunePerTenant))
				prune -= n
				errs = append(errs, err)
			}
			if prune > 0 {
				n, err := e.pruneSessions(ctx, t.ID, min(prune, maxSweepPrunePerTenant))
				prune -= n
				errs = append(errs, err)
			}
		}
		if next == "" {
			return errors.Join(errs...)
		}
		page.After = next
	}
}

// deactivateUnused deactivates at most limit of the tenant's tokens
// unused for longer than after, and returns how many it deactivated.
func (e *Engine) deactivateUnused(ctx context.Context, tenantID string, after time.Duration, limit int) (int, error) {
	now := e.clock()
	cutoff := now.Add(-after)
	var candidates []string
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		var next string
		err := e.st.View(ctx, func(tx store.Tx) error {
			tt := tx.Tenant(tenantID)
			toks, n, err := tt.UserTokens().List(ctx, page)
			if err != nil {
				return err
			}
			next = n
			for _, rec := range toks {
				if !unusedToken(rec, now, cutoff) {
					continue
				}
				u, err := tt.Usage().Get(ctx, rec.ID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if u.LastUsedAt.Before(cutoff) && e.tokenLastUsed(rec.ID).Before(cutoff) {
					candidates = append(candidates, rec.ID)
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		if next == "" || len(candidates) >= limit {
			break
		}
		page.After = next
	}
	done := 0
	var errs []error
	for _, id := range candidates[:min(limit, len(candidates))] {
		if e.closed.Load() {
			break
		}
		ev := Event{
			TenantID: tenantID, Type: EventTokenDeactivated, Actor: actorName(System()), TokenID: id,
			Reason:  ReasonUnused,
			Details: map[string]string{"policy": "deactivate_unused_after", "after": after.String()},
		}
		_, err := e.changeTokenTx(ctx, ev, func(tx store.Tx, r *store.UserToken) error {
			// Judge again in the write: the token may have changed or been
			// used since.
			u, err := tx.Tenant(tenantID).Usage().Get(ctx, r.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if !unusedToken(*r, now, cutoff) || !u.LastUsedAt.Before(cutoff) || !e.tokenLastUsed(r.ID).Before(cutoff) {
				return errUnchanged
			}
			if !u.LastUsedAt.IsZero() {
				ev.Details["last_used"] = u.LastUsedAt.Format(time.RFC3339)
			}
			r.Status = store.TokenDeactivated
			return nil
		})
		switch {
		case err == nil:
			done++
		case errors.Is(err, errUnchanged), errors.Is(err, ErrNotFound):
		default:
			errs = append(errs, err)
		}
	}
	if done > 0 {
		e.log.Info("licensekit: deactivated unused tokens", "tenant", tenantID, "count", done, "unused_for", after.String())
	}
	return done, errors.Join(errs...)
}

// unusedToken reports whether rec is an active, unexpired token that no
// administrator created or changed since cutoff (its use is checked
// apart).
func unusedToken(rec store.UserToken, now, cutoff time.Time) bool {
	switch {
	case rec.Status != store.TokenActive:
		return false
	case !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt):
		return false // expired: it works no more anyway
	}
	return rec.CreatedAt.Before(cutoff) && rec.UpdatedAt.Before(cutoff) && rec.RotatedAt.Before(cutoff)
}

// pruneAudit deletes at most limit of the tenant's audit events older
// than the retention, pruneBatch per transaction, and returns how many.
func (e *Engine) pruneAudit(ctx context.Context, tenantID string, limit int) (int, error) {
	now := e.clock()
	cutoff := now.Add(-e.auditRetention)
	slack := min(e.auditRetention/10, time.Hour)
	// The oldest event first (IDs sort by time): nothing to do unless it
	// is past the retention by the slack, which batches deletions.
	var oldest []store.AuditEvent
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		oldest, _, err = tx.Tenant(tenantID).Audit().List(ctx, store.AuditQuery{}, store.Page{Limit: 1})
		return err
	})
	if err != nil || len(oldest) == 0 || !oldest[0].Time.Before(cutoff.Add(-slack)) {
		return 0, err
	}
	total, err := e.pruneInBatches(ctx, limit, func(tx store.Tx, want int) (int, error) {
		return tx.Tenant(tenantID).Audit().Prune(ctx, cutoff, want)
	})
	if err != nil {
		return total, err
	}
	if total > 0 {
		e.log.Info("licensekit: audit events past their retention deleted", "tenant", tenantID, "count", total,
			"retention", e.auditRetention.String())
	}
	return total, nil
}

// pruneSessions deletes at most limit of the tenant's console sessions
// past their absolute expiry. A read first finds whether there are any,
// so a sweep writes nothing for tenants without expired sessions.
func (e *Engine) pruneSessions(ctx context.Context, tenantID string, limit int) (int, error) {
	now := e.clock()
	expired := false
	page := store.Page{Limit: store.MaxPageLimit}
	for !expired {
		var next string
		err := e.st.View(ctx, func(tx store.Tx) error {
			recs, n, err := tx.Tenant(tenantID).ConsoleSessions().List(ctx, page)
			next = n
			for _, r := range recs {
				expired = expired || r.ExpiresAt.Before(now)
			}
			return err
		})
		if err != nil {
			return 0, err
		}
		if next == "" {
			break
		}
		page.After = next
	}
	if !expired {
		return 0, nil
	}
	return e.pruneInBatches(ctx, limit, func(tx store.Tx, want int) (int, error) {
		return tx.Tenant(tenantID).ConsoleSessions().Prune(ctx, now, want)
	})
}

// pruneInBatches deletes up to limit records with prune, at most
// pruneBatch per transaction, until prune finds fewer than it was asked
// for; it returns how many it deleted.
func (e *Engine) pruneInBatches(ctx context.Context, limit int, prune func(tx store.Tx, want int) (int, error)) (int, error) {
	total := 0
	for total < limit {
		want, n := min(pruneBatch, limit-total), 0
		err := e.update(ctx, func(tx store.Tx) error {
			var err error
			n, err = prune(tx, want)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < want {
			break // none left
		}
	}
	return total, nil
}
