package client

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// token is an access token and the refresh token that came with it.
type token struct {
	access  Secret
	refresh Secret
	// expiry is when the server stops honouring access; refreshAt is when
	// the client refreshes it, a little before.
	expiry    time.Time
	refreshAt time.Time
}

// maxRefreshAhead bounds how long before expiry a token is refreshed; a
// short-lived token is refreshed when a quarter of its life is left.
const maxRefreshAhead = 10 * time.Second

// tokenSource caches the access token and gets a new one, one request at
// a time, when it is missing, near expiry or refused.
type tokenSource struct {
	c           *Client
	userTokenID string

	mu        sync.Mutex
	userToken Secret
	tok       *token
	stale     bool    // tok was refused: refresh before using it again
	flight    *flight // the exchange or refresh in progress
	gen       uint64  // moves when the user token changes: results of older flights are dropped
	closed    bool
}

// flight is one exchange or refresh that every waiting caller shares.
type flight struct {
	done chan struct{}
	tok  *token
	err  error
}

// token returns a usable access token, getting one if needed. Whatever
// the number of concurrent callers, one exchange or refresh is in flight.
func (ts *tokenSource) token(ctx context.Context) (*token, error) {
	for {
		ts.mu.Lock()
		if ts.closed {
			ts.mu.Unlock()
			return nil, ErrClosed
		}
		if t := ts.tok; t != nil && !ts.stale && ts.c.now().Before(t.refreshAt) {
			ts.mu.Unlock()
			return t, nil
		}
		if f := ts.flight; f != nil {
			ts.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil && ctx.Err() == nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				continue // the leader gave up, not us: try again
			}
			return f.tok, f.err
		}
		f := &flight{done: make(chan struct{})}
		ts.flight = f
		old, userToken, gen := ts.tok, ts.userToken, ts.gen
		ts.mu.Unlock()

		tok, refreshRejected, err := ts.fetch(ctx, old, userToken)

		ts.mu.Lock()
		ts.flight = nil
		closed := ts.closed
		if gen == ts.gen && !closed {
			switch {
			case err == nil:
				ts.tok, ts.stale = tok, false
			case refreshRejected:
				ts.tok = nil // the refresh token is dead: exchange next time
			}
		}
		if closed {
			orphan := tok
			tok, err = nil, ErrClosed
			if orphan != nil {
				// Close ran during the exchange: revoke what it produced.
				defer ts.c.revokeQuietly(ctx, orphan.refresh)
			}
		}
		f.tok, f.err = tok, err
		close(f.done)
		ts.mu.Unlock()
		return tok, err
	}
}

// fetch refreshes old when it has a refresh token, and exchanges the user
// token when there is none or the server refuses it.
func (ts *tokenSource) fetch(ctx context.Context, old *token, userToken Secret) (tok *token, refreshRejected bool, err error) {
	if old != nil && !old.refresh.IsZero() {
		tok, err = ts.request(ctx, url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {old.refresh.Reveal()},
		}, false, old.refresh)
		if err == nil {
			return tok, false, nil
		}
		var ae *APIError
		if !errors.As(err, &ae) || (ae.StatusCode != http.StatusUnauthorized && ae.StatusCode != http.StatusBadRequest) {
			return nil, false, err // a network error, 402, 429...: not the refresh token's fault
		}
		refreshRejected = true
	}
	tok, err = ts.request(ctx, url.Values{"grant_type": {"client_credentials"}}, true, userToken)
	return tok, refreshRejected, err
}

// tokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func (t *tokenResponse) validate() error {
	switch {
	case t.AccessToken == "":
		return errors.New("no access_token")
	case !strings.EqualFold(t.TokenType, "Bearer"):
		return errors.New("token_type is not Bearer")
	case t.ExpiresIn <= 0:
		return errors.New("no positive expires_in")
	case strings.ContainsAny(t.AccessToken, " \t\r\n"):
		return errors.New("access_token is not a bearer token")
	}
	return nil
}

// request posts to the token endpoint: form-encoded, the user token in
// HTTP Basic authentication for an exchange (RFC 6749 §2.3.1), no client
// authentication for a refresh (the refresh token is the credential).
func (ts *tokenSource) request(ctx context.Context, form url.Values, basic bool, cred Secret) (*token, error) {
	r := formRequest("/auth/token", form)
	r.secrets = []Secret{cred}
	var setAuth func(*http.Request)
	if basic {
		r.auth = authBasic
		header := "Basic " + ts.basic(cred).Reveal()
		setAuth = func(req *http.Request) { req.Header.Set("Authorization", header) }
	}
	c := ts.c
	start := c.now()
	resp, err := roundTrip(ctx, c.hc, c.base, c.userAgent, r, setAuth)
	if err != nil {
		return nil, err
	}
	var tr tokenResponse
	s := c.scrubber(cred, ts.basic(cred))
	if err := decode(r, resp, &tr, s, c.now()); err != nil {
		return nil, err
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if tr.ExpiresIn > int64(365*24*time.Hour/time.Second) {
		life = 365 * 24 * time.Hour
	}
	expiry := start.Add(life)
	return &token{
		access:    NewSecret(tr.AccessToken),
		refresh:   NewSecret(tr.RefreshToken),
		expiry:    expiry,
		refreshAt: expiry.Add(-min(maxRefreshAhead, life/4)),
	}, nil
}

// invalidate marks tok refused, unless a newer token already replaced it.
func (ts *tokenSource) invalidate(tok *token) {
	ts.mu.Lock()
	if ts.tok == tok {
		ts.stale = true
	}
	ts.mu.Unlock()
}

// replaceUserToken installs a rotated user token and drops the tokens
// derived from the old one.
func (ts *tokenSource) replaceUserToken(s Secret) {
	ts.mu.Lock()
	ts.userToken = s
	ts.tok, ts.stale = nil, false
	ts.gen++
	ts.mu.Unlock()
}

// close forgets everything and returns the refresh token to revoke.
func (ts *tokenSource) close() Secret {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.closed = true
	ts.gen++
	var refresh Secret
	if ts.tok != nil {
		refresh = ts.tok.refresh
	}
	ts.tok = nil
	return refresh
}

// scrubber returns a scrubber of every credential held.
func (ts *tokenSource) scrubber() *scrubber {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	s := newScrubber(ts.userToken, ts.basic(ts.userToken))
	if ts.tok != nil {
		s.add(ts.tok.access, ts.tok.refresh)
	}
	return s
}

// forget drops the cached tokens if tok is one of them (it was revoked).
func (ts *tokenSource) forget(tok Secret) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if t := ts.tok; t != nil && (t.access == tok || t.refresh == tok) {
		ts.tok, ts.stale = nil, false
		ts.gen++
	}
}

// basic is the HTTP Basic credential of the user token (RFC 6749 §2.3.1:
// both parts form-encoded, then base64): a secret as much as the token.
func (ts *tokenSource) basic(userToken Secret) Secret {
	pair := url.QueryEscape(ts.userTokenID) + ":" + url.QueryEscape(userToken.Reveal())
	return NewSecret(base64.StdEncoding.EncodeToString([]byte(pair)))
}
