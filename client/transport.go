package client

import (
	"errors"
	"io"
	"net/http"
	"strings"
)

// HTTPClient returns an *http.Client that authenticates requests with the
// client's access token, for the host's own routes protected by the
// adapter's Authenticate middleware. Like the client's own calls it gets,
// caches and refreshes the token, and refreshes and replays a request once
// on a 401 when its body can be replayed (http.NewRequest sets GetBody for
// in-memory bodies). It refuses to send a request to any origin (scheme and
// host) other than Config.BaseURL's, and never follows redirects. It does
// not check responses or retry 429s: that is the caller's part.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{
		Transport:     &transport{c: c},
		CheckRedirect: c.hc.CheckRedirect,
		Timeout:       c.hc.Timeout,
	}
}

// transport adds the bearer token (oauth2.Transport's part).
type transport struct{ c *Client }

var errOtherOrigin = errors.New("licensekit: refusing to send the access token to an origin other than the base URL's")

func (t *transport) base() http.RoundTripper {
	if t.c.hc.Transport != nil {
		return t.c.hc.Transport
	}
	return http.DefaultTransport
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Scheme, t.c.base.Scheme) || !strings.EqualFold(req.URL.Host, t.c.base.Host) {
		closeBody(req)
		return nil, errOtherOrigin
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 0; ; attempt++ {
		tok, err := t.c.ts.token(req.Context())
		if err != nil {
			closeBody(req)
			return nil, err
		}
		r := req.Clone(req.Context())
		if attempt > 0 && req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		r.Header.Set("Authorization", "Bearer "+tok.access.Reveal())
		if r.Header.Get("User-Agent") == "" {
			r.Header.Set("User-Agent", t.c.userAgent)
		}
		resp, err := t.base().RoundTrip(r)
		if err != nil || resp.StatusCode != http.StatusUnauthorized || attempt > 0 || !replayable {
			return resp, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		t.c.ts.invalidate(tok)
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
