package engine_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// ccNoGuessLimit lifts the per-address guessing limit: these tests fail on
// purpose, many times, from one address.
func ccNoGuessLimit(c *engine.Config) {
	c.GuessLimit = tenant.Rate{Limit: 1 << 40, Window: time.Minute}
}

// TestConcurrentRefreshExactlyOneWins: 64 goroutines present the same
// refresh token at once; in each trial exactly one gets a new pair, every
// other gets ErrInvalidGrant (never a store conflict), and (RFC 9700
// §4.14.2) the losers' reuse revokes the family, so the winner's tokens
// die too. 1,000 trials on memstore; badgerstore, whose transactions
// really conflict, runs 50 more.
func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	t.Run("memstore", func(t *testing.T) {
		ccRefreshRace(t, newFixture(t, ccNoGuessLimit), 1000)
	})
	t.Run("badgerstore", func(t *testing.T) {
		st, err := badgerstore.Open(t.TempDir(), badgerstore.Options{})
		require.NoError(t, err)
		ccRefreshRace(t, newFixtureWithStore(t, st, ccNoGuessLimit), 50)
	})
}

func ccRefreshRace(t *testing.T, f *fixture, trials int) {
	const goroutines = 64
	ct := f.token(f.admin, permission.ViewUsers)

	errs := make([]error, goroutines)
	wins := make([]*engine.TokenResponse, goroutines)
	for trial := range trials {
		resp, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
		require.NoError(t, err)
		refresh := resp.RefreshToken.Reveal()

		var (
			start sync.WaitGroup
			done  sync.WaitGroup
			won   atomic.Int32
		)
		start.Add(1)
		for g := range goroutines {
			done.Go(func() {
				start.Wait()
				wins[g], errs[g] = f.eng.Refresh(f.ctx, refresh, f.addr)
				if errs[g] == nil {
					won.Add(1)
				}
			})
		}
		start.Done()
		done.Wait()

		if won.Load() != 1 {
			require.Failf(t, "exactly one refresh must win", "trial %d: %d of %d won", trial, won.Load(), goroutines)
		}
		var winner *engine.TokenResponse
		for g, err := range errs {
			if err == nil {
				winner = wins[g]
				continue
			}
			if !errors.Is(err, engine.ErrInvalidGrant) {
				require.Failf(t, "losers get invalid_grant", "trial %d, goroutine %d: %v", trial, g, err)
			}
		}
		_, err = f.eng.Authenticate(f.ctx, winner.AccessToken.Reveal(), f.addr)
		require.ErrorIs(t, err, engine.ErrInvalidToken, "trial %d: the reuse revoked the family", trial)
	}
	t.Logf("%d trials x %d goroutines: exactly one winner each", trials, goroutines)
}

// TestConcurrentRotateAndAuthenticate: rotations race authentications,
// exchanges and refreshes. Nothing races (-race), an access token once
// refused is never accepted again, and at the end only the newest
// credential works.
func TestConcurrentRotateAndAuthenticate(t *testing.T) {
	const (
		rotators       = 4
		rotations      = 25
		authenticators = 8
	)
	f := newFixture(t, ccNoGuessLimit)
	ct := f.token(f.admin, permission.ViewUsers)
	old, _ := f.login(ct)

	var (
		wg       sync.WaitGroup
		stop     atomic.Bool
		mu       sync.Mutex
		newest   engine.CreatedUserToken
		accepted atomic.Int64
	)
	for range rotators {
		wg.Go(func() {
			for range rotations {
				r, err := f.eng.RotateUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID)
				if !ccAssertNoError(t, err) {
					return
				}
				mu.Lock()
				if r.Token.Generation > newest.Token.Generation {
					newest = r
				}
				mu.Unlock()
			}
		})
	}
	var readers sync.WaitGroup
	for range authenticators {
		readers.Go(func() {
			refused := false
			for !stop.Load() {
				_, err := f.eng.Authenticate(f.ctx, old.AccessToken.Reveal(), f.addr)
				switch {
				case err == nil && refused:
					t.Error("a refused access token was accepted again")
					return
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, engine.ErrInvalidToken):
					refused = true
				default:
					t.Errorf("Authenticate: %v", err)
					return
				}
				// Exchanges and refreshes with stale credentials race the
				// rotations too; they may only fail as invalid tokens.
				if _, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr); err != nil && !errors.Is(err, engine.ErrInvalidToken) {
					t.Errorf("Exchange: %v", err)
					return
				}
				mu.Lock()
				cur := newest
				mu.Unlock()
				if !cur.Credential.IsZero() {
					if _, err := f.eng.Exchange(f.ctx, cur.Token.ID, cur.Credential.Reveal(), f.addr); err != nil && !errors.Is(err, engine.ErrInvalidToken) {
						t.Errorf("Exchange: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()

	tok, err := f.eng.GetUserToken(f.ctx, f.admin, f.tenant, ct.Token.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1+rotators*rotations, tok.Generation)
	require.Equal(t, tok.Generation, newest.Token.Generation)
	_, err = f.eng.Authenticate(f.ctx, old.AccessToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	_, err = f.eng.Refresh(f.ctx, old.RefreshToken.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	_, err = f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	f.login(newest)
	t.Logf("%d rotations raced %d authenticators (%d acceptances before the first rotation landed)", rotators*rotations, authenticators, accepted.Load())
}

// ccAssertNoError reports err from a goroutine that must not call FailNow.
func ccAssertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}
