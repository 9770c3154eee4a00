package engine

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/licensekit/licensekit/store"
)

// EventAlertFired is the type of the event an alert rule raises.
const EventAlertFired = "alert.fired"

// AlertKey says what an alert rule counts failures by.
type AlertKey int

const (
	// AlertByAddress counts failed authentications per client address,
	// across tenants (failures too malformed to name a tenant included).
	AlertByAddress AlertKey = iota + 1
	// AlertByTenant counts them per tenant.
	AlertByTenant
	// AlertByToken counts them per user-token ID (of credentials that name
	// one, whether or not it exists).
	AlertByToken
)

func (k AlertKey) String() string {
	switch k {
	case AlertByAddress:
		return "address"
	case AlertByTenant:
		return "tenant"
	case AlertByToken:
		return "token"
	}
	return fmt.Sprintf("AlertKey(%d)", int(k))
}

// AlertRule raises an alert when Threshold failed authentications (of
// access tokens, user tokens at the token endpoint, refresh tokens) with
// the same key arrive within Window: the Threshold-th one fires it. A rule
// fires at most once per Window and key, however many failures follow.
//
// When a rule fires, the engine emits one Event of type EventAlertFired
// with SeverityHigh (the Observer gets it and the Logger logs it as an
// error) and records it in the audit log of the tenant of the failure
// that fired it. The event carries that failure's tenant, token ID and
// client address, the rule's name as its Reason, and Details "rule",
// "key", "threshold", "window" and "last_reason" (the failure's reason
// code). A failure that names no tenant (a malformed or unknown
// credential) can fire an address or token rule; that alert reaches the
// Observer and the Logger only, since the audit log is per tenant.
type AlertRule struct {
	// Name identifies the rule in the event (its Reason and
	// Details["rule"]).
	Name string
	// Threshold is how many failures fire the rule: 1 to MaxAlertThreshold.
	Threshold int
	// Window is the sliding window the failures must fall within.
	Window time.Duration
	// Key is what failures are counted by.
	Key AlertKey
}

// MaxAlertThreshold bounds AlertRule.Threshold (and so the memory a rule
// needs per key).
const MaxAlertThreshold = 10_000

// DefaultAlertRules are the rules of a Config without AlertRules: 10
// failed authentications from one client address within 5 minutes.
func DefaultAlertRules() []AlertRule {
	return []AlertRule{{Name: "failed-auth-per-address", Threshold: 10, Window: 5 * time.Minute, Key: AlertByAddress}}
}

// alerter counts failed authentications for the alert rules.
type alerter struct {
	rules []*alertState
}

// alertState is one rule's counters: per key, the times of its last
// Threshold failures. Memory is bounded by maxKeys keys.
type alertState struct {
	rule    AlertRule
	maxKeys int

	mu   sync.Mutex
	keys map[string]*alertTrack
}

type alertTrack struct {
	times []int64 // ring of the last (up to Threshold) failure times, unix nanos
	next  int     // when full, the index of the oldest
	last  int64   // the latest failure
	quiet int64   // no alert before this (one per Window)
}

// alertMemory is what one rule may spend on failure times, beyond which it
// tracks fewer keys (at least minAlertKeys, at most maxAlertKeys).
const (
	alertMemory  = 8 << 20
	minAlertKeys = 1024
	maxAlertKeys = 100_000
)

func newAlerter(rules []AlertRule) (*alerter, error) {
	a := &alerter{}
	names := map[string]bool{}
	for i, r := range rules {
		switch {
		case r.Name == "":
			return nil, fmt.Errorf("engine: Config.AlertRules[%d]: Name is required", i)
		case names[r.Name]:
			return nil, fmt.Errorf("engine: Config.AlertRules[%d]: duplicate name %q", i, r.Name)
		case r.Threshold < 1 || r.Threshold > MaxAlertThreshold:
			return nil, fmt.Errorf("engine: Config.AlertRules[%d] (%s): Threshold must be 1 to %d", i, r.Name, MaxAlertThreshold)
		case r.Window <= 0:
			return nil, fmt.Errorf("engine: Config.AlertRules[%d] (%s): Window must be positive", i, r.Name)
		case r.Key != AlertByAddress && r.Key != AlertByTenant && r.Key != AlertByToken:
			return nil, fmt.Errorf("engine: Config.AlertRules[%d] (%s): unknown Key %v", i, r.Name, r.Key)
		}
		names[r.Name] = true
		a.rules = append(a.rules, &alertState{
			rule:    r,
			maxKeys: min(maxAlertKeys, max(minAlertKeys, alertMemory/(8*r.Threshold))),
			keys:    map[string]*alertTrack{},
		})
	}
	return a, nil
}

// failed counts the failed authentication ev for every rule and emits the
// alerts it fires.
func (a *alerter) failed(e *Engine, ev Event) {
	if len(a.rules) == 0 {
		return
	}
	now := e.now().UnixNano()
	for _, st := range a.rules {
		var key string
		switch st.rule.Key {
		case AlertByAddress:
			key = ev.ClientAddr
		case AlertByTenant:
			key = ev.TenantID
		case AlertByToken:
			key = ev.TokenID
		}
		if key == "" {
			continue
		}
		if !st.count(key, now) {
			continue
		}
		r := st.rule
		e.audit.enqueue(Event{
			TenantID: ev.TenantID, Type: EventAlertFired, Severity: store.SeverityHigh,
			TokenID: ev.TokenID, ClientAddr: ev.ClientAddr, Reason: r.Name,
			Details: map[string]string{
				"rule": r.Name, "key": r.Key.String(), "threshold": strconv.Itoa(r.Threshold),
				"window": r.Window.String(), "last_reason": ev.Reason,
			},
		})
	}
}

// count adds a failure of key at now and reports whether it fires the
// rule: it is the Threshold-th within Window and the key has not fired
// within the last Window.
func (st *alertState) count(key string, now int64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.keys[key]
	if t == nil {
		if len(st.keys) >= st.maxKeys {
			st.evict(now)
		}
		t = &alertTrack{}
		st.keys[key] = t
	}
	n, w := st.rule.Threshold, int64(st.rule.Window)
	if len(t.times) < n {
		t.times = append(t.times, now)
	} else {
		t.times[t.next] = now
		t.next = (t.next + 1) % n
	}
	t.last = max(t.last, now)
	if len(t.times) < n {
		return false
	}
	oldest := t.times[t.next] // with a full ring, the slot to overwrite next
	if now-oldest >= w || now < t.quiet {
		return false
	}
	t.quiet = now + w
	return true
}

// evict makes room: first keys without a failure within Window (they can
// neither fire nor be quiet), then, if that is not a tenth, arbitrary ones.
func (st *alertState) evict(now int64) {
	w := int64(st.rule.Window)
	for k, t := range st.keys {
		if now-t.last >= w {
			delete(st.keys, k)
		}
	}
	for k := range st.keys {
		if len(st.keys) < st.maxKeys*9/10 {
			break
		}
		delete(st.keys, k)
	}
}
