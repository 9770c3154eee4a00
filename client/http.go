package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// authKind says which credential a request carries.
type authKind int

const (
	authNone   authKind = iota // public route: no Authorization header
	authBearer                 // the cached access token
	authBasic                  // the user token, client_secret_basic (token endpoint only)
)

// apiRequest is one API call, replayable: the body is held in memory and
// re-read for every attempt.
type apiRequest struct {
	method string
	path   string // below /v1, already escaped: "/users/abc"
	query  url.Values
	body   []byte
	// contentType of body; empty when there is none.
	contentType string
	auth        authKind
	// secrets of this request (a license key, a token to revoke) that must
	// never reach an error.
	secrets []Secret
}

func jsonRequest(method, path string, in any) (*apiRequest, error) {
	r := &apiRequest{method: method, path: path, auth: authBearer}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		r.body, r.contentType = b, "application/json"
	}
	return r, nil
}

func formRequest(path string, form url.Values) *apiRequest {
	return &apiRequest{
		method: http.MethodPost, path: path, auth: authNone,
		body: []byte(form.Encode()), contentType: "application/x-www-form-urlencoded",
	}
}

// rawResponse is a response read in full (up to maxBody).
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// endpoint is the URL of an API path.
func endpoint(base *url.URL, path string, query url.Values) string {
	u := *base
	u.RawPath = ""
	esc := base.EscapedPath() + "/v1" + path
	if p, err := url.PathUnescape(esc); err == nil {
		u.Path, u.RawPath = p, esc
	}
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u.String()
}

// roundTrip sends r once, with the given credential, and reads the answer.
func roundTrip(ctx context.Context, hc *http.Client, base *url.URL, userAgent string, r *apiRequest, setAuth func(*http.Request)) (*rawResponse, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, endpoint(base, r.path, r.query), body)
	if err != nil {
		return nil, err
	}
	if r.body != nil {
		b := r.body
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.Header.Set("Content-Type", r.contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if setAuth != nil {
		setAuth(req)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, malformed(nil, "%s %s: body larger than %d bytes", r.method, r.path, maxBody)
	}
	return &rawResponse{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// decode checks resp and decodes its JSON body into out (nil: any 2xx
// will do and the body is ignored). A non-2xx status is an *APIError.
func decode(r *apiRequest, resp *rawResponse, out any, s *scrubber, now time.Time) error {
	if resp.status < 200 || resp.status > 299 {
		return apiError(resp, s, now)
	}
	if out == nil {
		return nil
	}
	if !isJSON(resp.header.Get("Content-Type")) {
		return malformed(s, "%s %s: status %d with content type %q, want application/json",
			r.method, r.path, resp.status, resp.header.Get("Content-Type"))
	}
	if err := decodeJSON(resp.body, out); err != nil {
		return malformed(s, "%s %s: %v", r.method, r.path, err)
	}
	if v, ok := out.(validator); ok {
		if err := v.validate(); err != nil {
			return malformed(s, "%s %s: %v", r.method, r.path, err)
		}
	}
	return nil
}

// validator is a response body that checks its own shape after decoding.
type validator interface{ validate() error }

func decodeJSON(b []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body")
		}
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// apiError builds the *APIError of a non-2xx response.
func apiError(resp *rawResponse, s *scrubber, now time.Time) *APIError {
	e := &APIError{StatusCode: resp.status}
	if isJSON(resp.header.Get("Content-Type")) {
		var body struct {
			Error       json.RawMessage `json:"error"`
			Description json.RawMessage `json:"error_description"`
		}
		var msg, desc string
		if json.Unmarshal(resp.body, &body) == nil && json.Unmarshal(body.Error, &msg) == nil {
			e.Message = s.clean(strings.TrimSpace(msg), 256)
			if json.Unmarshal(body.Description, &desc) == nil {
				e.Description = s.clean(strings.TrimSpace(desc), 256)
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.status)
		if e.Message == "" {
			e.Message = "status " + strconv.Itoa(resp.status)
		}
	}
	if resp.status == http.StatusTooManyRequests || resp.status == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.header.Get("Retry-After"), now)
	}
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 §10.2.3);
// zero when absent or malformed. A present but non-positive wait is one
// second, so that a retry loop always makes progress against its bound.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 1 {
			return time.Second
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < time.Second {
			return time.Second
		}
		return min(d, 24*time.Hour)
	}
	return 0
}

// retryWait reports whether err is a 429 worth retrying for a call that has
// already waited waited, and how long to wait.
func retryWait(err error, waited, max time.Duration) (time.Duration, bool) {
	var ae *APIError
	if max <= 0 || !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests || ae.RetryAfter <= 0 {
		return 0, false
	}
	if waited+ae.RetryAfter > max {
		return 0, false
	}
	return ae.RetryAfter, true
}

// do runs an authenticated (or public) call: token, send, refresh once on
// 401, retry 429s within MaxRetryWait, check and decode the answer into out.
func (c *Client) do(ctx context.Context, r *apiRequest, out any) error {
	var waited time.Duration
	retried401 := false
	for {
		err := c.attempt(ctx, r, out, &retried401)
		d, ok := retryWait(err, waited, c.maxRetryWait)
		if !ok {
			return err
		}
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
		waited += d
	}
}

func (c *Client) attempt(ctx context.Context, r *apiRequest, out any, retried401 *bool) error {
	for {
		var tok *token
		var setAuth func(*http.Request)
		if r.auth == authBearer {
			var err error
			if tok, err = c.ts.token(ctx); err != nil {
				return err
			}
			bearer := "Bearer " + tok.access.Reveal()
			setAuth = func(req *http.Request) { req.Header.Set("Authorization", bearer) }
		}
		resp, err := roundTrip(ctx, c.hc, c.base, c.userAgent, r, setAuth)
		if err != nil {
			return err
		}
		if resp.status == http.StatusUnauthorized && tok != nil && !*retried401 {
			// The access token died early (rotation, revocation, a restart
			// with another key): refresh once and replay the request.
			*retried401 = true
			c.ts.invalidate(tok)
			continue
		}
		return decode(r, resp, out, c.scrubber(r.secrets...), c.now())
	}
}

// scrubber knows every credential the client holds, plus extra.
func (c *Client) scrubber(extra ...Secret) *scrubber {
	s := c.ts.scrubber()
	s.add(extra...)
	return s
}
