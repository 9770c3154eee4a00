package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config configures a Client. BaseURL, UserTokenID and UserToken are
// required; every other zero value is the documented default.
type Config struct {
	// BaseURL is where the API is mounted, without the "/v1" of its
	// routes: "https://licensing.example.com" when the host serves
	// "/v1/users", "https://example.com/licensing" when it serves
	// "/licensing/v1/users". It must be https://, or http:// to a loopback
	// address (127.0.0.0/8, ::1, "localhost"), or AllowInsecureHTTP must be
	// set. It may not carry user info, a query or a fragment.
	BaseURL string
	// UserTokenID is the user token's UUID: the OAuth client_id.
	UserTokenID string
	// UserToken is the user token itself ("lkut_..."): the OAuth
	// client_secret. It is sent only to the token endpoint, only with HTTP
	// Basic authentication, and never appears in an error.
	UserToken Secret
	// HTTPClient sends the requests. Nil: a client with a 30-second
	// timeout over http.DefaultTransport. The Client uses a copy whose
	// CheckRedirect refuses every redirect (a 3xx answer is an *APIError),
	// so a credential never follows a redirect.
	HTTPClient *http.Client
	// MaxRetryWait bounds how long one call may wait, in total, for the
	// Retry-After of 429 answers before retrying. A 429 whose Retry-After
	// would take the call past it (or has none) is returned at once. Zero:
	// never retry a 429.
	MaxRetryWait time.Duration
	// AllowInsecureHTTP lets credentials go over plain HTTP to any host.
	// Never set it outside development: anyone on the path can read them.
	AllowInsecureHTTP bool
	// UserAgent is sent with every request. Empty: "licensekit-go-client".
	UserAgent string
}

// DefaultUserAgent is the User-Agent of a Config that sets none.
const DefaultUserAgent = "licensekit-go-client"

// maxBody caps how much of a response body the client reads.
const maxBody = 10 << 20

// Client calls the licensekit HTTP API with a user token. It exchanges the
// user token for an access token on first use, caches it, refreshes it
// shortly before it expires and once when the server answers 401, with one
// exchange or refresh in flight however many goroutines call at once.
// A Client is safe for concurrent use. Close it when done to revoke its
// refresh token.
type Client struct {
	base         *url.URL
	hc           *http.Client
	userAgent    string
	maxRetryWait time.Duration

	// now and sleep are the clock; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	ts *tokenSource

	closeOnce sync.Once
}

// New checks cfg and returns a Client. It sends nothing: the first call
// exchanges the user token. Errors: a missing field, a malformed BaseURL,
// or ErrInsecureHTTP.
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL, cfg.AllowInsecureHTTP)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.UserTokenID) == "" {
		return nil, errors.New("licensekit: Config.UserTokenID is required")
	}
	if cfg.UserToken.IsZero() {
		return nil, errors.New("licensekit: Config.UserToken is required")
	}
	if cfg.MaxRetryWait < 0 {
		return nil, errors.New("licensekit: Config.MaxRetryWait is negative")
	}
	c := &Client{
		base:         base,
		hc:           noRedirects(cfg.HTTPClient),
		userAgent:    cfg.UserAgent,
		maxRetryWait: cfg.MaxRetryWait,
		now:          time.Now,
		sleep:        sleepCtx,
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	c.ts = &tokenSource{c: c, userTokenID: cfg.UserTokenID, userToken: cfg.UserToken}
	return c, nil
}

// Close revokes the client's refresh token (POST /v1/auth/revoke), best
// effort within five seconds, and forgets its tokens; calls after Close
// return ErrClosed. The error, if any, is the revocation's, for logging:
// the Client is closed either way. Close is idempotent.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		refresh := c.ts.close()
		if refresh.IsZero() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = c.revoke(ctx, refresh)
	})
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parseBaseURL checks a base URL and refuses plain HTTP to anything but
// loopback unless insecure.
func parseBaseURL(raw string, insecure bool) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("licensekit: base URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("licensekit: base URL is malformed")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("licensekit: base URL scheme must be https or http, not %q", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("licensekit: base URL has no host")
	case u.User != nil:
		return nil, errors.New("licensekit: base URL must not carry user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("licensekit: base URL must not carry a query or fragment")
	case u.Opaque != "":
		return nil, errors.New("licensekit: base URL is malformed")
	}
	if u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()) {
		return nil, ErrInsecureHTTP
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isLoopback reports whether host is "localhost" or a loopback IP. Other
// names are not resolved: a name's address can change after the check.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return a.Unmap().IsLoopback()
}

// noRedirects returns a copy of hc (or a default client) that refuses
// redirects, so that no credential follows one.
func noRedirects(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = 30 * time.Second
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
