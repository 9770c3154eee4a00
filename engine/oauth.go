package engine

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
)

// TokenResponse is what an exchange or a refresh returns: the OAuth 2.0
// token response. The two tokens are shown once.
type TokenResponse struct {
	AccessToken  Secret
	RefreshToken Secret
	TokenType    string // "Bearer"
	ExpiresIn    time.Duration
	ExpiresAt    time.Time
	Scope        permission.Set
	TokenID      uuid.UUID
	TenantID     string
}

// Authenticate verifies an access token and returns its principal. It
// reads no store when warm: the token's MAC is checked, then the live state
// of its user token (status, generation, expiry, address allowlist), its
// refresh family and its tenant from the engine's cache.
//
// Errors: ErrInvalidToken for every reason a token is refused (the reason
// goes to the audit log), ErrInvalidLicense when the token is good but its
// tenant's platform license is expired or suspended.
func (e *Engine) Authenticate(ctx context.Context, accessToken string, clientAddr netip.Addr) (*Principal, error) {
	p, f, err := e.verifyAccess(ctx, accessToken, clientAddr, true)
	if f.reason != "" {
		var tokenID string
		if f.tokenID != uuid.Nil {
			tokenID = f.tokenID.String()
		}
		e.authFailed(f.tenantID, tokenID, clientAddr, f.reason)
	}
	if p != nil && p.usage != nil {
		p.usage.touch(p.authAt, clientAddr)
	}
	return p, err
}

// refusalInfo says why a credential was refused, for the audit log.
type refusalInfo struct {
	tenantID string
	tokenID  uuid.UUID
	reason   string
}

// verifyAccess is Authenticate without the audit; checkAddr=false skips
// the token's address allowlist (introspection asks about a token, not
// from where it is used).
func (e *Engine) verifyAccess(ctx context.Context, accessToken string, clientAddr netip.Addr, checkAddr bool) (*Principal, refusalInfo, error) {
	if e.closed.Load() {
		return nil, refusalInfo{}, ErrClosed
	}
	var (
		c         accessClaims
		tenantBuf [maxTenantIDLen]byte
	)
	tenantID, ok := parseAccessToken(accessToken, e.keys, &c, &tenantBuf)
	if !ok {
		return nil, refusalInfo{reason: ReasonMalformed}, ErrInvalidToken
	}
	now := e.now() // one clock read serves every check below
	// One read lock finds all three cached states; a miss or a stale
	// entry is loaded below, in the order the checks need them.
	e.cache.mu.RLock()
	ts := e.cache.tenants[string(tenantID)]
	tok := e.cache.tokens[c.tokenID]
	fam := e.cache.families[c.family]
	e.cache.mu.RUnlock()
	var err error
	if ts == nil || ts.stale.Load() || !e.freshAt(ts.loaded.Load(), now) {
		if ts, err = e.reloadTenant(ctx, string(tenantID)); err != nil {
			f, err := e.lookupFailed(err, "", c.tokenID)
			return nil, f, err
		}
	}
	f := refusalInfo{tenantID: ts.id, tokenID: c.tokenID}
	if now.UnixNano() >= c.expires {
		f.reason = ReasonExpired
		return nil, f, ErrInvalidToken
	}
	if tok == nil || !e.freshAt(tok.loaded, now) {
		if tok, err = e.reloadToken(ctx, c.tokenID); err != nil {
			f, err := e.lookupFailed(err, ts.id, c.tokenID)
			return nil, f, err
		}
	}
	if f.reason = tokenRefusal(tok, ts.id, c.generation, now, clientAddr); f.reason != "" {
		if f.reason != ReasonAddress || checkAddr {
			return nil, f, ErrInvalidToken
		}
		f.reason = ""
	}
	if fam == nil || !e.freshAt(fam.loaded, now) {
		if fam, err = e.reloadFamily(ctx, c.family); err != nil {
			f, err := e.lookupFailed(err, ts.id, c.tokenID)
			return nil, f, err
		}
	}
	// The family must belong to this very token (tok is the snapshot of
	// c.tokenID: reloadToken checks the record's ID).
	if fam.revoked || fam.generation != c.generation || fam.tokenUID != c.tokenID || c.tokenID == uuid.Nil {
		f.reason = ReasonFamilyRevoked
		return nil, f, ErrInvalidToken
	}
	if err := ts.license.Load().Check(now); err != nil {
		return nil, refusalInfo{}, err
	}
	return &Principal{
		TenantID:    ts.id,
		TokenID:     c.tokenID,
		UserID:      tok.userID,
		Permissions: c.permissions.Intersect(tok.permissions),
		ExpiresAt:   time.Unix(0, c.expires),
		ClientAddr:  clientAddr,
		family:      c.family,
		generation:  c.generation,
		tenant:      ts,
		usage:       e.usageOf(tok),
		authAt:      now.UnixNano(),
	}, refusalInfo{}, nil
}

// tokenRefusal says why a user token in state tok may not be used for a
// credential of generation gen in tenant tenantID, or "" if it may.
func tokenRefusal(tok *tokenSnap, tenantID string, gen uint64, now time.Time, addr netip.Addr) string {
	switch {
	case tok.tenantID != tenantID:
		return ReasonUnknown
	case !tok.active && tok.status == store.TokenDeactivated:
		return ReasonDeactivated
	case !tok.active:
		return ReasonRevoked
	case !tok.ownerActive:
		return ReasonOwnerInactive
	case tok.generation != gen:
		return ReasonRotated
	case tok.expired(now):
		return ReasonExpired
	case !tok.allows(now, addr):
		return ReasonAddress
	}
	return ""
}

// lookupFailed turns a failed cache load into the caller's error: a
// missing record is an invalid token; a store failure is passed on.
func (e *Engine) lookupFailed(err error, tenantID string, tokenID uuid.UUID) (refusalInfo, error) {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return refusalInfo{tenantID: tenantID, tokenID: tokenID, reason: ReasonUnknown}, ErrInvalidToken
	}
	return refusalInfo{}, err
}

// authFailed audits a failed authentication (its reason code, the token
// it named if any, the client address; never what was presented) and
// counts it for the alert rules.
func (e *Engine) authFailed(tenantID, tokenID string, addr netip.Addr, reason string) {
	ev := Event{
		TenantID: tenantID, Type: EventAuthFailed, Severity: store.SeverityWarning,
		TokenID: tokenID, ClientAddr: addrString(addr), Reason: reason,
	}
	e.audit.enqueue(ev)
	e.alerts.failed(e, ev)
}

// touchToken records a use of the user token id that did not go through
// Authenticate (an exchange or a refresh).
func (e *Engine) touchToken(ctx context.Context, id string, addr netip.Addr, now time.Time) {
	if !e.trackUsage {
		return
	}
	uid, err := uuid.Parse(id)
	if err != nil {
		return
	}
	if tok, err := e.token(ctx, uid, e.now()); err == nil {
		tok.use.touch(now.UnixNano(), addr)
	}
}

// Exchange trades a user token for an access token and a refresh token
// (OAuth 2.0 client credentials: the client ID is the user token's UUID,
// the client secret the user token). clientID may be empty when the caller
// has only the token. The scope is the token's permissions, never wider.
//
// Errors: ErrTooManyAttempts (this address failed too often; nothing was
// checked), ErrInvalidToken, ErrInvalidLicense, ErrLicenseLimit.
func (e *Engine) Exchange(ctx context.Context, clientID, userToken string, clientAddr netip.Addr) (*TokenResponse, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	now := e.now()
	if err := e.guesses.check(clientAddr, now); err != nil {
		return nil, err
	}
	fail := func(tenantID, tokenID, reason string) error {
		e.guesses.fail(clientAddr, now)
		e.authFailed(tenantID, tokenID, clientAddr, reason)
		return ErrInvalidToken
	}
	cred, ok := parseUserToken(userToken)
	if !ok || (clientID != "" && clientID != cred.id.String()) {
		return nil, fail("", "", ReasonMalformed)
	}
	tokenID := cred.id.String()

	// Verify outside the write: most failures never need one.
	var (
		rec   store.UserToken
		owner store.User
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		if rec, err = tx.UserTokenByID(ctx, tokenID); err != nil {
			return err
		}
		owner, err = tokenOwner(ctx, tx, rec)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fail("", tokenID, ReasonUnknown)
	case err != nil:
		return nil, err
	}
	if reason := e.checkUserToken(cred, rec, owner, now, clientAddr); reason != "" {
		return nil, fail(rec.TenantID, tokenID, reason)
	}
	ts, err := e.tenantState(ctx, rec.TenantID)
	if err != nil {
		return nil, err
	}
	if err := e.admit(ctx, ts, now); err != nil {
		return nil, err
	}

	var (
		resp    *TokenResponse
		event   Event
		refusal string
	)
	err = e.update(ctx, func(tx store.Tx) error {
		// The token may have been rotated or deactivated since the check.
		cur, err := tx.Tenant(rec.TenantID).UserTokens().Get(ctx, tokenID)
		if err != nil {
			return err
		}
		owner, err := tokenOwner(ctx, tx, cur)
		if err != nil {
			return err
		}
		if refusal = e.checkUserToken(cred, cur, owner, now, clientAddr); refusal != "" {
			return nil
		}
		resp, event, err = e.startFamily(ctx, tx, cur, clientAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	if refusal != "" {
		return nil, fail(rec.TenantID, tokenID, refusal)
	}
	e.audit.published(event)
	e.touchToken(ctx, tokenID, clientAddr, now)
	return resp, nil
}

// checkUserToken verifies a presented user token against its record and
// says why it is refused, or "".
func (e *Engine) checkUserToken(cred userTokenCredential, rec store.UserToken, owner store.User, now time.Time, addr netip.Addr) string {
	ks := e.keys.lookup(rec.KeyID)
	switch {
	case ks == nil:
		return ReasonUnknownKey
	case !cred.verify(ks, rec.SecretDigest):
		return ReasonBadSecret
	}
	return tokenRefusal(snapToken(rec, owner), rec.TenantID, rec.Generation, now, addr)
}

// admit checks the tenant's license and charges one API request.
func (e *Engine) admit(ctx context.Context, ts *tenantState, now time.Time) error {
	if err := ts.license.Load().Check(now); err != nil {
		return err
	}
	d, err := e.takeAPI(ctx, ts, now)
	if err != nil {
		return err
	}
	if !d.Allowed {
		e.audit.enqueue(Event{TenantID: ts.id, Type: EventLimitReached, Severity: store.SeverityWarning, Reason: quotaAPI})
		return &LimitError{Kind: ErrLicenseLimit, Decision: d}
	}
	return nil
}

// startFamily creates a refresh family for rec and issues its first pair.
func (e *Engine) startFamily(ctx context.Context, tx store.Tx, rec store.UserToken, addr netip.Addr) (*TokenResponse, Event, error) {
	now := e.clock()
	familyID := uuid.New()
	cred, refresh := newRefreshCredential(familyID, 1)
	ks := e.keys.current
	fam := store.RefreshFamily{
		TenantID:        rec.TenantID,
		ID:              familyID.String(),
		UserTokenID:     rec.ID,
		TokenGeneration: rec.Generation,
		Permissions:     rec.Permissions,
		Status:          store.FamilyActive,
		Seq:             1,
		SecretDigest:    cred.digest(ks),
		KeyID:           ks.id,
		CreatedAt:       now,
		RefreshedAt:     now,
		ExpiresAt:       now.Add(e.refreshAbsolute),
	}
	fam.IdleExpiresAt = minTime(now.Add(e.refreshIdle), fam.ExpiresAt)
	if err := tx.Tenant(rec.TenantID).RefreshFamilies().Create(ctx, fam); err != nil {
		return nil, Event{}, err
	}
	ev := Event{
		TenantID: rec.TenantID, Type: EventTokenExchanged, TokenID: rec.ID,
		ClientAddr: addrString(addr), Details: map[string]string{"family": fam.ID},
	}
	if err := e.audit.record(ctx, tx, &ev); err != nil {
		return nil, Event{}, err
	}
	resp := e.issueAccess(rec, fam, ks)
	resp.RefreshToken = NewSecret(refresh)
	return resp, ev, nil
}

// issueAccess makes an access token for rec within fam.
func (e *Engine) issueAccess(rec store.UserToken, fam store.RefreshFamily, ks *keyset) *TokenResponse {
	now := e.now()
	exp := minTime(now.Add(e.accessTTL), fam.ExpiresAt)
	if !rec.ExpiresAt.IsZero() {
		exp = minTime(exp, rec.ExpiresAt)
	}
	tokenID := uuid.MustParse(rec.ID)
	// The scope is what the exchange granted, narrowed by anything the
	// token has lost since: never wider.
	scope := fam.Permissions.Intersect(rec.Permissions)
	c := accessClaims{
		tenantID:    rec.TenantID,
		tokenID:     tokenID,
		family:      uuid.MustParse(fam.ID),
		generation:  rec.Generation,
		permissions: scope,
		expires:     exp.UnixNano(),
	}
	return &TokenResponse{
		AccessToken: NewSecret(c.encode(ks)),
		TokenType:   "Bearer",
		ExpiresIn:   exp.Sub(now),
		ExpiresAt:   exp,
		Scope:       scope,
		TokenID:     tokenID,
		TenantID:    rec.TenantID,
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Refresh redeems a refresh token for a new access token and a new refresh
// token (OAuth 2.0 refresh_token grant). Refresh tokens are single use: the
// one presented stops working. Presenting one that was already used is
// taken as theft (RFC 9700 §4.14.2): the whole family is revoked, every
// access and refresh token of it dies, and a high-severity event is
// audited. Of concurrent refreshes with one token exactly one succeeds.
//
// Errors: ErrTooManyAttempts, ErrInvalidGrant (matches ErrInvalidToken),
// ErrInvalidLicense, ErrLicenseLimit.
func (e *Engine) Refresh(ctx context.Context, refreshToken string, clientAddr netip.Addr) (*TokenResponse, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	now := e.now()
	if err := e.guesses.check(clientAddr, now); err != nil {
		return nil, err
	}
	fail := func(tenantID, tokenID, reason string) error {
		e.guesses.fail(clientAddr, now)
		e.authFailed(tenantID, tokenID, clientAddr, reason)
		return ErrInvalidGrant
	}
	cred, ok := parseRefreshToken(refreshToken)
	if !ok {
		return nil, fail("", "", ReasonMalformed)
	}
	// Check outside the write first: most refusals need none, and the
	// tenant's quota is charged once, only for a refresh that will succeed,
	// not again each time the write below is retried after a conflict.
	var (
		fam   store.RefreshFamily
		token store.UserToken
		owner store.User
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		if fam, err = tx.RefreshFamilyByID(ctx, cred.family.String()); err != nil {
			return err
		}
		if token, err = tx.Tenant(fam.TenantID).UserTokens().Get(ctx, fam.UserTokenID); err != nil {
			return err
		}
		owner, err = tokenOwner(ctx, tx, token)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fail(fam.TenantID, "", ReasonUnknown)
	case err != nil:
		return nil, err
	}
	precheck := e.refreshRefusal(fam, cred, clockFrom(now))
	if precheck == "" {
		precheck = tokenRefusal(snapToken(token, owner), fam.TenantID, fam.TokenGeneration, now, clientAddr)
	}
	if precheck != "" && precheck != ReasonRefreshReused {
		return nil, fail(fam.TenantID, fam.UserTokenID, precheck)
	}
	if precheck == "" {
		ts, err := e.tenantState(ctx, fam.TenantID)
		if err != nil {
			return nil, err
		}
		if err := e.admit(ctx, ts, now); err != nil {
			return nil, err
		}
	}
	var (
		resp    *TokenResponse
		refusal string
		events  []Event
	)
	err = e.update(ctx, func(tx store.Tx) error {
		refusal, resp, events = "", nil, nil
		var err error
		fam, err = tx.RefreshFamilyByID(ctx, cred.family.String())
		if err != nil {
			return err
		}
		stored := clockFrom(now)
		refusal = e.refreshRefusal(fam, cred, stored)
		if refusal == ReasonRefreshReused {
			// A redeemed refresh token, proven by its secret, came back:
			// theft. Revoke the family and keep the revocation.
			fam.Status, fam.RevokedAt, fam.RevokeReason = store.FamilyRevoked, stored, ReasonRefreshReused
			if err := tx.Tenant(fam.TenantID).RefreshFamilies().Update(ctx, fam); err != nil {
				return err
			}
			ev := Event{
				TenantID: fam.TenantID, Type: EventRefreshReuse, Severity: store.SeverityHigh,
				TokenID: fam.UserTokenID, ClientAddr: addrString(clientAddr), Reason: ReasonRefreshReused,
				Details: map[string]string{"family": fam.ID},
			}
			if err := e.audit.record(ctx, tx, &ev); err != nil {
				return err
			}
			events = append(events, ev)
			return nil
		}
		if refusal != "" {
			return nil
		}
		rec, err := tx.Tenant(fam.TenantID).UserTokens().Get(ctx, fam.UserTokenID)
		if err != nil {
			return err
		}
		owner, err := tokenOwner(ctx, tx, rec)
		if err != nil {
			return err
		}
		if refusal = tokenRefusal(snapToken(rec, owner), fam.TenantID, fam.TokenGeneration, now, clientAddr); refusal != "" {
			return nil
		}
		// Rotate: the next refresh token of the chain; the redeemed one
		// joins the used digests, so its return can be proven as reuse.
		cur := e.keys.current
		next, refresh := newRefreshCredential(cred.family, fam.Seq+1)
		fam.UsedDigests = append(fam.UsedDigests, fam.SecretDigest)
		if over := len(fam.UsedDigests) - maxUsedDigests; over > 0 {
			fam.UsedDigests = fam.UsedDigests[over:]
		}
		fam.Seq, fam.SecretDigest, fam.KeyID = next.seq, next.digest(cur), cur.id
		fam.RefreshedAt = stored
		fam.IdleExpiresAt = minTime(stored.Add(e.refreshIdle), fam.ExpiresAt)
		if err := tx.Tenant(fam.TenantID).RefreshFamilies().Update(ctx, fam); err != nil {
			return err
		}
		ev := Event{
			TenantID: fam.TenantID, Type: EventTokenRefreshed, TokenID: fam.UserTokenID,
			ClientAddr: addrString(clientAddr), Details: map[string]string{"family": fam.ID},
		}
		if err := e.audit.record(ctx, tx, &ev); err != nil {
			return err
		}
		events = append(events, ev)
		resp = e.issueAccess(rec, fam, cur)
		resp.RefreshToken = NewSecret(refresh)
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.audit.published(events...)
	if refusal != "" {
		if refusal == ReasonRefreshReused {
			e.invalidateFamily(cred.family)
		}
		return nil, fail(fam.TenantID, fam.UserTokenID, refusal)
	}
	e.touchToken(ctx, fam.UserTokenID, clientAddr, now)
	return resp, nil
}

// maxUsedDigests is how many redeemed refresh tokens of a chain can be
// proven as reuse when they come back.
const maxUsedDigests = 8

// refreshRefusal says why cred cannot be redeemed in fam at stored, or ""
// when it can. ReasonRefreshReused means cred is a redeemed token of the
// chain, proven by its secret; a token whose secret matches nothing is
// only a bad secret, so knowing a family's ID is not enough to end it.
func (e *Engine) refreshRefusal(fam store.RefreshFamily, cred refreshCredential, stored time.Time) string {
	switch {
	case fam.Status != store.FamilyActive:
		return ReasonFamilyRevoked
	case !stored.Before(fam.ExpiresAt) || !stored.Before(fam.IdleExpiresAt):
		return ReasonRefreshExpired
	case cred.seq == fam.Seq:
		if ks := e.keys.lookup(fam.KeyID); ks != nil && cred.verify(ks, fam.SecretDigest) {
			return ""
		}
	case cred.seq < fam.Seq:
		if e.redeemed(fam, cred) {
			return ReasonRefreshReused
		}
	}
	return ReasonBadSecret
}

// redeemed reports whether cred is one of fam's redeemed refresh tokens.
func (e *Engine) redeemed(fam store.RefreshFamily, cred refreshCredential) bool {
	found := false
	for _, ks := range e.keys.byID {
		d := cred.digest(ks)
		for _, used := range fam.UsedDigests {
			if subtle.ConstantTimeCompare(d, used) == 1 {
				found = true
			}
		}
	}
	return found
}

// clockFrom truncates t as the engine stores times.
func clockFrom(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Revoke ends a refresh token or an access token and everything derived
// from the same exchange (its refresh family), as RFC 7009 describes: a
// token that is unknown, malformed or already revoked is not an error.
func (e *Engine) Revoke(ctx context.Context, token string, clientAddr netip.Addr) error {
	if e.closed.Load() {
		return ErrClosed
	}
	now := e.now()
	if err := e.guesses.check(clientAddr, now); err != nil {
		return err
	}
	var familyID uuid.UUID
	cred, isRefresh := parseRefreshToken(token)
	if isRefresh {
		familyID = cred.family
	} else {
		// An access token is genuine by its MAC; its family goes with it.
		var (
			c   accessClaims
			buf [maxTenantIDLen]byte
		)
		if _, ok := parseAccessToken(token, e.keys, &c, &buf); !ok {
			return nil
		}
		familyID = c.family
	}
	// A refresh token revokes only if genuine: the current one or a
	// redeemed one of the chain, proven by its secret. Anything else is a
	// guess, charged to the address like a failed exchange. Checked in a
	// read first, so guesses cost no write.
	genuine := func(fam store.RefreshFamily) bool {
		if !isRefresh {
			return true
		}
		r := e.refreshRefusal(fam, cred, clockFrom(now))
		return r == "" || r == ReasonRefreshReused || r == ReasonRefreshExpired
	}
	var fam store.RefreshFamily
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		fam, err = tx.RefreshFamilyByID(ctx, familyID.String())
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		e.guesses.fail(clientAddr, now)
		return nil
	case err != nil:
		return err
	case fam.Status != store.FamilyActive:
		e.invalidateFamily(familyID)
		return nil
	case !genuine(fam):
		e.guesses.fail(clientAddr, now)
		return nil
	}
	var ev *Event
	err = e.update(ctx, func(tx store.Tx) error {
		ev = nil
		fam, err := tx.RefreshFamilyByID(ctx, familyID.String())
		if err != nil || fam.Status != store.FamilyActive || !genuine(fam) {
			return err
		}
		fam.Status, fam.RevokedAt, fam.RevokeReason = store.FamilyRevoked, e.clock(), "revoked"
		if err := tx.Tenant(fam.TenantID).RefreshFamilies().Update(ctx, fam); err != nil {
			return err
		}
		ev = &Event{
			TenantID: fam.TenantID, Type: EventTokenRevoked, TokenID: fam.UserTokenID,
			ClientAddr: addrString(clientAddr), Details: map[string]string{"family": fam.ID},
		}
		return e.audit.record(ctx, tx, ev)
	})
	e.invalidateFamily(familyID)
	if err != nil || ev == nil {
		return err
	}
	e.audit.published(*ev)
	return nil
}

// Introspection is the RFC 7662 answer about a token.
type Introspection struct {
	Active    bool
	Scope     permission.Set
	ClientID  string // the user token's UUID
	Subject   string // the owning user
	TokenType string // "access_token" or "refresh_token"
	ExpiresAt time.Time
	TenantID  string
}

// Introspect tells an authenticated principal whether token is active. A
// token of another tenant, or any token that is not active, is reported
// only as inactive (RFC 7662 §2.2).
func (e *Engine) Introspect(ctx context.Context, actor Actor, tenantID, token string) (Introspection, error) {
	if err := e.authorize(ctx, actor, tenantID, OpIntrospect); err != nil {
		return Introspection{}, err
	}
	inactive := Introspection{}
	if cred, ok := parseRefreshToken(token); ok {
		var out Introspection
		err := e.st.View(ctx, func(tx store.Tx) error {
			fam, err := tx.RefreshFamilyByID(ctx, cred.family.String())
			if err != nil {
				return err
			}
			ks := e.keys.lookup(fam.KeyID)
			now := e.clock()
			if fam.TenantID != tenantID || fam.Status != store.FamilyActive || cred.seq != fam.Seq ||
				ks == nil || !cred.verify(ks, fam.SecretDigest) ||
				!now.Before(fam.ExpiresAt) || !now.Before(fam.IdleExpiresAt) {
				return nil
			}
			rec, err := tx.Tenant(fam.TenantID).UserTokens().Get(ctx, fam.UserTokenID)
			if err != nil {
				return err
			}
			owner, err := tokenOwner(ctx, tx, rec)
			if err != nil {
				return err
			}
			if r := tokenRefusal(snapToken(rec, owner), tenantID, fam.TokenGeneration, e.now(), netip.Addr{}); r != "" && r != ReasonAddress {
				return nil
			}
			out = Introspection{
				Active: true, Scope: fam.Permissions.Intersect(rec.Permissions), ClientID: rec.ID, Subject: rec.UserID,
				TokenType: "refresh_token", ExpiresAt: fam.IdleExpiresAt, TenantID: tenantID,
			}
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return inactive, err
		}
		return out, nil
	}
	p, _, err := e.verifyAccess(ctx, token, netip.Addr{}, false)
	if err != nil || p.TenantID != tenantID {
		if err != nil && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrInvalidLicense) {
			return inactive, err
		}
		return inactive, nil
	}
	return Introspection{
		Active: true, Scope: p.Permissions, ClientID: p.TokenID.String(), Subject: p.UserID,
		TokenType: "access_token", ExpiresAt: p.ExpiresAt, TenantID: tenantID,
	}, nil
}
