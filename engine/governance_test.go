package engine_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

const day = 24 * time.Hour

// govObserver collects observed events; read them after Close (the
// observer is called off the request path).
type govObserver struct {
	mu  sync.Mutex
	evs []engine.Event
}

func (o *govObserver) Observe(ev engine.Event) {
	o.mu.Lock()
	o.evs = append(o.evs, ev)
	o.mu.Unlock()
}

func (o *govObserver) ofType(typ string) []engine.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []engine.Event
	for _, ev := range o.evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// govAudit flushes and returns the tenant's audit events of type typ.
func (f *fixture) govAudit(typ string) []engine.Event {
	f.t.Helper()
	require.NoError(f.t, f.eng.Flush(f.ctx))
	evs, _, err := f.eng.ListAudit(f.ctx, f.admin, f.tenant, store.AuditQuery{Type: typ}, store.Page{Limit: store.MaxPageLimit})
	require.NoError(f.t, err)
	return evs
}

// govUsage reads a token's stored usage record.
func (f *fixture) govUsage(tokenID string) store.UsageRecord {
	f.t.Helper()
	var u store.UsageRecord
	require.NoError(f.t, f.st.View(f.ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.Tenant(f.tenant).Usage().Get(f.ctx, tokenID)
		return err
	}))
	return u
}

func (f *fixture) govReview(opts engine.ReviewOptions) engine.Review {
	f.t.Helper()
	r, err := f.eng.Review(f.ctx, f.admin, f.tenant, opts)
	require.NoError(f.t, err)
	return r
}

func govToken(t *testing.T, r engine.Review, id string) engine.TokenReview {
	t.Helper()
	tr, ok := r.Token(id)
	require.True(t, ok, "token %s is in the review", id)
	return tr
}

// A token used only with View Users and View Licenses for the window is
// reported with its unused permission View Products and the suggested set
// {View Users, View Licenses}; RemoveUnusedPermissions applies it.
func TestReviewUnusedPermissions(t *testing.T) {
	f := newFixture(t)
	ct := f.token(f.admin, permission.ViewUsers, permission.ViewLicenses, permission.ViewProducts)
	// View Products was used once, long before the window.
	_, p := f.login(ct)
	_, _, err := f.eng.ListProducts(f.ctx, p, f.tenant, store.Page{})
	require.NoError(t, err)
	f.clock.Advance(100 * day)

	// Then, every day for 30 days: users and licenses only, through
	// operations and through a host route guarded by Authorize.
	for range 30 {
		_, p := f.login(ct)
		_, _, err := f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
		require.NoError(t, err)
		_, _, err = f.eng.ListLicenses(f.ctx, p, f.tenant, store.Page{})
		require.NoError(t, err)
		require.NoError(t, f.eng.Authorize(context.Background(), p, permission.ViewLicenses))
		f.clock.Advance(day)
	}

	r := f.govReview(engine.ReviewOptions{Window: 90 * day})
	tr := govToken(t, r, ct.Token.ID)
	require.Equal(t, permission.NewSet(permission.ViewProducts), tr.UnusedPermissions)
	require.Equal(t, permission.NewSet(permission.ViewUsers, permission.ViewLicenses), tr.SuggestedPermissions)
	require.True(t, tr.Has(engine.FindingUnusedPermissions), tr.Findings)
	require.False(t, tr.Has(engine.FindingNeverUsed))
	require.False(t, tr.Has(engine.FindingStale))
	require.Len(t, r.With(engine.FindingUnusedPermissions), 1)
	// Each day: one exchange and one authenticated request.
	require.EqualValues(t, 60, tr.Requests)
	require.Len(t, tr.DailyRequests, 30)
	require.Equal(t, f.addr.String(), tr.LastUsedAddr)
	require.Equal(t, f.clock.Now().Add(-day), tr.LastUsedAt)
	require.Contains(t, tr.PermissionLastUsed, "products:view", "last use is kept beyond the window")
	require.Equal(t, r.WindowStart, tr.ObservedSince)

	// With a window that reaches back to the first use, nothing is unused.
	tr = govToken(t, f.govReview(engine.ReviewOptions{Window: 200 * day}), ct.Token.ID)
	require.True(t, tr.UnusedPermissions.IsEmpty())
	require.False(t, tr.Has(engine.FindingUnusedPermissions))

	// A principal needs audit:view; admins may.
	_, auditor := f.login(f.token(f.admin, permission.ViewAudit))
	_, err = f.eng.Review(f.ctx, auditor, f.tenant, engine.ReviewOptions{})
	require.NoError(t, err)
	_, _, err = f.eng.ListUsers(f.ctx, auditor, f.tenant, store.Page{})
	require.ErrorIs(t, err, engine.ErrAccessDenied)
	_, nope := f.login(f.token(f.admin, permission.ViewUsers))
	_, err = f.eng.Review(f.ctx, nope, f.tenant, engine.ReviewOptions{})
	require.ErrorIs(t, err, engine.ErrAccessDenied)
	_, err = f.eng.Review(f.ctx, f.admin, f.tenant, engine.ReviewOptions{Window: -day})
	require.ErrorIs(t, err, engine.ErrInvalidInput)

	// Apply the suggestion: admins only, audited.
	outstanding := f.accessToken(ct)
	_, err = f.eng.RemoveUnusedPermissions(f.ctx, auditor, f.tenant, ct.Token.ID, 90*day)
	require.ErrorIs(t, err, engine.ErrAccessDenied)
	tok, err := f.eng.RemoveUnusedPermissions(f.ctx, f.admin, f.tenant, ct.Token.ID, 90*day)
	require.NoError(t, err)
	require.Equal(t, permission.NewSet(permission.ViewUsers, permission.ViewLicenses), tok.Permissions)
	evs := f.govAudit(engine.EventTokenPermissions)
	require.Len(t, evs, 1)
	require.Equal(t, "unused_permissions", evs[0].Reason)
	require.Equal(t, "users:view,products:view,licenses:view", evs[0].Details["before"])
	require.Equal(t, "users:view,licenses:view", evs[0].Details["after"])
	require.Equal(t, "admin:"+f.admin.UserID, evs[0].Actor)
	// Nothing left to remove: unchanged, no event.
	tok, err = f.eng.RemoveUnusedPermissions(f.ctx, f.admin, f.tenant, ct.Token.ID, 90*day)
	require.NoError(t, err)
	require.Equal(t, permission.NewSet(permission.ViewUsers, permission.ViewLicenses), tok.Permissions)
	require.Len(t, f.govAudit(engine.EventTokenPermissions), 1)
	// The narrowing holds at once for outstanding access tokens.
	p, err = f.eng.Authenticate(f.ctx, outstanding, f.addr)
	require.NoError(t, err)
	_, _, err = f.eng.ListProducts(f.ctx, p, f.tenant, store.Page{})
	require.ErrorIs(t, err, engine.ErrAccessDenied)
}

// The review's other findings: never used, stale, no expiry, expiring,
// expired, due for rotation; deleted tokens are left out.
func TestReviewFindings(t *testing.T) {
	f := newFixture(t)
	_, err := f.eng.SetTenantPolicy(f.ctx, f.admin, f.tenant, tenant.Policy{MaxTokenAge: 90 * day})
	require.NoError(t, err)
	start := f.clock.Now()
	mk := func(name string, expires time.Time) engine.CreatedUserToken {
		ct, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{
			UserID: f.admin.UserID, Name: name, Permissions: permission.NewSet(permission.ViewUsers), ExpiresAt: expires,
		})
		require.NoError(t, err)
		return ct
	}
	old := mk("old, used once", time.Time{})
	_, p := f.login(old)
	_, _, err = f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
	require.NoError(t, err)
	never := mk("never used", start.Add(365*day))
	gone := mk("deleted", time.Time{})
	require.NoError(t, f.eng.DeleteUserToken(f.ctx, f.admin, f.tenant, gone.Token.ID))

	f.clock.Advance(100 * day)
	expiring := mk("expiring", f.clock.Now().Add(10*day))
	expired := mk("expired", f.clock.Now().Add(day))
	fresh := mk("fresh", f.clock.Now().Add(60*day))
	_, p = f.login(fresh)
	_, _, err = f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
	require.NoError(t, err)
	// Rotating makes a new secret: the rotation clock starts again.
	_, err = f.eng.RotateUserToken(f.ctx, f.admin, f.tenant, never.Token.ID)
	require.NoError(t, err)
	f.clock.Advance(2 * day)

	r := f.govReview(engine.ReviewOptions{StaleAfter: 30 * day, ExpiringWithin: 30 * day})
	require.Len(t, r.Tokens, 5, "the deleted token is not reviewed")
	_, ok := r.Token(gone.Token.ID)
	require.False(t, ok)
	require.Equal(t, f.clock.Now().Add(-90*day), r.RotateBefore)
	want := map[string][]engine.Finding{
		old.Token.ID:      {engine.FindingStale, engine.FindingNoExpiry, engine.FindingRotationDue},
		never.Token.ID:    {engine.FindingNeverUsed, engine.FindingStale},
		expiring.Token.ID: {engine.FindingNeverUsed, engine.FindingExpiringSoon},
		expired.Token.ID:  {engine.FindingNeverUsed, engine.FindingExpired},
		fresh.Token.ID:    {},
	}
	for id, findings := range want {
		tr := govToken(t, r, id)
		require.Equal(t, findings, tr.Findings, tr.Token.Name)
	}
	require.Equal(t, start, govToken(t, r, old.Token.ID).LastUsedAt)
	require.True(t, govToken(t, r, never.Token.ID).LastUsedAt.IsZero())

	// The review's JSON names the findings.
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.Contains(t, string(b), `"findings":["stale","no_expiry","rotation_due"]`)
}

// A token unused for N+1 days is stale and, with the tenant's policy on,
// deactivated by the sweep and audited; a token used within N days, or
// reactivated by an admin since, is not.
func TestDeactivateUnusedTokens(t *testing.T) {
	const n = 30 * day
	f := newFixture(t)
	used := f.token(f.admin, permission.ViewUsers)
	_, p := f.login(used)
	_, _, err := f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
	require.NoError(t, err)
	neverUsed := f.token(f.admin, permission.ViewUsers)
	recent := f.token(f.admin, permission.ViewUsers)

	f.clock.Advance(n + day)
	_, p = f.login(recent) // used today
	_, _, err = f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
	require.NoError(t, err)

	r := f.govReview(engine.ReviewOptions{StaleAfter: n})
	require.True(t, govToken(t, r, used.Token.ID).Has(engine.FindingStale))
	require.True(t, govToken(t, r, neverUsed.Token.ID).Has(engine.FindingStale))
	require.False(t, govToken(t, r, recent.Token.ID).Has(engine.FindingStale))

	// Without the policy, the sweep changes nothing.
	require.NoError(t, f.eng.Sweep(f.ctx))
	require.Empty(t, f.govAudit(engine.EventTokenDeactivated))

	_, err = f.eng.SetTenantPolicy(f.ctx, f.admin, f.tenant, tenant.Policy{DeactivateUnusedAfter: n})
	require.NoError(t, err)
	require.NoError(t, f.eng.Sweep(f.ctx))
	evs := f.govAudit(engine.EventTokenDeactivated)
	require.Len(t, evs, 2)
	deactivated := map[string]engine.Event{}
	for _, ev := range evs {
		deactivated[ev.TokenID] = ev
		require.Equal(t, engine.ReasonUnused, ev.Reason)
		require.Equal(t, "system", ev.Actor)
		require.Equal(t, n.String(), ev.Details["after"])
	}
	require.Contains(t, deactivated, used.Token.ID)
	require.Contains(t, deactivated, neverUsed.Token.ID)
	require.Equal(t, f.clock.Now().Add(-n-day).Format(time.RFC3339), deactivated[used.Token.ID].Details["last_used"])
	for id, want := range map[string]store.TokenStatus{
		used.Token.ID: store.TokenDeactivated, neverUsed.Token.ID: store.TokenDeactivated, recent.Token.ID: store.TokenActive,
	} {
		tok, err := f.eng.GetUserToken(f.ctx, f.admin, f.tenant, id)
		require.NoError(t, err)
		require.Equal(t, want, tok.Status)
	}
	// The deactivation holds at once.
	_, err = f.eng.Exchange(f.ctx, used.Token.ID, used.Credential.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)

	// Sweeping again does nothing more; an admin's reactivation restarts
	// the clock.
	require.NoError(t, f.eng.Sweep(f.ctx))
	require.Len(t, f.govAudit(engine.EventTokenDeactivated), 2)
	_, err = f.eng.ReactivateUserToken(f.ctx, f.admin, f.tenant, used.Token.ID)
	require.NoError(t, err)
	f.clock.Advance(day)
	require.NoError(t, f.eng.Sweep(f.ctx))
	require.Len(t, f.govAudit(engine.EventTokenDeactivated), 2)
	f.clock.Advance(n)
	require.NoError(t, f.eng.Sweep(f.ctx))
	require.Len(t, f.govAudit(engine.EventTokenDeactivated), 4, "used (again unused) and recent")
}

// accessToken exchanges ct and returns the access token, not yet used.
func (f *fixture) accessToken(ct engine.CreatedUserToken) string {
	f.t.Helper()
	resp, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
	require.NoError(f.t, err)
	return resp.AccessToken.Reveal()
}

// An alert fires when the N-th failure within W arrives, not before, and
// once per window; it is recorded once in the tenant's audit log and the
// observer hears of it.
func TestAlertFiresOnce(t *testing.T) {
	obs := &govObserver{}
	rule := engine.AlertRule{Name: "five-in-ten", Threshold: 5, Window: 10 * time.Minute, Key: engine.AlertByAddress}
	f := newFixture(t, func(c *engine.Config) {
		c.Observer = obs
		c.AlertRules = []engine.AlertRule{rule}
		c.GuessLimit = tenant.Rate{Limit: 1000, Window: time.Minute, Burst: 1000}
	})
	ct := f.token(f.admin, permission.ViewUsers)
	wrong := secAlterSecret(t, ct.Credential.Reveal())
	attacker := netip.MustParseAddr("203.0.113.7")
	fail := func() {
		t.Helper()
		_, err := f.eng.Exchange(f.ctx, "", wrong, attacker)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
	}
	alerts := func() int { return len(f.govAudit(engine.EventAlertFired)) }

	for i := 1; i < 5; i++ {
		fail()
		f.clock.Advance(time.Minute)
		require.Zero(t, alerts(), "failure %d of 5", i)
	}
	// Another address does not count towards this one.
	_, err := f.eng.Exchange(f.ctx, "", wrong, f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	require.Zero(t, alerts())
	fail() // the 5th within 10 minutes (4 minutes after the first)
	require.Equal(t, 1, alerts())
	for range 20 { // more failures within the window: no more alerts
		fail()
	}
	require.Equal(t, 1, alerts())

	// A window later, the rule can fire again, on the 5th failure within
	// a window.
	f.clock.Advance(11 * time.Minute)
	for range 4 {
		fail()
	}
	require.Equal(t, 1, alerts())
	fail()
	require.Equal(t, 2, alerts())

	// Sliding: 4 failures, 9 minutes, 1 failure: 5 within 10 minutes.
	f.clock.Advance(11 * time.Minute)
	for range 4 {
		fail()
	}
	f.clock.Advance(9 * time.Minute)
	fail()
	require.Equal(t, 3, alerts())
	// But 4, 11 minutes, 1: not.
	f.clock.Advance(11 * time.Minute)
	for range 4 {
		fail()
	}
	f.clock.Advance(11 * time.Minute)
	fail()
	require.Equal(t, 3, alerts())

	evs := f.govAudit(engine.EventAlertFired)
	ev := evs[0]
	require.Equal(t, store.SeverityHigh, ev.Severity)
	require.Equal(t, attacker.String(), ev.ClientAddr)
	require.Equal(t, ct.Token.ID, ev.TokenID)
	require.Equal(t, "five-in-ten", ev.Reason)
	require.Equal(t, map[string]string{
		"rule": "five-in-ten", "key": "address", "threshold": "5", "window": "10m0s", "last_reason": engine.ReasonBadSecret,
	}, ev.Details)

	// Malformed credentials name no tenant: the alert reaches the observer
	// only.
	bot := netip.MustParseAddr("198.51.100.9")
	for range 5 {
		_, err := f.eng.Authenticate(f.ctx, "lkat_garbage", bot)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
	}
	require.Equal(t, 3, alerts())
	require.NoError(t, f.eng.Close())
	observed := obs.ofType(engine.EventAlertFired)
	require.Len(t, observed, 4)
	require.Equal(t, bot.String(), observed[3].ClientAddr)
	require.Empty(t, observed[3].TenantID)
	require.Equal(t, engine.ReasonMalformed, observed[3].Details["last_reason"])
}

// Rules by tenant and by token count what they say; bad rules are refused.
func TestAlertRuleKeys(t *testing.T) {
	f := newFixture(t, func(c *engine.Config) {
		c.AlertRules = []engine.AlertRule{
			{Name: "tenant", Threshold: 3, Window: time.Hour, Key: engine.AlertByTenant},
			{Name: "token", Threshold: 2, Window: time.Hour, Key: engine.AlertByToken},
		}
	})
	a, b := f.token(f.admin, permission.ViewUsers), f.token(f.admin, permission.ViewUsers)
	for i, ct := range []engine.CreatedUserToken{a, b, a} {
		addr := netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)}) // three addresses
		_, err := f.eng.Exchange(f.ctx, "", secAlterSecret(t, ct.Credential.Reveal()), addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken)
	}
	evs := f.govAudit(engine.EventAlertFired)
	require.Len(t, evs, 2)
	byRule := map[string]engine.Event{}
	for _, ev := range evs {
		byRule[ev.Reason] = ev
	}
	require.Equal(t, a.Token.ID, byRule["token"].TokenID)
	require.Equal(t, "tenant", byRule["tenant"].Details["key"])

	for _, rules := range [][]engine.AlertRule{
		{{Name: "", Threshold: 1, Window: time.Minute, Key: engine.AlertByAddress}},
		{{Name: "x", Threshold: 0, Window: time.Minute, Key: engine.AlertByAddress}},
		{{Name: "x", Threshold: engine.MaxAlertThreshold + 1, Window: time.Minute, Key: engine.AlertByAddress}},
		{{Name: "x", Threshold: 1, Window: 0, Key: engine.AlertByAddress}},
		{{Name: "x", Threshold: 1, Window: time.Minute}},
		{{Name: "x", Threshold: 1, Window: time.Minute, Key: engine.AlertByAddress}, {Name: "x", Threshold: 2, Window: time.Minute, Key: engine.AlertByTenant}},
	} {
		_, err := engine.New(engine.Config{Store: f.st, MasterKey: testMasterKey, AlertRules: rules})
		require.Error(t, err, rules)
	}
	require.Len(t, engine.DefaultAlertRules(), 1)
}

// govRandomUserToken is a well-formed user token (valid checksum) for a
// random ID and secret: a stranger's guess.
func govRandomUserToken(t *testing.T, id uuid.UUID) string {
	t.Helper()
	raw := make([]byte, 16+32+4)
	copy(raw, id[:])
	_, err := rand.Read(raw[16:48])
	require.NoError(t, err)
	n := len(raw) - 4
	binary.BigEndian.PutUint32(raw[n:], crc32.Update(crc32.ChecksumIEEE([]byte("lkut_")), crc32.IEEETable, raw[:n]))
	return "lkut_" + secB32.EncodeToString(raw)
}

// A failed authentication with a random token records a reason code and
// the client address, and never what was presented.
func TestFailedAuthenticationRecorded(t *testing.T) {
	obs := &govObserver{}
	f := newFixture(t, func(c *engine.Config) { c.Observer = obs })
	ct := f.token(f.admin, permission.ViewUsers)
	stranger := netip.MustParseAddr("203.0.113.99")

	// A random token for a real token ID: a bad secret, in the tenant's log.
	guess := govRandomUserToken(t, uuid.MustParse(ct.Token.ID))
	_, err := f.eng.Exchange(f.ctx, "", guess, stranger)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	// A random token altogether, and a random access token: no tenant, so
	// the observer and the log only.
	randomID := uuid.New()
	random := govRandomUserToken(t, randomID)
	_, err = f.eng.Exchange(f.ctx, "", random, stranger)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	randomAccess := "lkat_" + secB32.EncodeToString([]byte(random))
	_, err = f.eng.Authenticate(f.ctx, randomAccess, stranger)
	require.ErrorIs(t, err, engine.ErrInvalidToken)

	evs := f.govAudit(engine.EventAuthFailed)
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, engine.ReasonBadSecret, ev.Reason)
	require.Equal(t, stranger.String(), ev.ClientAddr)
	require.Equal(t, ct.Token.ID, ev.TokenID)
	require.Equal(t, store.SeverityWarning, ev.Severity)

	require.NoError(t, f.eng.Close())
	observed := obs.ofType(engine.EventAuthFailed)
	require.Len(t, observed, 3)
	require.Equal(t, engine.ReasonUnknown, observed[1].Reason)
	require.Equal(t, randomID.String(), observed[1].TokenID, "the ID a credential names is not secret")
	require.Equal(t, engine.ReasonMalformed, observed[2].Reason)
	for _, ev := range append(observed, evs...) {
		require.Equal(t, stranger.String(), ev.ClientAddr)
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		for _, s := range []string{guess, random, randomAccess, guess[len("lkut_")+26:], random[len("lkut_")+26:]} {
			require.NotContains(t, string(b), s)
		}
	}
}

// Usage is counted per UTC day, exactly, however the requests interleave
// with flushes, and only the last UsageDays days are kept.
func TestUsageDailyCounts(t *testing.T) {
	f := newFixture(t)
	ct := f.token(f.admin, permission.ViewUsers)
	_, p := f.login(ct) // 2: the exchange and the request
	for range 3 {
		_, err := f.eng.Authenticate(f.ctx, f.accessToken(ct), f.addr) // 2 each
		require.NoError(t, err)
	}
	require.NoError(t, f.eng.Authorize(context.Background(), p, permission.ViewUsers))
	d0 := f.clock.Now().Format(time.DateOnly)
	f.clock.Advance(12 * time.Hour) // past midnight: the next UTC day
	resp, _ := f.login(ct)
	require.NoError(t, f.eng.Flush(f.ctx))
	d1 := f.clock.Now().Format(time.DateOnly)
	other := netip.MustParseAddr("2001:db8::7")
	_, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), other)
	require.NoError(t, err)
	require.NoError(t, f.eng.Flush(f.ctx))

	u := f.govUsage(ct.Token.ID)
	require.Equal(t, map[string]int64{d0: 8, d1: 3}, u.Daily)
	require.Equal(t, other.String(), u.LastUsedAddr)
	require.Equal(t, f.clock.Now(), u.LastUsedAt)
	require.Equal(t, map[string]time.Time{"users:view": f.clock.Now().Add(-12 * time.Hour)}, u.PermissionLastUsed)

	// Reloading a token (here, an admin's change) loses nothing.
	_, err = f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
	require.NoError(t, err)
	_, err = f.eng.SetUserTokenPermissions(f.ctx, f.admin, f.tenant, ct.Token.ID, permission.NewSet(permission.ViewUsers, permission.ViewAudit))
	require.NoError(t, err)
	_, err = f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
	require.NoError(t, err)
	require.NoError(t, f.eng.Flush(f.ctx))
	require.Equal(t, int64(5), f.govUsage(ct.Token.ID).Daily[d1])
	require.Equal(t, f.addr.String(), f.govUsage(ct.Token.ID).LastUsedAddr)

	// 150 days on, the first days are forgotten.
	f.clock.Advance(150 * day)
	f.login(ct)
	require.NoError(t, f.eng.Flush(f.ctx))
	u = f.govUsage(ct.Token.ID)
	require.Equal(t, map[string]int64{f.clock.Now().Format(time.DateOnly): 2}, u.Daily)
	require.Contains(t, u.PermissionLastUsed, "users:view")
}

// Concurrent requests and flushes count every request exactly once.
func TestUsageConcurrentCountsExact(t *testing.T) {
	f := newFixture(t)
	const workers, each = 8, 300
	tokens := make([]engine.CreatedUserToken, 3)
	access := make([]string, len(tokens))
	for i := range tokens {
		tokens[i] = f.token(f.admin, permission.ViewUsers)
		access[i] = f.accessToken(tokens[i]) // 1 request each
	}
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				return
			default:
				if err := f.eng.Flush(f.ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				p, err := f.eng.Authenticate(f.ctx, access[(w+i)%len(access)], f.addr)
				if err == nil {
					err = f.eng.Authorize(context.Background(), p, permission.ViewUsers)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-flushed
	require.NoError(t, f.eng.Flush(f.ctx))
	var total int64
	for _, ct := range tokens {
		for _, n := range f.govUsage(ct.Token.ID).Daily {
			total += n
		}
	}
	require.EqualValues(t, workers*each+len(tokens), total)
}

// Usage survives Close and a reopen of the badger store, and adds up
// with what the next engine records.
func TestUsageSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := badgerstore.Open(dir, badgerstore.Options{DisableSyncWrites: true})
	require.NoError(t, err)
	f := newFixtureWithStore(t, storeNoClose{st})
	ct := f.token(f.admin, permission.ViewUsers, permission.ViewLicenses)
	_, p := f.login(ct)
	_, _, err = f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
	require.NoError(t, err)
	require.NoError(t, f.eng.Close()) // no Flush: Close writes the usage
	require.NoError(t, st.Close())

	st, err = badgerstore.Open(dir, badgerstore.Options{DisableSyncWrites: true})
	require.NoError(t, err)
	g := newFixtureWithStoreTenant(t, st, f.tenant, f.admin)
	tr := govToken(t, g.govReview(engine.ReviewOptions{}), ct.Token.ID)
	require.EqualValues(t, 2, tr.Requests)
	require.Equal(t, f.clock.Now(), tr.LastUsedAt)
	require.Equal(t, f.addr.String(), tr.LastUsedAddr)
	require.Equal(t, permission.NewSet(permission.ViewUsers), tr.SuggestedPermissions)
	require.Equal(t, permission.NewSet(permission.ViewLicenses), tr.UnusedPermissions)

	_, p = g.login(ct)
	_, _, err = g.eng.ListLicenses(g.ctx, p, g.tenant, store.Page{})
	require.NoError(t, err)
	tr = govToken(t, g.govReview(engine.ReviewOptions{}), ct.Token.ID)
	require.EqualValues(t, 4, tr.Requests, "counts of both engines add up")
	require.True(t, tr.UnusedPermissions.IsEmpty())
}

// With usage tracking disabled nothing is recorded, and the unused-token
// policy is not applied (every token would look unused).
func TestUsageTrackingDisabled(t *testing.T) {
	f := newFixture(t, func(c *engine.Config) { c.DisableUsageTracking = true })
	ct := f.token(f.admin, permission.ViewUsers)
	f.login(ct)
	_, err := f.eng.SetTenantPolicy(f.ctx, f.admin, f.tenant, tenant.Policy{DeactivateUnusedAfter: day})
	require.NoError(t, err)
	f.clock.Advance(2 * day)
	require.NoError(t, f.eng.Sweep(f.ctx))
	tr := govToken(t, f.govReview(engine.ReviewOptions{}), ct.Token.ID)
	require.True(t, tr.LastUsedAt.IsZero())
	require.Equal(t, store.TokenActive, tr.Token.Status)
}

// Audit retention deletes old events in the sweep and touches nothing
// else.
func TestAuditRetention(t *testing.T) {
	f := newFixture(t, func(c *engine.Config) { c.AuditRetention = 30 * day })
	old := f.token(f.admin, permission.ViewUsers)
	f.login(old)
	before := f.govAudit("")
	require.NotEmpty(t, before)

	f.clock.Advance(30*day + 30*time.Minute) // past the retention, within the slack
	newer := f.token(f.admin, permission.ViewUsers)
	require.NoError(t, f.eng.Sweep(f.ctx))
	require.Len(t, f.govAudit(""), len(before)+1, "deletion waits for the slack")

	f.clock.Advance(time.Hour)
	require.NoError(t, f.eng.Sweep(f.ctx))
	after := f.govAudit("")
	require.Len(t, after, 1)
	require.Equal(t, newer.Token.ID, after[0].TokenID)
	// Nothing else was touched.
	_, err := f.eng.GetUserToken(f.ctx, f.admin, f.tenant, old.Token.ID)
	require.NoError(t, err)
	f.login(old)

	// Without a retention, nothing is deleted.
	g := newFixture(t)
	g.token(g.admin, permission.ViewUsers)
	n := len(g.govAudit(""))
	g.clock.Advance(1000 * day)
	require.NoError(t, g.eng.Sweep(g.ctx))
	require.Len(t, g.govAudit(""), n)
}

// Recording usage allocates nothing: a warm Authenticate and Authorize
// allocate the Principal and nothing else, with or without tracking.
func TestUsageRecordingAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, disable := range []bool{false, true} {
		f := newFixture(t, func(c *engine.Config) { c.DisableUsageTracking = disable })
		access := f.accessToken(f.token(f.admin, permission.ViewUsers))
		allocs := testing.AllocsPerRun(1000, func() {
			p, err := f.eng.Authenticate(f.ctx, access, f.addr)
			if err != nil {
				panic(err)
			}
			if err := f.eng.Authorize(context.Background(), p, permission.ViewUsers); err != nil {
				panic(err)
			}
		})
		require.Equal(t, 1.0, allocs, "usage tracking disabled: %v", disable)
	}
}

// A tenant's maximum token lifetime refuses tokens that would live longer
// (or forever).
func TestMaxTokenLifetimePolicy(t *testing.T) {
	f := newFixture(t)
	_, err := f.eng.SetTenantPolicy(f.ctx, f.admin, f.tenant, tenant.Policy{MaxTokenLifetime: 90 * day})
	require.NoError(t, err)
	mk := func(expires time.Time) error {
		_, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{
			UserID: f.admin.UserID, Name: "ci", Permissions: permission.NewSet(permission.ViewUsers), ExpiresAt: expires,
		})
		return err
	}
	now := f.clock.Now()
	require.ErrorIs(t, mk(time.Time{}), engine.ErrInvalidInput)
	require.ErrorIs(t, mk(now.Add(91*day)), engine.ErrInvalidInput)
	require.NoError(t, mk(now.Add(90*day)))
	ct, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{
		UserID: f.admin.UserID, Name: "ops", Permissions: permission.Full(), ExpiresAt: now.Add(30 * day),
	})
	require.NoError(t, err)
	_, p := f.login(ct)
	_, err = f.eng.SetTenantPolicy(f.ctx, p, f.tenant, tenant.Policy{})
	require.ErrorIs(t, err, engine.ErrAccessDenied, "a token cannot lift its tenant's policy")
}
