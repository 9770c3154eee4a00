package engine_test

import (
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
)

func TestCompromisedTokenResponse(t *testing.T) {
	f := newFixture(t)
	ct := f.token(f.admin, permission.ViewUsers)
	old, _ := f.login(ct)

	rotated, err := f.eng.RotateUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID)
	require.NoError(t, err)
	require.NotEqual(t, ct.Credential.Reveal(), rotated.Credential.Reveal())

	_, err = f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "old secret")
	_, err = f.eng.Authenticate(f.ctx, old.AccessToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "old access token")
	_, err = f.eng.Refresh(f.ctx, old.RefreshToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "old refresh token")

	fresh, p := f.login(rotated)
	require.Equal(t, ct.Token.ID, p.TokenID.String())
	_, err = f.eng.Refresh(f.ctx, fresh.RefreshToken.Reveal(), f.addr)
	require.NoError(t, err)
}

func TestAccessTokenLifetime(t *testing.T) {
	f := newFixture(t)
	resp, _ := f.login(f.token(f.admin, permission.ViewUsers))
	require.Equal(t, 24*time.Hour, resp.ExpiresIn)

	f.clock.Advance(24*time.Hour - time.Nanosecond)
	_, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
	require.NoError(t, err, "24h - 1ns")
	f.clock.Advance(time.Nanosecond)
	_, err = f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "24h")
}

func TestRefreshRotatesAndReuseRevokesFamily(t *testing.T) {
	f := newFixture(t)
	first, _ := f.login(f.token(f.admin, permission.ViewUsers))

	second, err := f.eng.Refresh(f.ctx, first.RefreshToken.Reveal(), f.addr)
	require.NoError(t, err)
	require.True(t, second.Scope.Equal(permission.NewSet(permission.ViewUsers)), "never wider")
	_, err = f.eng.Authenticate(f.ctx, second.AccessToken.Reveal(), f.addr)
	require.NoError(t, err)

	// Reuse of the first refresh token: theft. The family dies.
	_, err = f.eng.Refresh(f.ctx, first.RefreshToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidGrant)
	_, err = f.eng.Authenticate(f.ctx, second.AccessToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	_, err = f.eng.Refresh(f.ctx, second.RefreshToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
}
