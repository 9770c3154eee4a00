package engine

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// ConsoleConfig configures administrator sign-in and the sessions of the
// admin console (package httpadapter/console). Zero values are the
// documented defaults.
type ConsoleConfig struct {
	// SessionIdleTimeout ends a session that was not used for this long.
	// Zero: 30 minutes.
	SessionIdleTimeout time.Duration
	// SessionLifetime ends a session this long after its sign-in, however
	// it is used. Zero: 12 hours.
	SessionLifetime time.Duration
	// SignInAddrLimit bounds sign-in attempts per client network (an IPv4
	// address, an IPv6 /64). Every attempt is charged before the password
	// hash runs, so a guesser costs at most this many hashes. Zero Limit:
	// 10 per 15 minutes, with a burst of 10.
	SignInAddrLimit tenant.Rate
	// SignInNetworkLimit bounds sign-in attempts per wider network (an
	// IPv4 /24, an IPv6 /48), so that one allocation of many addresses is
	// not many budgets. Zero Limit: 100 per 15 minutes, with a burst of 100.
	SignInNetworkLimit tenant.Rate
	// SignInAccountLimit bounds sign-in attempts per account (tenant and
	// email, whether or not such a user exists), from any address, charged
	// before the hash as well: the guard against guessing from many
	// networks. An attempt that brings the device token of an earlier
	// sign-in to that account (ConsoleSession.DeviceToken) is charged to
	// the device instead, at SignInAddrLimit, so guessers spending the
	// account's budget do not lock out its owner on a known device.
	// Successful sign-ins are given back to every budget. Zero Limit: 30
	// per 15 minutes, with a burst of 30.
	SignInAccountLimit tenant.Rate
	// MaxConcurrentHashes bounds the password hashes computed at once
	// (each takes PasswordHashing.MemoryKiB of memory). Zero: GOMAXPROCS.
	MaxConcurrentHashes int
	// PasswordHashing sets the argon2id parameters. Zero: OWASP's (19 MiB,
	// 2 iterations, 1 lane).
	PasswordHashing PasswordHashing
}

// Errors of sign-in and console sessions.
var (
	// ErrSignInFailed: the tenant, email or password is wrong, or the user
	// is not an active administrator with a password. The error never
	// says which; the audit log does.
	ErrSignInFailed = errors.New("sign-in failed")
	// ErrInvalidSession: a console session cookie is missing, malformed,
	// unknown, expired, signed out, or its user's password, role or status
	// changed since the sign-in.
	ErrInvalidSession = errors.New("invalid session")
)

// Audit events of the console.
const (
	EventSignedIn        = "console.signed_in"
	EventSignInFailed    = "console.sign_in_failed"
	EventSignInThrottled = "console.sign_in_throttled"
	EventSignedOut       = "console.signed_out"
	EventPasswordChanged = "user.password_changed"
)

// Reasons of EventSignInFailed.
const (
	ReasonNoSuchUser    = "unknown_user"
	ReasonBadPassword   = "bad_password"
	ReasonNotAdmin      = "not_admin"
	ReasonNoPassword    = "no_password"
	ReasonUserInactive  = "user_inactive"
	ReasonPasswordInput = "password_too_long"
)

const (
	sessionPrefix = "lkcs_"
	devicePrefix  = "lkcd_"
	deviceRaw     = 16 + 16 // device id | truncated HMAC
	// sessionTouchEvery is how stale a session's last-seen time may get
	// before a use writes it again (a quarter of the idle timeout when
	// that is shorter): the idle expiry is exact to within it, and a busy
	// console costs one write a minute per session, not one per page.
	sessionTouchEvery = time.Minute
)

// ConsoleSession is a signed-in administrator, as AuthenticateSession
// returns it for one request. It never holds the session's secret.
type ConsoleSession struct {
	ID            string
	TenantID      string
	UserID        string
	Email         string
	Name          string
	CreatedAt     time.Time
	IdleExpiresAt time.Time
	ExpiresAt     time.Time

	csrf   string
	proof  sessionProof // the verified cookie: only the engine makes one
	device string       // set by SignIn only
}

// sessionProof is a parsed session cookie.
type sessionProof struct {
	id     uuid.UUID
	secret [secretLen]byte
}

// Admin is the actor of the operations the session performs.
func (s *ConsoleSession) Admin() Admin { return Admin{TenantID: s.TenantID, UserID: s.UserID} }

// CSRFToken is the session's anti-forgery token: a keyed digest of the
// session's ID, so it is the same on every page of the session, differs
// between sessions, and cannot be made without the engine's key. Forms
// carry it; CheckCSRF verifies it.
func (s *ConsoleSession) CSRFToken() string { return s.csrf }

// CheckCSRF reports in constant time whether token is the session's
// anti-forgery token.
func (s *ConsoleSession) CheckCSRF(token string) bool {
	return s.csrf != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// DeviceToken is set on the session SignIn returns: a token naming this
// browser as one that signed in to this account before. The console keeps
// it in a long-lived cookie and passes it back in SignIn.Device, which
// charges the attempt to the device rather than to the account's budget
// (OWASP's device cookies). It grants nothing else. Empty on sessions
// from AuthenticateSession.
func (s *ConsoleSession) DeviceToken() Secret { return NewSecret(s.device) }

// SignIn is one sign-in attempt.
type SignIn struct {
	TenantID string
	Email    string
	Password Secret
	// ClientAddr is the client's address. Attempts without one share one
	// budget (the console always has one: the connection's peer).
	ClientAddr netip.Addr
	// Device is the device token of an earlier sign-in, if the client has
	// one (ConsoleSession.DeviceToken); anything else is ignored.
	Device string
}

// console holds the sign-in state of an Engine.
type console struct {
	idle, lifetime, touch time.Duration
	addrs                 *addrLimiter
	nets                  *keyedLimiter[netip.Prefix]
	accounts, devices     *keyedLimiter[[16]byte]
	hash                  *hasher
}

func newConsole(cfg ConsoleConfig) (*console, error) {
	if cfg.SessionIdleTimeout < 0 || cfg.SessionLifetime < 0 || cfg.MaxConcurrentHashes < 0 {
		return nil, errors.New("engine: Config.Console: negative durations or concurrency")
	}
	addr := cfg.SignInAddrLimit
	if addr.Limit <= 0 {
		addr = tenant.Rate{Limit: 10, Window: 15 * time.Minute, Burst: 10}
	}
	nets := cfg.SignInNetworkLimit
	if nets.Limit <= 0 {
		nets = tenant.Rate{Limit: 100, Window: 15 * time.Minute, Burst: 100}
	}
	account := cfg.SignInAccountLimit
	if account.Limit <= 0 {
		account = tenant.Rate{Limit: 30, Window: 15 * time.Minute, Burst: 30}
	}
	h, err := newHasher(cfg.PasswordHashing, cfg.MaxConcurrentHashes)
	if err != nil {
		return nil, err
	}
	c := &console{
		idle:     orDefault(cfg.SessionIdleTimeout, 30*time.Minute),
		lifetime: orDefault(cfg.SessionLifetime, 12*time.Hour),
		addrs:    newAddrLimiter(addr),
		nets:     newKeyedLimiter[netip.Prefix](nets),
		accounts: newKeyedLimiter[[16]byte](account),
		devices:  newKeyedLimiter[[16]byte](addr),
		hash:     h,
	}
	c.touch = min(sessionTouchEvery, c.idle/4)
	return c, nil
}

// wideNetwork is the key of SignInNetworkLimit: an IPv4 /24, an IPv6 /48.
func wideNetwork(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := 24
	if addr.Is6() {
		bits = 48
	}
	p, _ := addr.Prefix(bits) // the zero Addr gives the zero Prefix
	return p
}

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// accountKey names an account in the limiter without keeping the email
// in memory: a keyed digest of tenant and email.
func (e *Engine) accountKey(tenantID, email string) [16]byte {
	var k [16]byte
	copy(k[:], e.keys.current.credential.sum(nil, []byte("console-account"), []byte(tenantID), []byte{0}, []byte(email)))
	return k
}

// userStamp is what a session keeps of its user: any change of the
// password (even to the same one: a new salt) or of the user's session
// epoch (role, status, email) changes it.
func userStamp(ks *keyset, u store.User) []byte {
	var epoch [8]byte
	binary.BigEndian.PutUint64(epoch[:], u.SessionEpoch)
	return ks.credential.sum(nil, []byte("console-user-stamp"), epoch[:], []byte(u.PasswordHash))
}

// newDeviceToken names a browser that signed in to the account (tenant,
// email): a random device id and a MAC binding it to the account.
func (e *Engine) newDeviceToken(tenantID, email string) string {
	var raw [deviceRaw]byte
	randomBytes(raw[:16])
	copy(raw[16:], e.deviceMAC(raw[:16], tenantID, email))
	return devicePrefix + b32.EncodeToString(raw[:])
}

func (e *Engine) deviceMAC(id []byte, tenantID, email string) []byte {
	return e.keys.current.credential.sum(nil, []byte("console-device"), id, []byte(tenantID), []byte{0}, []byte(email))[:16]
}

// parseDevice returns the id of a device token issued for the account.
func (e *Engine) parseDevice(token, tenantID, email string) ([16]byte, bool) {
	var id [16]byte
	rest, ok := strings.CutPrefix(token, devicePrefix)
	if !ok || len(rest) != b32.EncodedLen(deviceRaw) {
		return id, false
	}
	var raw [deviceRaw]byte
	if n, ok := decodeBase32(raw[:], rest); !ok || n != deviceRaw {
		return id, false
	}
	if subtle.ConstantTimeCompare(e.deviceMAC(raw[:16], tenantID, email), raw[16:]) != 1 {
		return id, false
	}
	copy(id[:], raw[:16])
	return id, true
}

func sessionDigest(ks *keyset, id uuid.UUID, secret *[secretLen]byte) []byte {
	return ks.credential.sum(nil, []byte("console-session"), id[:], secret[:])
}

// SignIn signs a tenant administrator in with email and password and
// returns the new session and its cookie value, shown this once.
//
// Every attempt is charged to the client's network, its wider network
// and the account (or, with a valid device token, the device) before the
// password hash runs; over any limit, SignIn returns a *LimitError
// (ErrTooManyAttempts) without hashing. A successful sign-in is given
// back. Otherwise it returns
// ErrSignInFailed for every wrong tenant, email, password or role alike,
// after the same work (an unknown account verifies a dummy hash).
func (e *Engine) SignIn(ctx context.Context, in SignIn) (*ConsoleSession, Secret, error) {
	if e.closed.Load() {
		return nil, Secret{}, ErrClosed
	}
	c := e.console
	email := normalizeEmail(in.Email)
	now := e.clock()
	charged, err := e.chargeSignIn(ctx, in.TenantID, email, in.ClientAddr, in.Device, now)
	if err != nil {
		return nil, Secret{}, err
	}
	password := in.Password.Reveal()
	var (
		t      tenant.Tenant
		u      store.User
		noUser bool
	)
	if checkTenantID(in.TenantID) != nil || email == "" || len(email) > store.MaxIDLength {
		noUser = true
	} else {
		err := e.st.View(ctx, func(tx store.Tx) error {
			var err error
			if t, err = tx.Tenants().Get(ctx, in.TenantID); err != nil {
				return err
			}
			u, err = tx.Tenant(in.TenantID).Users().GetByEmail(ctx, email)
			return err
		})
		switch {
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
			noUser = true
		case err != nil:
			return nil, Secret{}, err
		}
	}
	fail := func(reason string) (*ConsoleSession, Secret, error) {
		if t.ID != "" { // the audit log is per tenant: an unknown one has none
			e.signInFailed(t.ID, u.ID, in.ClientAddr, reason)
		}
		return nil, Secret{}, ErrSignInFailed
	}
	if len(password) > passwordMaxLen {
		return fail(ReasonPasswordInput)
	}
	stored := u.PasswordHash
	if noUser || stored == "" {
		stored = c.hash.dummy
	}
	if err := c.hash.acquire(ctx); err != nil {
		charged.refund(now)
		return nil, Secret{}, err
	}
	match := c.hash.verify(stored, passwordBytes(password))
	c.hash.release()
	if match && !noUser && u.PasswordHash != "" && u.Status == store.UserActive && u.Role == store.RoleAdmin {
		charged.refund(now)
	}
	switch {
	case noUser:
		return fail(ReasonNoSuchUser)
	case u.PasswordHash == "":
		return fail(ReasonNoPassword)
	case !match:
		return fail(ReasonBadPassword)
	case u.Status != store.UserActive:
		return fail(ReasonUserInactive)
	case u.Role != store.RoleAdmin:
		return fail(ReasonNotAdmin)
	}

	ks := e.keys.current
	id := uuid.New()
	var secret [secretLen]byte
	randomBytes(secret[:])
	now = e.clock()
	rec := store.ConsoleSession{
		TenantID: t.ID, ID: id.String(), UserID: u.ID,
		SecretDigest: sessionDigest(ks, id, &secret), KeyID: ks.id,
		UserStamp: userStamp(ks, u), Status: store.SessionActive,
		ClientAddr: addrString(in.ClientAddr), CreatedAt: now, LastSeenAt: now,
		IdleExpiresAt: now.Add(c.idle), ExpiresAt: now.Add(c.lifetime),
	}
	if rec.IdleExpiresAt.After(rec.ExpiresAt) {
		rec.IdleExpiresAt = rec.ExpiresAt
	}
	ev := Event{
		TenantID: t.ID, Type: EventSignedIn, Actor: "user:" + u.ID, ClientAddr: addrString(in.ClientAddr),
		Details: map[string]string{"session": rec.ID},
	}
	err = e.update(ctx, func(tx store.Tx) error {
		if err := tx.Tenant(t.ID).ConsoleSessions().Create(ctx, rec); err != nil {
			return err
		}
		return e.audit.record(ctx, tx, &ev)
	})
	if err != nil {
		return nil, Secret{}, err
	}
	e.audit.published(ev)
	view := e.sessionView(ks, rec, u, sessionProof{id: id, secret: secret})
	view.device = e.newDeviceToken(t.ID, email)
	return view, NewSecret(encodeSplit(sessionPrefix, id, &secret)), nil
}

// signInCharge is what one sign-in attempt was charged, to give back if
// it succeeds.
type signInCharge struct {
	c         *console
	addr, net netip.Prefix
	key       [16]byte
	device    bool
}

func (s signInCharge) refund(now time.Time) {
	s.c.addrs.keyed.refund(s.addr, now)
	s.c.nets.refund(s.net, now)
	if s.device {
		s.c.devices.refund(s.key, now)
	} else {
		s.c.accounts.refund(s.key, now)
	}
}

// chargeSignIn charges one attempt to the client's network, its wider
// network and the account (or the device, when the attempt brings a valid
// device token for the account), before any hash runs. A refusal by the
// account's budget is audited: it is what guessing from many addresses
// looks like.
func (e *Engine) chargeSignIn(ctx context.Context, tenantID, email string, addr netip.Addr, device string, now time.Time) (signInCharge, error) {
	c := e.console
	ch := signInCharge{c: c, addr: network(addr), net: wideNetwork(addr)}
	if err := c.addrs.keyed.admit(ch.addr, now); err != nil {
		return ch, err
	}
	if err := c.nets.admit(ch.net, now); err != nil {
		c.addrs.keyed.refund(ch.addr, now)
		return ch, err
	}
	var err error
	if id, ok := e.parseDevice(device, tenantID, email); ok {
		ch.key, ch.device = id, true
		err = c.devices.admit(id, now)
	} else {
		ch.key = e.accountKey(tenantID, email)
		if err = c.accounts.admit(ch.key, now); err != nil {
			e.signInThrottled(ctx, tenantID, addr)
		}
	}
	if err != nil {
		c.addrs.keyed.refund(ch.addr, now)
		c.nets.refund(ch.net, now)
	}
	return ch, err
}

// signInFailed audits a refused password (userID empty when no user was
// found) and feeds the alert rules.
func (e *Engine) signInFailed(tenantID, userID string, addr netip.Addr, reason string) {
	ev := Event{
		TenantID: tenantID, Type: EventSignInFailed, Severity: store.SeverityWarning,
		ClientAddr: addrString(addr), Reason: reason,
	}
	if userID != "" {
		ev.Actor = "user:" + userID
	}
	e.audit.enqueue(ev)
	e.alerts.failed(e, ev)
}

// signInThrottled audits a refusal by an account's budget, in tenants that
// exist (the audit log is per tenant; an unknown one has none).
func (e *Engine) signInThrottled(ctx context.Context, tenantID string, addr netip.Addr) {
	if checkTenantID(tenantID) != nil {
		return
	}
	if _, err := e.tenantState(ctx, tenantID); err != nil {
		return
	}
	ev := Event{
		TenantID: tenantID, Type: EventSignInThrottled, Severity: store.SeverityWarning,
		ClientAddr: addrString(addr), Reason: "account_limit",
	}
	e.audit.enqueue(ev)
	e.alerts.failed(e, ev)
}

func (e *Engine) sessionView(ks *keyset, rec store.ConsoleSession, u store.User, proof sessionProof) *ConsoleSession {
	return &ConsoleSession{
		ID: rec.ID, TenantID: rec.TenantID, UserID: rec.UserID, Email: u.Email, Name: u.Name,
		CreatedAt: rec.CreatedAt, IdleExpiresAt: rec.IdleExpiresAt, ExpiresAt: rec.ExpiresAt,
		csrf:  base64.RawURLEncoding.EncodeToString(ks.credential.sum(nil, []byte("console-csrf"), []byte(rec.ID))),
		proof: proof,
	}
}

// loadSession resolves a session cookie to its record and user. With
// live, the session must also be usable now (active, unexpired, its user
// an active admin whose password and epoch are those of the sign-in);
// without, only the cookie's secret is verified (signing out).
// ErrInvalidSession otherwise.
func (e *Engine) loadSession(ctx context.Context, proof sessionProof, now time.Time, live bool) (*keyset, store.ConsoleSession, store.User, error) {
	var (
		rec store.ConsoleSession
		u   store.User
	)
	if proof.id == uuid.Nil {
		return nil, rec, u, ErrInvalidSession
	}
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		if rec, err = tx.ConsoleSessionByID(ctx, proof.id.String()); err != nil {
			return err
		}
		u, err = tx.Tenant(rec.TenantID).Users().Get(ctx, rec.UserID)
		if !live && errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
		return nil, rec, u, ErrInvalidSession
	case err != nil:
		return nil, rec, u, err
	}
	ks := e.keys.lookup(rec.KeyID)
	if ks == nil || subtle.ConstantTimeCompare(sessionDigest(ks, proof.id, &proof.secret), rec.SecretDigest) != 1 {
		return nil, rec, u, ErrInvalidSession
	}
	if !live {
		return ks, rec, u, nil
	}
	switch {
	case rec.Status != store.SessionActive,
		!now.Before(rec.ExpiresAt), !now.Before(rec.IdleExpiresAt),
		u.Status != store.UserActive, u.Role != store.RoleAdmin, u.PasswordHash == "",
		subtle.ConstantTimeCompare(userStamp(ks, u), rec.UserStamp) != 1:
		return nil, rec, u, ErrInvalidSession
	}
	return ks, rec, u, nil
}

func parseSession(cookie string) sessionProof {
	id, secret, ok := parseSplit(sessionPrefix, cookie)
	if !ok {
		return sessionProof{}
	}
	return sessionProof{id: id, secret: secret}
}

// AuthenticateSession resolves a console session cookie to its signed-in
// administrator. The session is checked against its user on every call,
// so signing out, a password change, a role change or deactivating the
// user ends it at once. Use moves the idle expiry forward (written at
// most once a minute). Errors: ErrInvalidSession, or a store error.
func (e *Engine) AuthenticateSession(ctx context.Context, cookie string, clientAddr netip.Addr) (*ConsoleSession, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	now := e.clock()
	proof := parseSession(cookie)
	ks, rec, u, err := e.loadSession(ctx, proof, now, true)
	if err != nil {
		return nil, err
	}
	if now.Sub(rec.LastSeenAt) >= e.console.touch {
		idle := now.Add(e.console.idle)
		if idle.After(rec.ExpiresAt) {
			idle = rec.ExpiresAt
		}
		err := e.update(ctx, func(tx store.Tx) error {
			cur, err := tx.Tenant(rec.TenantID).ConsoleSessions().Get(ctx, rec.ID)
			if err != nil {
				return err
			}
			if cur.Status != store.SessionActive {
				return ErrInvalidSession
			}
			cur.LastSeenAt, cur.IdleExpiresAt = now, idle
			if addr := addrString(clientAddr); addr != "" {
				cur.ClientAddr = addr
			}
			rec = cur
			return tx.Tenant(rec.TenantID).ConsoleSessions().Update(ctx, cur)
		})
		if err != nil {
			return nil, err
		}
	}
	return e.sessionView(ks, rec, u, proof), nil
}

// SignOut ends the session of cookie, whatever state its user is in, so a
// session refused today cannot come back when its user does. Signing out
// a cookie that names no session is not an error: the outcome is the same.
func (e *Engine) SignOut(ctx context.Context, cookie string, clientAddr netip.Addr) error {
	if e.closed.Load() {
		return ErrClosed
	}
	_, rec, _, err := e.loadSession(ctx, parseSession(cookie), e.clock(), false)
	if errors.Is(err, ErrInvalidSession) {
		return nil
	}
	if err != nil {
		return err
	}
	return e.endSession(ctx, rec, "signed_out", clientAddr)
}

func (e *Engine) endSession(ctx context.Context, rec store.ConsoleSession, reason string, clientAddr netip.Addr) error {
	ev := Event{
		TenantID: rec.TenantID, Type: EventSignedOut, Actor: "user:" + rec.UserID, ClientAddr: addrString(clientAddr),
		Reason: reason, Details: map[string]string{"session": rec.ID},
	}
	return e.writeRecord(ctx, rec.TenantID, &ev, func(scope store.TenantTx) error {
		cur, err := scope.ConsoleSessions().Get(ctx, rec.ID)
		if err != nil {
			return err
		}
		if cur.Status != store.SessionActive {
			return nil
		}
		cur.Status, cur.EndedAt, cur.EndReason = store.SessionEnded, e.clock(), reason
		return scope.ConsoleSessions().Update(ctx, cur)
	})
}

// SetPassword sets the console password of a user of the tenant (tenant
// admins and the system only: no token can set a password). An admin sets
// others' passwords; their own they change with ChangePassword, which asks
// for the current one, so a borrowed session cannot take the account. The
// password must have at least 12 characters and at most 256 bytes. Every
// console session of the user ends at once. A member may have a password,
// but only admins can sign in with one.
func (e *Engine) SetPassword(ctx context.Context, actor Actor, tenantID, userID string, password Secret) error {
	if err := e.authorize(ctx, actor, tenantID, OpSetPassword); err != nil {
		return e.adminOnlyError(err, actor, OpSetPassword)
	}
	if a, ok := actor.(Admin); ok && a.UserID == userID {
		return fmt.Errorf("%w: administrators change their own password with ChangePassword", ErrAccessDenied)
	}
	return e.setPassword(ctx, actorName(actor), tenantID, userID, password, "")
}

// setPassword hashes and stores password. With ifHash set, the user's
// stored hash must still be it (a change proven by the current password
// must not overwrite a reset made meanwhile).
func (e *Engine) setPassword(ctx context.Context, actor, tenantID, userID string, password Secret, ifHash string) error {
	if err := checkPassword(password.Reveal()); err != nil {
		return err
	}
	c := e.console
	if err := c.hash.acquire(ctx); err != nil {
		return err
	}
	encoded := c.hash.encode(passwordBytes(password.Reveal()))
	c.hash.release()
	ev := Event{TenantID: tenantID, Type: EventPasswordChanged, Actor: actor, Details: map[string]string{"user": userID}}
	_, err := changeRecord(ctx, e, tenantID, userID, usersColl, &ev, func(_ store.TenantTx, u *store.User) error {
		if ifHash != "" && u.PasswordHash != ifHash {
			return ErrSignInFailed
		}
		u.PasswordHash = encoded
		return nil
	})
	return err
}

// ChangePassword lets a signed-in administrator change their own
// password, proving the current one. s must come from AuthenticateSession
// (or SignIn) and still be live. Every session of the user ends, this one
// too: the console signs in again. The attempt is charged like a sign-in
// (the client's networks and the account) before the hash; a wrong
// current password is ErrSignInFailed.
func (e *Engine) ChangePassword(ctx context.Context, s *ConsoleSession, current, next Secret, clientAddr netip.Addr) error {
	if err := checkPassword(next.Reveal()); err != nil {
		return err
	}
	u, err := e.provePassword(ctx, s, current, clientAddr)
	if err != nil {
		return err
	}
	return e.setPassword(ctx, "user:"+u.ID, u.TenantID, u.ID, next, u.PasswordHash)
}

// ConfirmPassword checks that the administrator signed in to s still
// knows their password, for the console's most powerful actions (making
// an administrator, setting another user's password): a session left
// open or borrowed cannot do them. It is charged and audited like a
// sign-in; a wrong password is ErrSignInFailed.
func (e *Engine) ConfirmPassword(ctx context.Context, s *ConsoleSession, password Secret, clientAddr netip.Addr) error {
	_, err := e.provePassword(ctx, s, password, clientAddr)
	return err
}

// provePassword verifies the password of s's user, s being live, and
// returns the user as stored.
func (e *Engine) provePassword(ctx context.Context, s *ConsoleSession, password Secret, clientAddr netip.Addr) (store.User, error) {
	if e.closed.Load() {
		return store.User{}, ErrClosed
	}
	if s == nil {
		return store.User{}, ErrInvalidSession
	}
	now := e.clock()
	_, rec, u, err := e.loadSession(ctx, s.proof, now, true)
	if err != nil {
		return store.User{}, err
	}
	charged, err := e.chargeSignIn(ctx, rec.TenantID, u.Email, clientAddr, "", now)
	if err != nil {
		return store.User{}, err
	}
	pw := password.Reveal()
	if len(pw) > passwordMaxLen {
		return store.User{}, ErrSignInFailed
	}
	c := e.console
	if err := c.hash.acquire(ctx); err != nil {
		charged.refund(now)
		return store.User{}, err
	}
	ok := c.hash.verify(u.PasswordHash, passwordBytes(pw))
	c.hash.release()
	if !ok {
		e.signInFailed(rec.TenantID, u.ID, clientAddr, ReasonBadPassword)
		return store.User{}, ErrSignInFailed
	}
	charged.refund(now)
	return u, nil
}

// QuotaStatus is one of a tenant's limits and how much of it is left.
type QuotaStatus struct {
	// Limit per Window; zero when unlimited.
	Limit  int64
	Window time.Duration
	Burst  int64
	// Remaining is how many requests would be admitted right now; -1
	// when unlimited.
	Remaining int64
	// ResetAfter is how long until the full burst is available again.
	ResetAfter time.Duration
}

// TenantStatus is a tenant's platform license and its use, for the
// console's tenant page.
type TenantStatus struct {
	Tenant tenant.Tenant
	// LicenseError is why the platform license refuses requests now (it
	// is expired or suspended), or nil.
	LicenseError error
	API          QuotaStatus
	Validations  QuotaStatus
	// Users and Licenses count the tenant's records, against the license's
	// MaxUsers and MaxLicenses.
	Users, Licenses int64
}

// TenantStatus reports the tenant's platform license, its quotas as this
// engine counts them, and its record counts (tenant admins and the
// system). With SharedQuotas the remaining figures are this engine's view:
// admissions leased by other engines are not in them.
func (e *Engine) TenantStatus(ctx context.Context, actor Actor, tenantID string) (TenantStatus, error) {
	if err := e.authorize(ctx, actor, tenantID, OpTenantStatus); err != nil {
		return TenantStatus{}, err
	}
	var st TenantStatus
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		if st.Tenant, err = tx.Tenants().Get(ctx, tenantID); err != nil {
			return notFound(err)
		}
		scope := tx.Tenant(tenantID)
		if st.Users, err = countUpTo(ctx, scope.Users().List, 0); err != nil {
			return err
		}
		st.Licenses, err = countUpTo(ctx, scope.Licenses().List, 0)
		return err
	})
	if err != nil {
		return TenantStatus{}, err
	}
	now := e.now()
	st.LicenseError = st.Tenant.License.Check(now)
	ts, err := e.tenantState(ctx, tenantID)
	if err != nil {
		return TenantStatus{}, err
	}
	lim := st.Tenant.License.Limits
	st.API = quotaStatus(ts.api, lim.APIRequests, lim.APIWindow, lim.APIBurst, now)
	st.Validations = quotaStatus(ts.validate, lim.Validations, lim.ValidationWindow, lim.ValidationBurst, now)
	return st, nil
}

func quotaStatus(l *tenant.Limiter, limit int64, window time.Duration, burst int64, now time.Time) QuotaStatus {
	q := QuotaStatus{Limit: limit, Window: orDefault(window, time.Minute), Burst: burst, Remaining: -1}
	if limit <= 0 {
		return q
	}
	if q.Burst <= 0 {
		q.Burst = limit
	}
	if l != nil {
		d := l.Peek(now)
		q.Remaining, q.ResetAfter = d.Remaining, d.ResetAfter
	}
	return q
}
