package engine_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"hash/crc32"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/stretchr/testify/require"
)

// hookStore runs afterUpdate after every committed Update and can park
// one View after it has read the store.
type hookStore struct {
	store.Store
	mu          sync.Mutex
	afterUpdate func()
	parkView    chan struct{} // when non-nil, the next View blocks on it after reading
	parked      chan struct{}
}

func (s *hookStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := s.Store.Update(ctx, fn)
	s.mu.Lock()
	h := s.afterUpdate
	s.mu.Unlock()
	if err == nil && h != nil {
		h()
	}
	return err
}

func (s *hookStore) View(ctx context.Context, fn func(store.Tx) error) error {
	err := s.Store.View(ctx, fn)
	s.mu.Lock()
	park, parked := s.parkView, s.parked
	s.parkView = nil
	s.mu.Unlock()
	if park != nil {
		close(parked)
		<-park
	}
	return err
}

// A committed revocation takes effect even when the caller's ctx ends
// right after the commit: the cache entry is dropped, which cannot fail.
func TestRevokeHoldsWhenCallerCancels(t *testing.T) {
	hs := &hookStore{Store: memstore.New()}
	f := newFixtureWithStore(t, hs)
	ct := f.token(f.admin, permission.ViewLicenses)
	resp, _ := f.login(ct) // Authenticate warms the family cache

	ctx, cancel := context.WithCancel(context.Background())
	hs.afterUpdate = cancel // the commit succeeds, then the request ctx ends
	_ = f.eng.Revoke(ctx, resp.RefreshToken.Reveal(), f.addr)
	hs.afterUpdate = nil

	// Retrying the revocation with a healthy ctx does not help.
	require.NoError(t, f.eng.Revoke(f.ctx, resp.RefreshToken.Reveal(), f.addr))

	_, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "revoked family still accepted from the cache")
}

// The same for DeactivateUserToken (and every other token write).
func TestDeactivateHoldsWhenCallerCancels(t *testing.T) {
	hs := &hookStore{Store: memstore.New()}
	f := newFixtureWithStore(t, hs)
	ct := f.token(f.admin, permission.ViewLicenses)
	resp, _ := f.login(ct)

	ctx, cancel := context.WithCancel(context.Background())
	hs.afterUpdate = cancel
	_, err := f.eng.DeactivateUserToken(ctx, f.admin, f.tenant, ct.Token.ID)
	hs.afterUpdate = nil
	require.NoError(t, err) // committed, and the cache was dropped: no reload to fail
	got, err := f.eng.GetUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID)
	require.NoError(t, err)
	require.Equal(t, store.TokenDeactivated, got.Status) // ...but the write is durable

	_, err = f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "deactivated token still accepted from the cache")
}

// A cache load that read the store before a user was deactivated must not
// cache what it read once the deactivation has returned.
func TestOwnerDeactivationBeatsConcurrentLoad(t *testing.T) {
	hs := &hookStore{Store: memstore.New()}
	f := newFixtureWithStore(t, hs)
	m, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: "m@acme.test", Name: "M"})
	require.NoError(t, err)
	ct, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{UserID: m.ID, Name: "x", Permissions: permission.NewSet(permission.ViewLicenses)})
	require.NoError(t, err)
	resp, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr) // tenant state now cached, token not
	require.NoError(t, err)

	park, parked := make(chan struct{}), make(chan struct{})
	hs.mu.Lock()
	hs.parkView, hs.parked = park, parked
	hs.mu.Unlock()
	done := make(chan error)
	go func() { // a request that misses the token cache
		_, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
		done <- err
	}()
	<-parked // it has read the token + owner (active) from the store
	st := store.UserDeactivated
	_, err = f.eng.UpdateUser(f.ctx, f.admin, f.tenant, m.ID, engine.UserPatch{Status: &st})
	require.NoError(t, err) // the admin's write returned
	close(park)
	<-done

	_, err = f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "token of a deactivated user accepted after the write returned")
}

// craftRefresh builds a refresh token for family with seq and a random
// secret: the CRC is not a secret, so anyone can.
func craftRefresh(family uuid.UUID, seq uint64) string {
	var raw [16 + 8 + 32 + 4]byte
	copy(raw[:16], family[:])
	binary.BigEndian.PutUint64(raw[16:24], seq)
	_, _ = rand.Read(raw[24:56])
	c := crc32.Update(crc32.ChecksumIEEE([]byte("lkrt_")), crc32.IEEETable, raw[:56])
	binary.BigEndian.PutUint32(raw[56:], c)
	return "lkrt_" + base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).EncodeToString(raw[:])
}

// Reuse is reuse only when proven by a redeemed token's secret: knowing a
// family's ID (it appears in audit events and inside access tokens) must
// not let anyone end a session or raise a theft alarm.
func TestForgedReuseCannotRevokeFamily(t *testing.T) {
	f := newFixture(t)
	victim := f.token(f.admin, permission.ViewLicenses)
	vresp, _ := f.login(victim)

	// A read-only token with audit:view learns the victim's family ID.
	auditor := f.token(f.admin, permission.ViewAudit)
	_, ap := f.login(auditor)
	evs, _, err := f.eng.ListAudit(f.ctx, ap, f.tenant, store.AuditQuery{Type: engine.EventTokenExchanged, TokenID: victim.Token.ID}, store.Page{})
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	fam := uuid.MustParse(evs[0].Details["family"])

	// Forged "old" refresh token (seq 0, random secret) via the public token endpoint.
	_, err = f.eng.Refresh(f.ctx, craftRefresh(fam, 0), netip.MustParseAddr("198.51.100.66"))
	require.ErrorIs(t, err, engine.ErrInvalidToken)

	_, err = f.eng.Authenticate(f.ctx, vresp.AccessToken.Reveal(), f.addr)
	require.NoError(t, err, "victim's session was revoked by a forged refresh token")
}

func TestForgedRevokeIsRefused(t *testing.T) {
	f := newFixture(t)
	victim := f.token(f.admin, permission.ViewLicenses)
	vresp, _ := f.login(victim)
	// Refresh once so fam.Seq = 2; then seq 1 with a random secret is "older".
	r2, err := f.eng.Refresh(f.ctx, vresp.RefreshToken.Reveal(), f.addr)
	require.NoError(t, err)
	p, err := f.eng.Authenticate(f.ctx, r2.AccessToken.Reveal(), f.addr)
	require.NoError(t, err)
	_ = p
	evs, _, err := f.eng.ListAudit(f.ctx, f.admin, f.tenant, store.AuditQuery{Type: engine.EventTokenExchanged}, store.Page{})
	require.NoError(t, err)
	fam := uuid.MustParse(evs[0].Details["family"])
	require.NoError(t, f.eng.Revoke(f.ctx, craftRefresh(fam, 0), netip.MustParseAddr("198.51.100.66")))
	_, err = f.eng.Authenticate(f.ctx, r2.AccessToken.Reveal(), f.addr)
	require.NoError(t, err, "public /auth/revoke with a forged token (no secret) killed the session")
}

// A token that rotates another receives its credential, so the target may
// hold no more than the rotating token: no permission, no lifetime and no
// address range beyond its own.
func TestRotateStaysWithinActorBounds(t *testing.T) {
	f := newFixture(t)
	restricted, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{
		UserID: f.admin.UserID, Name: "ci", Permissions: permission.NewSet(permission.EditUserTokens, permission.ViewLicenses),
		AllowedCIDRs: []string{"192.0.2.0/24"}, ExpiresAt: f.clock.Now().Add(time.Hour),
	})
	require.NoError(t, err)
	sibling := f.token(f.admin, permission.ViewLicenses) // no CIDR, no expiry
	_, p := f.login(restricted)

	// The sibling would give the restricted token a credential with no
	// expiry and no address range: refused.
	_, err = f.eng.RotateUserToken(f.ctx, p, f.tenant, sibling.Token.ID)
	require.ErrorIs(t, err, engine.ErrAccessDenied)

	// A sibling within the restricted token's bounds may be rotated.
	bounded, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{
		UserID: f.admin.UserID, Name: "ci-2", Permissions: permission.NewSet(permission.ViewLicenses),
		AllowedCIDRs: []string{"192.0.2.128/25"}, ExpiresAt: f.clock.Now().Add(30 * time.Minute),
	})
	require.NoError(t, err)
	_, err = f.eng.RotateUserToken(f.ctx, p, f.tenant, bounded.Token.ID)
	require.NoError(t, err)
}

// users:edit cannot reactivate a user an admin deactivated: that would
// revive every token of theirs, and reactivating a token is admin-only.
func TestUsersEditCannotReactivate(t *testing.T) {
	f := newFixture(t)
	m, err := f.eng.CreateUser(f.ctx, f.admin, f.tenant, engine.NewUser{Email: "m@acme.test", Name: "M"})
	require.NoError(t, err)
	mt, err := f.eng.CreateUserToken(f.ctx, f.admin, f.tenant, engine.NewUserToken{UserID: m.ID, Name: "x", Permissions: permission.NewSet(permission.EditLicenses, permission.ViewLicenses)})
	require.NoError(t, err)
	mresp, _ := f.login(mt)
	off := store.UserDeactivated
	_, err = f.eng.UpdateUser(f.ctx, f.admin, f.tenant, m.ID, engine.UserPatch{Status: &off}) // incident response
	require.NoError(t, err)

	helper := f.token(f.admin, permission.EditUsers)
	_, hp := f.login(helper)
	on := store.UserActive
	_, err = f.eng.UpdateUser(f.ctx, hp, f.tenant, m.ID, engine.UserPatch{Status: &on})
	require.ErrorIs(t, err, engine.ErrAccessDenied, "a token reactivated a user an admin deactivated")
	_, err = f.eng.Authenticate(f.ctx, mresp.AccessToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
}
