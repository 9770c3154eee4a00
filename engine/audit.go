package engine

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"

	"github.com/licensekit/licensekit/store"
)

// Event is one audit event. It never holds a secret.
type Event = store.AuditEvent

// Observer receives audit events as they happen. Observe is called from one
// background goroutine, never on the request path: a slow observer delays
// only later notifications, and when it falls more than ObserverBuffer
// events behind, further events are dropped (and counted in the log)
// rather than slowing a request.
type Observer interface {
	Observe(ev Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(ev Event)

var _ Observer = ObserverFunc(nil)

// Observe calls f(ev).
func (f ObserverFunc) Observe(ev Event) { f(ev) }

// ObserverBuffer is how many events may wait for a slow Observer.
const ObserverBuffer = 4096

// Audit event types.
const (
	EventTenantCreated          = "tenant.created"
	EventTenantUpdated          = "tenant.updated"
	EventUserCreated            = "user.created"
	EventUserUpdated            = "user.updated"
	EventUserDeleted            = "user.deleted"
	EventGroupCreated           = "group.created"
	EventGroupUpdated           = "group.updated"
	EventGroupDeleted           = "group.deleted"
	EventGroupMemberAdded       = "group.member_added"
	EventGroupMemberRemoved     = "group.member_removed"
	EventProductCreated         = "product.created"
	EventProductUpdated         = "product.updated"
	EventProductDeleted         = "product.deleted"
	EventPlanCreated            = "plan.created"
	EventPlanUpdated            = "plan.updated"
	EventPlanDeleted            = "plan.deleted"
	EventCustomerCreated        = "customer.created"
	EventCustomerUpdated        = "customer.updated"
	EventCustomerDeleted        = "customer.deleted"
	EventLicenseCreated         = "license.created"
	EventLicenseUpdated         = "license.updated"
	EventLicenseReissued        = "license.reissued"
	EventLicenseStatus          = "license.status_changed"
	EventLicenseDeleted         = "license.deleted"
	EventTokenCreated           = "token.created"
	EventTokenExchanged         = "token.exchanged"
	EventTokenRefreshed         = "token.refreshed"
	EventTokenRotated           = "token.rotated"
	EventTokenDeactivated       = "token.deactivated"
	EventTokenReactivated       = "token.reactivated"
	EventTokenDeleted           = "token.deleted"
	EventTokenRevoked           = "token.revoked"
	EventTokenPermissions       = "token.permissions_changed"
	EventRefreshReuse           = "token.refresh_reuse"
	EventAuthFailed             = "auth.failed"
	EventAccessDenied           = "access.denied"
	EventLimitReached           = "quota.limit_reached"
	EventValidationFailedPublic = "license.validation_failed"
)

// Reason codes of failed authentications, recorded in Event.Reason. The
// caller only ever learns ErrInvalidToken.
const (
	ReasonMalformed      = "malformed"
	ReasonUnknown        = "unknown"
	ReasonBadSecret      = "bad_secret"
	ReasonExpired        = "expired"
	ReasonRevoked        = "revoked"
	ReasonRotated        = "rotated"
	ReasonDeactivated    = "deactivated"
	ReasonAddress        = "address_not_allowed"
	ReasonOwnerInactive  = "owner_inactive"
	ReasonUnknownKey     = "unknown_key_id"
	ReasonFamilyRevoked  = "family_revoked"
	ReasonRefreshReused  = "refresh_reused"
	ReasonRefreshExpired = "refresh_expired"
)

// auditor writes audit events. Events that belong to a change are written
// in that change's transaction (record); events of the request path
// (failed authentication, denied access, limits) are buffered and written
// in batches (enqueue), so a flood of failures costs no write each.
type auditor struct {
	e *Engine

	mu      sync.Mutex
	pending []Event
	dropped int

	observer Observer
	notifyMu sync.RWMutex // guards notify against close
	notify   chan Event
	done     chan struct{}
}

// maxPendingAudit bounds buffered events between flushes; beyond it events
// are counted as dropped and the count is logged.
const maxPendingAudit = 65536

func newAuditor(e *Engine, obs Observer) *auditor {
	a := &auditor{e: e, observer: obs}
	if obs != nil {
		a.notify = make(chan Event, ObserverBuffer)
		a.done = make(chan struct{})
		go a.deliver(a.notify)
	}
	return a
}

func (a *auditor) deliver(events <-chan Event) {
	defer close(a.done)
	for ev := range events {
		a.observer.Observe(ev)
	}
}

func (a *auditor) close() {
	a.notifyMu.Lock()
	ch := a.notify
	a.notify = nil
	a.notifyMu.Unlock()
	if ch != nil {
		close(ch)
		<-a.done
	}
}

// fill completes ev's ID, time and severity.
func (a *auditor) fill(ev *Event) {
	if ev.ID == "" {
		ev.ID = newID()
	}
	if ev.Time.IsZero() {
		ev.Time = a.e.clock()
	}
	if ev.Severity == "" {
		ev.Severity = store.SeverityInfo
	}
}

// record appends ev inside tx; the observer hears of it when the caller
// calls published after the commit.
func (a *auditor) record(ctx context.Context, tx store.Tx, ev *Event) error {
	a.fill(ev)
	return tx.Tenant(ev.TenantID).Audit().Append(ctx, *ev)
}

// published tells the observer and the log about committed events.
func (a *auditor) published(evs ...Event) {
	for _, ev := range evs {
		// Routine events are debug detail; refusals warn; theft signals
		// (refresh-token reuse) are errors a host should page on.
		level := slog.LevelDebug
		switch ev.Severity {
		case store.SeverityWarning:
			level = slog.LevelWarn
		case store.SeverityHigh:
			level = slog.LevelError
		}
		a.e.log.Log(context.Background(), level, "licensekit audit", "type", ev.Type, "tenant", ev.TenantID,
			"token", ev.TokenID, "actor", ev.Actor, "reason", ev.Reason, "client", ev.ClientAddr,
			"severity", string(ev.Severity))
		a.notifyMu.RLock()
		if a.notify != nil {
			select {
			case a.notify <- ev:
			default:
				a.e.log.Warn("licensekit: observer is behind; event not delivered", "type", ev.Type)
			}
		}
		a.notifyMu.RUnlock()
	}
}

// enqueue buffers a request-path event. Events without a tenant (a
// credential too malformed to name one) go to the log and the observer
// only: the audit log is per tenant.
func (a *auditor) enqueue(ev Event) {
	a.fill(&ev)
	a.published(ev)
	if ev.TenantID == "" {
		return
	}
	a.mu.Lock()
	if len(a.pending) < maxPendingAudit {
		a.pending = append(a.pending, ev)
	} else {
		a.dropped++
	}
	a.mu.Unlock()
}

// auditBatch is how many buffered events one transaction writes: small
// enough for any backend's transaction limits.
const auditBatch = 256

// flush writes buffered events, auditBatch per transaction. Events of a
// batch that fails are kept for the next flush.
func (a *auditor) flush(ctx context.Context) error {
	a.mu.Lock()
	pending, dropped := a.pending, a.dropped
	a.pending, a.dropped = nil, 0
	a.mu.Unlock()
	if dropped > 0 {
		a.e.log.Error("licensekit: audit buffer full; events dropped", "dropped", dropped)
	}
	for len(pending) > 0 {
		batch := pending[:min(auditBatch, len(pending))]
		err := a.e.update(ctx, func(tx store.Tx) error {
			for _, ev := range batch {
				if err := tx.Tenant(ev.TenantID).Audit().Append(ctx, ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			a.mu.Lock()
			a.pending = append(pending, a.pending...)
			if over := len(a.pending) - maxPendingAudit; over > 0 {
				a.pending = a.pending[over:]
				a.dropped += over
			}
			a.mu.Unlock()
			return err
		}
		pending = pending[len(batch):]
	}
	return nil
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// ListAudit pages through a tenant's audit log, filtered by q, oldest
// first (audit:view).
func (e *Engine) ListAudit(ctx context.Context, actor Actor, tenantID string, q store.AuditQuery, page store.Page) ([]Event, string, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListAudit); err != nil {
		return nil, "", err
	}
	var (
		out  []Event
		next string
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, next, err = tx.Tenant(tenantID).Audit().List(ctx, q, page)
		return err
	})
	return out, next, err
}

// Flush writes the engine's batched state (quota counters, buffered audit
// events, token usage) now rather than at the next FlushInterval (or
// UsageFlushInterval).
func (e *Engine) Flush(ctx context.Context) error { return e.flush(ctx) }
