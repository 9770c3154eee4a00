package engine

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// ReviewOptions tune a Review. Zero fields take their defaults.
type ReviewOptions struct {
	// StaleAfter: a token not used for longer (since its creation, if it
	// was never used) is stale. Zero: 30 days.
	StaleAfter time.Duration
	// Window is the period whose use decides which permissions a token
	// needs. Zero: 90 days (a quarter). Daily request counts are kept for
	// UsageDays days, so a longer window counts only those days'
	// requests; permission use is kept however old.
	Window time.Duration
	// ExpiringWithin: a token expiring within it is reported. Zero: 30
	// days.
	ExpiringWithin time.Duration
}

// Defaults of ReviewOptions.
const (
	DefaultReviewStaleAfter     = 30 * 24 * time.Hour
	DefaultReviewWindow         = 90 * 24 * time.Hour
	DefaultReviewExpiringWithin = 30 * 24 * time.Hour
)

// MaxReviewDuration bounds every ReviewOptions field (ten years).
const MaxReviewDuration = 3650 * 24 * time.Hour

func (o ReviewOptions) withDefaults() (ReviewOptions, error) {
	for _, d := range []time.Duration{o.StaleAfter, o.Window, o.ExpiringWithin} {
		if d < 0 || d > MaxReviewDuration {
			return o, invalidInput("review durations must be from 0 to 3650 days")
		}
	}
	o.StaleAfter = orDefault(o.StaleAfter, DefaultReviewStaleAfter)
	o.Window = orDefault(o.Window, DefaultReviewWindow)
	o.ExpiringWithin = orDefault(o.ExpiringWithin, DefaultReviewExpiringWithin)
	return o, nil
}

// Finding is one thing a review reports about a token.
type Finding string

// Findings, in the order a TokenReview lists them.
const (
	// FindingNeverUsed: the token was never used.
	FindingNeverUsed Finding = "never_used"
	// FindingStale: not used for longer than StaleAfter (counted from its
	// creation if it was never used).
	FindingStale Finding = "stale"
	// FindingUnusedPermissions: the token was used within the window
	// without exercising some of its permissions; SuggestedPermissions
	// would have served every request of the window.
	FindingUnusedPermissions Finding = "unused_permissions"
	// FindingNoExpiry: the token never expires.
	FindingNoExpiry Finding = "no_expiry"
	// FindingExpiringSoon: the token expires within ExpiringWithin.
	FindingExpiringSoon Finding = "expiring_soon"
	// FindingExpired: the token has expired (it no longer works).
	FindingExpired Finding = "expired"
	// FindingRotationDue: the token's secret is older than the tenant's
	// maximum token age (tenant.Policy.MaxTokenAge), counted from its
	// creation or last rotation.
	FindingRotationDue Finding = "rotation_due"
)

// Findings lists every finding, in order.
func Findings() []Finding {
	return []Finding{FindingNeverUsed, FindingStale, FindingUnusedPermissions, FindingNoExpiry,
		FindingExpiringSoon, FindingExpired, FindingRotationDue}
}

// TokenReview is one token in a review: what it holds, how it was used,
// and what the review finds.
type TokenReview struct {
	Token UserToken `json:"token"`
	// LastUsedAt and LastUsedAddr describe the token's latest use (an API
	// request, an exchange or a refresh); zero if never used.
	LastUsedAt   time.Time `json:"last_used_at,omitzero"`
	LastUsedAddr string    `json:"last_used_addr,omitempty"`
	// ObservedSince is the start of the evidence: the window's start, or
	// the token's creation if later.
	ObservedSince time.Time `json:"observed_since"`
	// Requests counts the requests within the window; DailyRequests
	// breaks them down per UTC day ("2006-01-02").
	Requests      int64            `json:"requests"`
	DailyRequests map[string]int64 `json:"daily_requests,omitempty"`
	// PermissionLastUsed is when the token last exercised each of the
	// permissions it ever exercised (by code), whatever the window.
	PermissionLastUsed map[string]time.Time `json:"permission_last_used,omitempty"`
	// SuggestedPermissions are the permissions the token holds and
	// exercised within the window: the smallest set that would have
	// served every request of the window. UnusedPermissions are the rest
	// of what it holds.
	SuggestedPermissions permission.Set `json:"suggested_permissions"`
	UnusedPermissions    permission.Set `json:"unused_permissions"`
	// Findings is what the review reports, possibly nothing.
	Findings []Finding `json:"findings"`
}

// Has reports whether the review found f about the token.
func (t TokenReview) Has(f Finding) bool { return slices.Contains(t.Findings, f) }

// Review is the least-privilege review of a tenant's user tokens: every
// token that is not deleted, in ID order, with its usage and findings.
type Review struct {
	TenantID    string    `json:"tenant_id"`
	GeneratedAt time.Time `json:"generated_at"`
	// The cut-offs the findings were judged by.
	WindowStart    time.Time `json:"window_start"`
	StaleBefore    time.Time `json:"stale_before"`
	ExpiringBefore time.Time `json:"expiring_before"`
	// RotateBefore is zero when the tenant sets no MaxTokenAge.
	RotateBefore time.Time     `json:"rotate_before,omitzero"`
	Tokens       []TokenReview `json:"tokens"`
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

// Token returns the review of the token id, and whether it is there.
func (r Review) Token(id string) (TokenReview, bool) {
	for _, t := range r.Tokens {
		if t.Token.ID == id {
			return t, true
		}
	}
	return TokenReview{}, false
}

// Review reviews the tenant's user tokens for least privilege (audit:view;
// admins may): tokens never used, stale tokens, tokens holding
// permissions they did not use within the window (with the set that
// would have served them), tokens without expiry or expiring soon, and
// tokens older than the tenant's rotation policy. Usage recorded but not
// yet flushed is written first, so the review sees every request this
// engine served.
func (e *Engine) Review(ctx context.Context, actor Actor, tenantID string, opts ReviewOptions) (Review, error) {
	if err := e.authorize(ctx, actor, tenantID, OpReview); err != nil {
		return Review{}, err
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return Review{}, err
	}
	if err := e.flushUsage(ctx); err != nil {
		return Review{}, err
	}
	var (
		t      tenant.Tenant
		tokens []store.UserToken
		usage  = map[string]store.UsageRecord{}
	)
	err = e.st.View(ctx, func(tx store.Tx) error {
		var err error
		if t, err = tx.Tenants().Get(ctx, tenantID); err != nil {
			return err
		}
		tt := tx.Tenant(tenantID)
		if tokens, err = listAll(ctx, tt.UserTokens().List); err != nil {
			return err
		}
		recs, err := listAll(ctx, tt.Usage().List)
		for _, u := range recs {
			usage[u.TokenID] = u
		}
		return err
	})
	if err != nil {
		return Review{}, err
	}
	now := e.clock()
	r := Review{
		TenantID: tenantID, GeneratedAt: now,
		WindowStart:    now.Add(-opts.Window),
		StaleBefore:    now.Add(-opts.StaleAfter),
		ExpiringBefore: now.Add(opts.ExpiringWithin),
		Tokens:         []TokenReview{},
	}
	if t.Policy.MaxTokenAge > 0 {
		r.RotateBefore = now.Add(-t.Policy.MaxTokenAge)
	}
	for _, rec := range tokens {
		if rec.Status == store.TokenDeleted {
			continue
		}
		r.Tokens = append(r.Tokens, reviewToken(r, now, rec, usage[rec.ID]))
	}
	return r, nil
}

// reviewToken judges one token by the cut-offs of r.
func reviewToken(r Review, now time.Time, rec store.UserToken, u store.UsageRecord) TokenReview {
	tr := TokenReview{
		Token: tokenView(rec), LastUsedAt: u.LastUsedAt, LastUsedAddr: u.LastUsedAddr,
		ObservedSince: r.WindowStart, PermissionLastUsed: u.PermissionLastUsed, Findings: []Finding{},
	}
	if rec.CreatedAt.After(tr.ObservedSince) {
		tr.ObservedSince = rec.CreatedAt
	}
	first := dayKey(unixDay(r.WindowStart.UnixNano()))
	for day, n := range u.Daily {
		if day >= first {
			if tr.DailyRequests == nil {
				tr.DailyRequests = map[string]int64{}
			}
			tr.DailyRequests[day] = n
			tr.Requests += n
		}
	}
	used := usedSince(u, r.WindowStart)
	tr.SuggestedPermissions = rec.Permissions.Intersect(used)
	tr.UnusedPermissions = rec.Permissions.Difference(used)

	seen := u.LastUsedAt
	if seen.IsZero() {
		tr.Findings = append(tr.Findings, FindingNeverUsed)
		seen = rec.CreatedAt
	}
	if seen.Before(r.StaleBefore) {
		tr.Findings = append(tr.Findings, FindingStale)
	}
	if !tr.UnusedPermissions.IsEmpty() && !u.LastUsedAt.Before(r.WindowStart) {
		tr.Findings = append(tr.Findings, FindingUnusedPermissions)
	}
	switch {
	case rec.ExpiresAt.IsZero():
		tr.Findings = append(tr.Findings, FindingNoExpiry)
	case !now.Before(rec.ExpiresAt):
		tr.Findings = append(tr.Findings, FindingExpired)
	case rec.ExpiresAt.Before(r.ExpiringBefore):
		tr.Findings = append(tr.Findings, FindingExpiringSoon)
	}
	if !r.RotateBefore.IsZero() && secretSince(rec).Before(r.RotateBefore) {
		tr.Findings = append(tr.Findings, FindingRotationDue)
	}
	return tr
}

// usedSince is the set of permissions u exercised at or after since.
func usedSince(u store.UsageRecord, since time.Time) permission.Set {
	var used permission.Set
	for code, at := range u.PermissionLastUsed {
		if at.Before(since) {
			continue
		}
		if p, err := permission.Lookup(code); err == nil {
			used = used.Add(p)
		}
	}
	return used
}

// secretSince is when the token's current secret was made.
func secretSince(rec store.UserToken) time.Time {
	if rec.RotatedAt.After(rec.CreatedAt) {
		return rec.RotatedAt
	}
	return rec.CreatedAt
}

// listAll pages through a whole store listing.
func listAll[T any](ctx context.Context, list func(context.Context, store.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		items, next, err := list(ctx, page)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		page.After = next
	}
}

// RemoveUnusedPermissions narrows a user token to the permissions it
// exercised within window (zero: DefaultReviewWindow): the review's
// SuggestedPermissions, applied. Admins and the system only, as for
// SetUserTokenPermissions; the change is audited as a permission change
// with the reason "unused_permissions". A token that used everything it
// holds is returned unchanged, with no event.
func (e *Engine) RemoveUnusedPermissions(ctx context.Context, actor Actor, tenantID, tokenID string, window time.Duration) (UserToken, error) {
	if err := e.authorize(ctx, actor, tenantID, OpSetUserTokenPermissions); err != nil {
		return UserToken{}, err
	}
	opts, err := ReviewOptions{Window: window}.withDefaults()
	if err != nil {
		return UserToken{}, err
	}
	if err := e.flushUsage(ctx); err != nil {
		return UserToken{}, err
	}
	since := e.clock().Add(-opts.Window)
	ev := Event{
		TenantID: tenantID, Type: EventTokenPermissions, Actor: actorName(actor), TokenID: tokenID,
		Reason: "unused_permissions", Details: map[string]string{"window": opts.Window.String()},
	}
	rec, err := e.changeTokenTx(ctx, ev, func(tx store.Tx, r *store.UserToken) error {
		if r.Status == store.TokenDeleted {
			return ErrNotFound
		}
		u, err := tx.Tenant(tenantID).Usage().Get(ctx, r.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		narrowed := r.Permissions.Intersect(usedSince(u, since))
		if narrowed.Equal(r.Permissions) {
			return errUnchanged
		}
		r.Permissions = narrowed
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return e.readToken(ctx, tenantID, tokenID)
	}
	return tokenView(rec), err
}

// errUnchanged ends a change that has nothing to do.
var errUnchanged = errors.New("unchanged")

// readToken reads a token's description without a permission check.
func (e *Engine) readToken(ctx context.Context, tenantID, id string) (UserToken, error) {
	var rec store.UserToken
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Tenant(tenantID).UserTokens().Get(ctx, id)
		return err
	})
	if err != nil {
		return UserToken{}, notFound(err)
	}
	return tokenView(rec), nil
}
