package engine_test

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// fastHashing keeps tests quick; the throttling test uses the defaults.
func fastHashing(c *engine.Config) {
	c.Console.PasswordHashing = engine.PasswordHashing{MemoryKiB: 64, Iterations: 1}
}

const adminPassword = "correct horse battery staple"

func (f *fixture) setPassword(a engine.Admin, pw string) {
	f.t.Helper()
	require.NoError(f.t, f.eng.SetPassword(f.ctx, engine.System(), a.TenantID, a.UserID, engine.NewSecret(pw)))
}

func (f *fixture) signIn(tenantID, email, pw string, addr netip.Addr) (*engine.ConsoleSession, engine.Secret, error) {
	return f.eng.SignIn(f.ctx, engine.SignIn{TenantID: tenantID, Email: email, Password: engine.NewSecret(pw), ClientAddr: addr})
}

func TestSignInThrottlingBoundsHashes(t *testing.T) {
	f := newFixture(t) // default (OWASP) argon2id parameters
	f.setPassword(f.admin, adminPassword)
	before := engine.PasswordHashes(f.eng)
	attacker := netip.MustParseAddr("203.0.113.66")
	var throttled int
	for i := range 100 {
		_, _, err := f.signIn(f.tenant, "admin@acme.test", "wrong password "+string(rune('a'+i%26)), attacker)
		require.Error(t, err)
		if _, ok := err.(*engine.LimitError); ok {
			require.ErrorIs(t, err, engine.ErrTooManyAttempts)
			throttled++
		} else {
			require.ErrorIs(t, err, engine.ErrSignInFailed)
		}
	}
	hashes := engine.PasswordHashes(f.eng) - before
	t.Logf("100 wrong passwords from one address: %d password hashes computed, %d attempts refused before hashing", hashes, throttled)
	require.Equal(t, int64(10), hashes, "the address budget (burst 10) bounds the hashes")
	require.Equal(t, 90, throttled)

	// The owner, from another address, still signs in.
	sess, cookie, err := f.signIn(f.tenant, "Admin@Acme.test ", adminPassword, netip.MustParseAddr("198.51.100.7"))
	require.NoError(t, err)
	require.Equal(t, f.admin.UserID, sess.UserID)
	require.False(t, cookie.IsZero())

	// The attacker stays refused, even with the right password, until the
	// budget refills.
	_, _, err = f.signIn(f.tenant, "admin@acme.test", adminPassword, attacker)
	require.ErrorIs(t, err, engine.ErrTooManyAttempts)
	f.clock.Advance(15 * time.Minute)
	_, _, err = f.signIn(f.tenant, "admin@acme.test", adminPassword, attacker)
	require.NoError(t, err)
}

func TestSignInAccountLimitAcrossAddresses(t *testing.T) {
	f := newFixture(t, fastHashing, func(c *engine.Config) {
		c.Console.SignInAccountLimit = tenant.Rate{Limit: 5, Window: time.Hour, Burst: 5}
	})
	f.setPassword(f.admin, adminPassword)
	before := engine.PasswordHashes(f.eng)
	for i := range 20 {
		addr := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		_, _, err := f.signIn(f.tenant, "admin@acme.test", "guess guess guess", addr)
		require.Error(t, err)
	}
	require.Equal(t, int64(5), engine.PasswordHashes(f.eng)-before, "the account budget bounds hashes across addresses")
	// Unknown accounts are limited (and hashed) the same way: no oracle.
	before = engine.PasswordHashes(f.eng)
	for i := range 20 {
		addr := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
		_, _, err := f.signIn(f.tenant, "nobody@acme.test", "guess guess guess", addr)
		require.Error(t, err)
	}
	require.Equal(t, int64(5), engine.PasswordHashes(f.eng)-before)
}

func TestSignInRefusesAllButActiveAdmins(t *testing.T) {
	f := newFixture(t, fastHashing)
	f.setPassword(f.admin, adminPassword)
	member, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: "member@acme.test", Name: "M", Role: store.RoleMember})
	require.NoError(t, err)
	require.NoError(t, f.eng.SetPassword(f.ctx, f.admin, f.tenant, member.ID, engine.NewSecret(adminPassword)))
	nopw, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: "nopw@acme.test", Name: "N", Role: store.RoleAdmin})
	require.NoError(t, err)
	_ = nopw
	other, _ := f.addTenant("globex", tenant.Limits{})

	for _, c := range []struct {
		name, tenant, email, password string
	}{
		{"member", f.tenant, "member@acme.test", adminPassword},
		{"no password", f.tenant, "nopw@acme.test", adminPassword},
		{"wrong password", f.tenant, "admin@acme.test", "not the password"},
		{"unknown email", f.tenant, "ghost@acme.test", adminPassword},
		{"other tenant", other, "admin@acme.test", adminPassword},
		{"unknown tenant", "nope", "admin@acme.test", adminPassword},
		{"malformed tenant", "bad tenant\x00", "admin@acme.test", adminPassword},
		{"empty", f.tenant, "", ""},
		{"overlong password", f.tenant, "admin@acme.test", strings.Repeat("x", 10_000)},
	} {
		t.Run(c.name, func(t *testing.T) {
			sess, cookie, err := f.signIn(c.tenant, c.email, c.password, f.addr)
			require.ErrorIs(t, err, engine.ErrSignInFailed)
			require.Nil(t, sess)
			require.True(t, cookie.IsZero())
		})
	}
	// A deactivated admin cannot sign in either.
	inactive := store.UserDeactivated
	_, err = f.eng.UpdateUser(f.ctx, engine.System(), f.tenant, f.admin.UserID, engine.UserPatch{Status: &inactive})
	require.NoError(t, err)
	_, _, err = f.signIn(f.tenant, "admin@acme.test", adminPassword, netip.MustParseAddr("198.51.100.1"))
	require.ErrorIs(t, err, engine.ErrSignInFailed)

	// The refusals are audited with a reason, never the password.
	require.NoError(t, f.eng.Flush(f.ctx))
	evs, _, err := f.eng.ListAudit(f.ctx, engine.System(), f.tenant, store.AuditQuery{Type: engine.EventSignInFailed}, store.Page{})
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	reasons := map[string]bool{}
	for _, ev := range evs {
		reasons[ev.Reason] = true
		for _, v := range ev.Details {
			require.NotContains(t, v, adminPassword)
		}
	}
	for _, r := range []string{engine.ReasonNotAdmin, engine.ReasonNoPassword, engine.ReasonBadPassword, engine.ReasonNoSuchUser, engine.ReasonUserInactive, engine.ReasonPasswordInput} {
		require.True(t, reasons[r], "reason %s audited", r)
	}
}

func TestSessionLifecycle(t *testing.T) {
	newSignedIn := func(t *testing.T) (*fixture, *engine.ConsoleSession, string) {
		f := newFixture(t, fastHashing, func(c *engine.Config) {
			c.Console.SessionIdleTimeout = 30 * time.Minute
			c.Console.SessionLifetime = 2 * time.Hour
		})
		f.setPassword(f.admin, adminPassword)
		sess, cookie, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
		require.NoError(t, err)
		return f, sess, cookie.Reveal()
	}
	ends := []struct {
		name string
		end  func(f *fixture, sess *engine.ConsoleSession, cookie string)
	}{
		{"sign-out", func(f *fixture, _ *engine.ConsoleSession, cookie string) {
			require.NoError(t, f.eng.SignOut(f.ctx, cookie, f.addr))
		}},
		{"password set by another admin", func(f *fixture, _ *engine.ConsoleSession, _ string) {
			f.setPassword(f.admin, "another long password")
		}},
		{"own password change", func(f *fixture, sess *engine.ConsoleSession, _ string) {
			require.NoError(t, f.eng.ChangePassword(f.ctx, sess, engine.NewSecret(adminPassword), engine.NewSecret("another long password"), f.addr))
		}},
		{"deactivation", func(f *fixture, _ *engine.ConsoleSession, _ string) {
			inactive := store.UserDeactivated
			_, err := f.eng.UpdateUser(f.ctx, engine.System(), f.tenant, f.admin.UserID, engine.UserPatch{Status: &inactive})
			require.NoError(t, err)
		}},
		{"demotion", func(f *fixture, _ *engine.ConsoleSession, _ string) {
			member := store.RoleMember
			_, err := f.eng.UpdateUser(f.ctx, engine.System(), f.tenant, f.admin.UserID, engine.UserPatch{Role: &member})
			require.NoError(t, err)
		}},
		{"deletion", func(f *fixture, _ *engine.ConsoleSession, _ string) {
			require.NoError(t, f.eng.DeleteUser(f.ctx, engine.System(), f.tenant, f.admin.UserID))
		}},
		{"idle timeout", func(f *fixture, _ *engine.ConsoleSession, _ string) { f.clock.Advance(30 * time.Minute) }},
	}
	for _, c := range ends {
		t.Run(c.name, func(t *testing.T) {
			f, sess, cookie := newSignedIn(t)
			got, err := f.eng.AuthenticateSession(f.ctx, cookie, f.addr)
			require.NoError(t, err)
			require.Equal(t, sess.ID, got.ID)
			require.Equal(t, f.admin, got.Admin())
			c.end(f, sess, cookie)
			_, err = f.eng.AuthenticateSession(f.ctx, cookie, f.addr)
			require.ErrorIs(t, err, engine.ErrInvalidSession)
		})
	}

	t.Run("use extends the idle expiry, not the lifetime", func(t *testing.T) {
		f, _, cookie := newSignedIn(t)
		// Used every 20 minutes, the session outlives its 30-minute idle
		// timeout, up to the 2-hour lifetime and not a moment longer.
		for range 5 { // 100 minutes
			f.clock.Advance(20 * time.Minute)
			_, err := f.eng.AuthenticateSession(f.ctx, cookie, f.addr)
			require.NoError(t, err)
		}
		f.clock.Advance(20*time.Minute - time.Microsecond)
		_, err := f.eng.AuthenticateSession(f.ctx, cookie, f.addr)
		require.NoError(t, err)
		f.clock.Advance(time.Microsecond)
		_, err = f.eng.AuthenticateSession(f.ctx, cookie, f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidSession)
	})

	t.Run("each sign-in is a new session", func(t *testing.T) {
		f, sess, cookie := newSignedIn(t)
		sess2, cookie2, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
		require.NoError(t, err)
		require.NotEqual(t, sess.ID, sess2.ID)
		require.NotEqual(t, cookie, cookie2.Reveal())
		require.NotEqual(t, sess.CSRFToken(), sess2.CSRFToken())
		// Signing one out leaves the other.
		require.NoError(t, f.eng.SignOut(f.ctx, cookie, f.addr))
		_, err = f.eng.AuthenticateSession(f.ctx, cookie2.Reveal(), f.addr)
		require.NoError(t, err)
	})

	t.Run("forged and altered cookies", func(t *testing.T) {
		f, _, cookie := newSignedIn(t)
		altered := []byte(cookie)
		i := len(altered) - 10
		if altered[i] == 'a' {
			altered[i] = 'b'
		} else {
			altered[i] = 'a'
		}
		for _, bad := range []string{"", "lkcs_", "junk", cookie + "a", string(altered), strings.Replace(cookie, "lkcs_", "lkut_", 1)} {
			_, err := f.eng.AuthenticateSession(f.ctx, bad, f.addr)
			require.ErrorIs(t, err, engine.ErrInvalidSession, bad)
		}
	})

	t.Run("CSRF token", func(t *testing.T) {
		f, sess, cookie := newSignedIn(t)
		again, err := f.eng.AuthenticateSession(f.ctx, cookie, f.addr)
		require.NoError(t, err)
		require.Equal(t, sess.CSRFToken(), again.CSRFToken(), "stable within a session")
		require.True(t, again.CheckCSRF(sess.CSRFToken()))
		require.False(t, again.CheckCSRF(""))
		require.False(t, again.CheckCSRF(sess.CSRFToken()+"x"))
		require.NotContains(t, cookie, sess.CSRFToken())
	})
}

func TestPasswordRules(t *testing.T) {
	f := newFixture(t, fastHashing)
	for _, bad := range []string{"", "x7#kq", strings.Repeat("é", 11), strings.Repeat("x", 257), "\xff\xfe invalid utf8"} {
		err := f.eng.SetPassword(f.ctx, engine.System(), f.tenant, f.admin.UserID, engine.NewSecret(bad))
		require.ErrorIs(t, err, engine.ErrInvalidInput)
		if len(bad) >= 5 {
			require.NotContains(t, err.Error(), bad, "the password is never echoed")
		}
	}
	require.NoError(t, f.eng.SetPassword(f.ctx, engine.System(), f.tenant, f.admin.UserID, engine.NewSecret(strings.Repeat("é", 12))))

	// An admin sets others' passwords, never their own without the
	// current one (ChangePassword).
	other, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: "second@acme.test", Name: "Second", Role: store.RoleAdmin})
	require.NoError(t, err)
	require.NoError(t, f.eng.SetPassword(f.ctx, f.admin, f.tenant, other.ID, engine.NewSecret(adminPassword)))
	require.ErrorIs(t, f.eng.SetPassword(f.ctx, f.admin, f.tenant, f.admin.UserID, engine.NewSecret(adminPassword)), engine.ErrAccessDenied)

	// No token sets a password, whatever its permissions.
	ct := f.token(f.admin, permission.All()...)
	_, p := f.login(ct)
	err = f.eng.SetPassword(f.ctx, p, f.tenant, f.admin.UserID, engine.NewSecret(adminPassword))
	require.ErrorIs(t, err, engine.ErrAccessDenied)

	// Nor another tenant's admin.
	_, globexAdmin := f.addTenant("globex", tenant.Limits{})
	err = f.eng.SetPassword(f.ctx, globexAdmin, f.tenant, f.admin.UserID, engine.NewSecret(adminPassword))
	require.ErrorIs(t, err, engine.ErrAccessDenied)

	// The hash never leaves the engine.
	u, err := f.eng.GetUser(f.ctx, f.admin, f.tenant, f.admin.UserID)
	require.NoError(t, err)
	require.Empty(t, u.PasswordHash)

	// Changing the password needs the current one.
	f.setPassword(f.admin, adminPassword)
	sess, _, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
	require.NoError(t, err)
	err = f.eng.ChangePassword(f.ctx, sess, engine.NewSecret("not the current one"), engine.NewSecret("a brand new password"), f.addr)
	require.ErrorIs(t, err, engine.ErrSignInFailed)
	_, _, err = f.signIn(f.tenant, "admin@acme.test", "a brand new password", f.addr)
	require.ErrorIs(t, err, engine.ErrSignInFailed)
}

func TestConcurrentSignInsShareHashSlots(t *testing.T) {
	f := newFixture(t, fastHashing, func(c *engine.Config) { c.Console.MaxConcurrentHashes = 1 })
	f.setPassword(f.admin, adminPassword)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
			_, _, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, addr)
			require.NoError(t, err)
		}()
	}
	wg.Wait()
}

func TestTenantStatus(t *testing.T) {
	f := newFixture(t, fastHashing)
	lim := tenant.Limits{APIRequests: 100, APIWindow: time.Minute, MaxUsers: 10}
	tid, admin := f.addTenant("initech", lim)
	ct := f.token(admin, permission.ViewUsers)
	_, p := f.login(ct)
	for range 3 {
		_, _, err := f.eng.ListUsers(f.ctx, p, tid, store.Page{})
		require.NoError(t, err)
	}
	st, err := f.eng.TenantStatus(f.ctx, admin, tid)
	require.NoError(t, err)
	require.NoError(t, st.LicenseError)
	require.Equal(t, int64(100), st.API.Limit)
	require.Equal(t, int64(100-3-1), st.API.Remaining, "three list calls and the exchange")
	require.Equal(t, int64(-1), st.Validations.Remaining)
	require.Equal(t, int64(1), st.Users)
	require.Equal(t, int64(0), st.Licenses)

	_, err = f.eng.TenantStatus(f.ctx, p, tid)
	require.ErrorIs(t, err, engine.ErrAccessDenied)
	_, err = f.eng.TenantStatus(f.ctx, f.admin, tid)
	require.ErrorIs(t, err, engine.ErrAccessDenied)

	_, err = f.eng.SuspendTenant(f.ctx, engine.System(), tid)
	require.NoError(t, err)
	st, err = f.eng.TenantStatus(f.ctx, admin, tid)
	require.NoError(t, err)
	require.ErrorIs(t, st.LicenseError, tenant.ErrInvalidLicense)
}

func TestSignInLockoutResistance(t *testing.T) {
	t.Run("the owner's device outlives the account's budget", func(t *testing.T) {
		f := newFixture(t, fastHashing)
		f.setPassword(f.admin, adminPassword)
		owner := netip.MustParseAddr("198.51.100.7")
		sess, _, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, owner)
		require.NoError(t, err)
		device := sess.DeviceToken().Reveal()
		require.True(t, strings.HasPrefix(device, "lkcd_"))

		// Guessers on many networks spend the account's whole budget (30).
		for i := range 40 {
			addr := netip.AddrFrom4([4]byte{203, 0, byte(i), 1})
			_, _, err := f.signIn(f.tenant, "admin@acme.test", "a wrong password", addr)
			require.Error(t, err)
		}
		fresh := netip.MustParseAddr("192.0.2.200")
		_, _, err = f.signIn(f.tenant, "admin@acme.test", adminPassword, fresh)
		require.ErrorIs(t, err, engine.ErrTooManyAttempts, "without the device token the account is throttled")
		_, _, err = f.eng.SignIn(f.ctx, engine.SignIn{TenantID: f.tenant, Email: "admin@acme.test",
			Password: engine.NewSecret(adminPassword), ClientAddr: fresh, Device: device})
		require.NoError(t, err, "with it the owner signs in")

		// A device token is bound to its account.
		_, globex := f.addTenant("globex", tenant.Limits{})
		require.NoError(t, f.eng.SetPassword(f.ctx, engine.System(), "globex", globex.UserID, engine.NewSecret(adminPassword)))
		for i := range 31 {
			addr := netip.AddrFrom4([4]byte{203, 1, byte(i), 1})
			_, _, _ = f.signIn("globex", "admin@globex.test", "a wrong password", addr)
		}
		_, _, err = f.eng.SignIn(f.ctx, engine.SignIn{TenantID: "globex", Email: "admin@globex.test",
			Password: engine.NewSecret(adminPassword), ClientAddr: fresh, Device: device})
		require.ErrorIs(t, err, engine.ErrTooManyAttempts, "acme's device token does not unlock globex's account")

		// The refusals are audited.
		require.NoError(t, f.eng.Flush(f.ctx))
		evs, _, err := f.eng.ListAudit(f.ctx, engine.System(), f.tenant, store.AuditQuery{Type: engine.EventSignInThrottled}, store.Page{})
		require.NoError(t, err)
		require.NotEmpty(t, evs)
	})

	t.Run("successful sign-ins are given back", func(t *testing.T) {
		f := newFixture(t, fastHashing)
		f.setPassword(f.admin, adminPassword)
		office := netip.MustParseAddr("198.51.100.8")
		for range 50 { // five times the address budget, from one NAT
			_, _, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, office)
			require.NoError(t, err)
		}
	})

	t.Run("a wide network is one budget", func(t *testing.T) {
		f := newFixture(t, fastHashing)
		f.setPassword(f.admin, adminPassword)
		before := engine.PasswordHashes(f.eng)
		// 1,000 /64s of one IPv6 /48, ten tries each: the /48 allows 100.
		for i := range 1000 {
			addr := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, byte(i >> 8), byte(i), 15: 1})
			for range 10 {
				_, _, _ = f.signIn(f.tenant, "nobody@acme.test", "a wrong password", addr)
			}
		}
		require.LessOrEqual(t, engine.PasswordHashes(f.eng)-before, int64(100))
	})

	t.Run("IPv4 clients spread over every shard", func(t *testing.T) {
		f := newFixture(t, fastHashing)
		f.setPassword(f.admin, adminPassword)
		// 20,000 single-try IPv4 clients (more than one shard's share of
		// the tracked addresses), then the owner from one more: not the
		// overflow budget of a full shard.
		for i := range 20_000 {
			addr := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			_, _, _ = f.eng.SignIn(f.ctx, engine.SignIn{TenantID: "nope", Email: "x@y", Password: engine.NewSecret("p"), ClientAddr: addr})
		}
		_, _, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, netip.MustParseAddr("10.200.0.1"))
		require.NoError(t, err)
	})
}

func TestSessionsDoNotComeBack(t *testing.T) {
	for _, c := range []struct {
		name         string
		change, undo engine.UserPatch
	}{
		{"reactivated", engine.UserPatch{Status: ptr(store.UserDeactivated)}, engine.UserPatch{Status: ptr(store.UserActive)}},
		{"promoted again", engine.UserPatch{Role: ptr(store.RoleMember)}, engine.UserPatch{Role: ptr(store.RoleAdmin)}},
		{"email changed back", engine.UserPatch{Email: ptr("other@acme.test")}, engine.UserPatch{Email: ptr("admin@acme.test")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, fastHashing)
			f.setPassword(f.admin, adminPassword)
			_, cookie, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
			require.NoError(t, err)
			_, err = f.eng.UpdateUser(f.ctx, engine.System(), f.tenant, f.admin.UserID, c.change)
			require.NoError(t, err)
			_, err = f.eng.UpdateUser(f.ctx, engine.System(), f.tenant, f.admin.UserID, c.undo)
			require.NoError(t, err)
			_, err = f.eng.AuthenticateSession(f.ctx, cookie.Reveal(), f.addr)
			require.ErrorIs(t, err, engine.ErrInvalidSession)
			// The user signs in afresh.
			_, _, err = f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
			require.NoError(t, err)
		})
	}

	t.Run("sign-out of a refused session ends it", func(t *testing.T) {
		f := newFixture(t, fastHashing)
		f.setPassword(f.admin, adminPassword)
		_, cookie, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
		require.NoError(t, err)
		f.clock.Advance(31 * time.Minute) // idle: refused
		require.NoError(t, f.eng.SignOut(f.ctx, cookie.Reveal(), f.addr))
		var rec store.ConsoleSession
		require.NoError(t, f.st.View(f.ctx, func(tx store.Tx) error {
			id, err := f.eng.AuthenticateSession(f.ctx, cookie.Reveal(), f.addr)
			require.ErrorIs(t, err, engine.ErrInvalidSession)
			require.Nil(t, id)
			list, _, err := tx.Tenant(f.tenant).ConsoleSessions().List(f.ctx, store.Page{})
			require.Len(t, list, 1)
			rec = list[0]
			return err
		}))
		require.Equal(t, store.SessionEnded, rec.Status)
	})
}

func ptr[T any](v T) *T { return &v }

func TestChangePasswordNeedsALiveSession(t *testing.T) {
	f := newFixture(t, fastHashing)
	f.setPassword(f.admin, adminPassword)
	// A session made up by the caller proves nothing.
	forged := &engine.ConsoleSession{TenantID: f.tenant, UserID: f.admin.UserID, Email: "admin@acme.test"}
	err := f.eng.ChangePassword(f.ctx, forged, engine.NewSecret(adminPassword), engine.NewSecret("a brand new password"), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidSession)

	sess, cookie, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
	require.NoError(t, err)
	require.NoError(t, f.eng.SignOut(f.ctx, cookie.Reveal(), f.addr))
	err = f.eng.ChangePassword(f.ctx, sess, engine.NewSecret(adminPassword), engine.NewSecret("a brand new password"), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidSession, "a signed-out session")

	// Guessing the current password is throttled like a sign-in.
	sess, _, err = f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
	require.NoError(t, err)
	before := engine.PasswordHashes(f.eng)
	for range 30 {
		err := f.eng.ChangePassword(f.ctx, sess, engine.NewSecret("guess guess guess"), engine.NewSecret("a brand new password"), f.addr)
		require.Error(t, err)
	}
	require.LessOrEqual(t, engine.PasswordHashes(f.eng)-before, int64(10))
}

func TestShortIdleTimeoutIsExtended(t *testing.T) {
	f := newFixture(t, fastHashing, func(c *engine.Config) { c.Console.SessionIdleTimeout = 30 * time.Second })
	f.setPassword(f.admin, adminPassword)
	_, cookie, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
	require.NoError(t, err)
	for range 10 {
		f.clock.Advance(20 * time.Second)
		_, err := f.eng.AuthenticateSession(f.ctx, cookie.Reveal(), f.addr)
		require.NoError(t, err)
	}
}

func TestStoredHashCostIsBounded(t *testing.T) {
	f := newFixture(t, fastHashing) // 64 KiB, 1 iteration
	f.setPassword(f.admin, adminPassword)
	// A stored hash far costlier than the configured parameters (a
	// corrupted or planted record) is refused without being computed.
	require.NoError(t, f.st.Update(f.ctx, func(tx store.Tx) error {
		u, err := tx.Tenant(f.tenant).Users().Get(f.ctx, f.admin.UserID)
		require.NoError(t, err)
		u.PasswordHash = "$argon2id$v=19$m=1048576,t=64,p=16$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43)
		return tx.Tenant(f.tenant).Users().Update(f.ctx, u)
	}))
	before := engine.PasswordHashes(f.eng)
	_, _, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
	require.ErrorIs(t, err, engine.ErrSignInFailed)
	require.Equal(t, before, engine.PasswordHashes(f.eng))
}

func TestSweepPrunesExpiredSessions(t *testing.T) {
	f := newFixture(t, fastHashing, func(c *engine.Config) { c.Console.SessionLifetime = time.Hour })
	f.setPassword(f.admin, adminPassword)
	_, old, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
	require.NoError(t, err)
	f.clock.Advance(30 * time.Minute)
	_, fresh, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
	require.NoError(t, err)
	count := func() int {
		var n int
		require.NoError(t, f.st.View(f.ctx, func(tx store.Tx) error {
			recs, _, err := tx.Tenant(f.tenant).ConsoleSessions().List(f.ctx, store.Page{})
			n = len(recs)
			return err
		}))
		return n
	}
	require.NoError(t, f.eng.Sweep(f.ctx))
	require.Equal(t, 2, count(), "nothing has expired yet")
	f.clock.Advance(31 * time.Minute) // the first is past its hour
	require.NoError(t, f.eng.Sweep(f.ctx))
	require.Equal(t, 1, count())
	_, err = f.eng.AuthenticateSession(f.ctx, old.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidSession)
	_ = fresh
}

func TestLastActiveAdminStays(t *testing.T) {
	f := newFixture(t, fastHashing)
	member, inactive := store.RoleMember, store.UserDeactivated
	for _, c := range []struct {
		name string
		do   func(actor engine.Actor) error
	}{
		{"demote", func(a engine.Actor) error {
			_, err := f.eng.UpdateUser(f.ctx, a, f.tenant, f.admin.UserID, engine.UserPatch{Role: &member})
			return err
		}},
		{"deactivate", func(a engine.Actor) error {
			_, err := f.eng.UpdateUser(f.ctx, a, f.tenant, f.admin.UserID, engine.UserPatch{Status: &inactive})
			return err
		}},
		{"delete", func(a engine.Actor) error { return f.eng.DeleteUser(f.ctx, a, f.tenant, f.admin.UserID) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorIs(t, c.do(f.admin), engine.ErrInvalidInput, "the last active admin")
		})
	}
	// With a second admin, the first may go.
	second, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: "second@acme.test", Name: "Second", Role: store.RoleAdmin})
	require.NoError(t, err)
	_, err = f.eng.UpdateUser(f.ctx, f.admin, f.tenant, f.admin.UserID, engine.UserPatch{Role: &member})
	require.NoError(t, err)
	// Now the second is the last.
	secondAdmin := engine.Admin{TenantID: f.tenant, UserID: second.ID}
	require.ErrorIs(t, f.eng.DeleteUser(f.ctx, secondAdmin, f.tenant, second.ID), engine.ErrInvalidInput)
	// The host (system) is not held to it.
	require.NoError(t, f.eng.DeleteUser(f.ctx, engine.System(), f.tenant, second.ID))
}

func TestExpiriesTheStoreCanKeep(t *testing.T) {
	f := newFixture(t, fastHashing)
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{UserID: f.admin.UserID, Name: "far", ExpiresAt: far})
	require.ErrorIs(t, err, engine.ErrInvalidInput)
	_, err = f.eng.CreateTenant(f.ctx, engine.System(), engine.NewTenant{ID: "far", Name: "Far",
		License: tenant.License{Plan: "x", Status: tenant.StatusActive, ExpiresAt: far}})
	require.ErrorIs(t, err, engine.ErrInvalidInput)
	_, err = f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{UserID: f.admin.UserID, Name: "ok",
		ExpiresAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
}

func TestRotateUserTokenFrom(t *testing.T) {
	f := newFixture(t, fastHashing)
	ct := f.token(f.admin, permission.ViewUsers)
	gen := ct.Token.Generation
	rotated, err := f.eng.RotateUserTokenFrom(f.ctx, f.admin, f.tenant, ct.Token.ID, gen)
	require.NoError(t, err)
	require.Equal(t, gen+1, rotated.Token.Generation)
	// The same request again (a reloaded form) rotates nothing.
	_, err = f.eng.RotateUserTokenFrom(f.ctx, f.admin, f.tenant, ct.Token.ID, gen)
	require.ErrorIs(t, err, engine.ErrStale)
	_, err = f.eng.Exchange(f.ctx, rotated.Token.ID, rotated.Credential.Reveal(), f.addr)
	require.NoError(t, err, "the credential handed out still works")
}

func TestNamesCannotSpoof(t *testing.T) {
	f := newFixture(t, fastHashing)
	for _, name := range []string{"admin\u202eresu", "a\u200bb", "\u2066x\u2069", "x\ufeff"} {
		_, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: "s@acme.test", Name: name})
		require.ErrorIs(t, err, engine.ErrInvalidInput, "%q", name)
		_, err = f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{UserID: f.admin.UserID, Name: name})
		require.ErrorIs(t, err, engine.ErrInvalidInput, "%q", name)
	}
	// Emoji sequences (zero-width joiners) and right-to-left scripts stay.
	for _, name := range []string{"👩\u200d💻 ops", "שלום", "Zoë"} {
		_, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{UserID: f.admin.UserID, Name: name})
		require.NoError(t, err, "%q", name)
	}
	_, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{UserID: f.admin.UserID, Name: "x", AllowedCIDRs: []string{"<b>x</b>"}})
	require.ErrorIs(t, err, engine.ErrInvalidInput)
	require.NotContains(t, err.Error(), "ParseAddr")
}

func TestTokenActivity(t *testing.T) {
	f := newFixture(t, fastHashing)
	used := f.token(f.admin, permission.ViewUsers)
	idle := f.token(f.admin, permission.ViewUsers)
	_, p := f.login(used)
	_, _, err := f.eng.ListUsers(f.ctx, p, f.tenant, store.Page{})
	require.NoError(t, err)

	ids := []string{used.Token.ID, idle.Token.ID, "not-a-token"}
	got, err := f.eng.TokenActivity(f.ctx, f.admin, f.tenant, ids)
	require.NoError(t, err)
	require.Equal(t, f.clock.Now().UTC().Truncate(time.Microsecond), got[used.Token.ID].LastUsedAt, "seen before any flush")
	require.Equal(t, f.addr.String(), got[used.Token.ID].LastUsedAddr)
	require.NotContains(t, got, idle.Token.ID)
	require.NotContains(t, got, "not-a-token")

	// After a flush the store has it too; a fresh engine reads it there.
	require.NoError(t, f.eng.Flush(f.ctx))
	got2, err := f.eng.TokenActivity(f.ctx, f.admin, f.tenant, ids)
	require.NoError(t, err)
	require.Equal(t, got[used.Token.ID], got2[used.Token.ID])

	// Another tenant's admin sees nothing of it; a token without tokens:edit may not ask.
	_, globex := f.addTenant("globex", tenant.Limits{})
	_, err = f.eng.TokenActivity(f.ctx, globex, f.tenant, ids)
	require.ErrorIs(t, err, engine.ErrAccessDenied)
	other, err := f.eng.TokenActivity(f.ctx, globex, "globex", ids)
	require.NoError(t, err)
	require.Empty(t, other)
	_, err = f.eng.TokenActivity(f.ctx, p, f.tenant, ids)
	require.ErrorIs(t, err, engine.ErrAccessDenied)
}

func TestPasswordsAreNormalized(t *testing.T) {
	f := newFixture(t, fastHashing)
	composed, decomposed := "caf\u00e9 au lait, s'il vous plaît", "cafe\u0301 au lait, s'il vous plaît"
	f.setPassword(f.admin, composed)
	_, _, err := f.signIn(f.tenant, "admin@acme.test", decomposed, f.addr)
	require.NoError(t, err, "the same password, composed differently")
}

func TestConfirmPassword(t *testing.T) {
	f := newFixture(t, fastHashing)
	f.setPassword(f.admin, adminPassword)
	sess, cookie, err := f.signIn(f.tenant, "admin@acme.test", adminPassword, f.addr)
	require.NoError(t, err)
	require.NoError(t, f.eng.ConfirmPassword(f.ctx, sess, engine.NewSecret(adminPassword), f.addr))
	require.ErrorIs(t, f.eng.ConfirmPassword(f.ctx, sess, engine.NewSecret("not it at all"), f.addr), engine.ErrSignInFailed)
	forged := &engine.ConsoleSession{TenantID: f.tenant, UserID: f.admin.UserID}
	require.ErrorIs(t, f.eng.ConfirmPassword(f.ctx, forged, engine.NewSecret(adminPassword), f.addr), engine.ErrInvalidSession)
	require.NoError(t, f.eng.SignOut(f.ctx, cookie.Reveal(), f.addr))
	require.ErrorIs(t, f.eng.ConfirmPassword(f.ctx, sess, engine.NewSecret(adminPassword), f.addr), engine.ErrInvalidSession)
}
