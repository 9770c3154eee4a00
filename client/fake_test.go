package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/client"
	"github.com/stretchr/testify/require"
)

// fakeAPI is a minimal server of the HTTP API spec (/tmp/httpapi.md): the
// token endpoint, revocation, introspection, a few resource routes and
// validation, with the exact error bodies and headers of the contract.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	tokenID   string
	userToken string
	expiresIn int
	// tokenDelay slows the token endpoint so that concurrent callers
	// overlap.
	tokenDelay time.Duration
	// tokenEntered, when set, is signalled as a token request arrives;
	// tokenGate, when set, holds it until closed.
	tokenEntered chan struct{}
	tokenGate    chan struct{}

	exchanges, refreshes, apiCalls, revokes atomic.Int64

	mu      sync.Mutex
	seq     int
	access  map[string]bool // live access tokens
	refresh map[string]bool // live refresh tokens
	revoked []string
	bodies  []string // bodies of POST /v1/users, in order
	auth    []string // Authorization headers seen on API routes
	scripts map[string][]canned
	users   map[string]client.User
}

// canned is a scripted response, used once.
type canned struct {
	status  int
	header  map[string]string
	body    string
	ctype   string // "" = application/json
	handler func(w http.ResponseWriter, r *http.Request)
}

const (
	testTokenID   = "3b1f7f3e-8a2c-4b8e-9d55-2f8e1c7a9b01"
	testUserToken = "lkut_testsecretusertokenvalue0123456789abcdefghijk"
	testKey       = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"
)

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{
		t: t, tokenID: testTokenID, userToken: testUserToken, expiresIn: 3600,
		access: map[string]bool{}, refresh: map[string]bool{},
		scripts: map[string][]canned{},
		users: map[string]client.User{
			"u1": {TenantID: "acme", ID: "u1", Email: "ada@acme.test", Name: "Ada", Role: client.RoleAdmin, Status: client.UserActive,
				CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/token", f.token)
	mux.HandleFunc("POST /v1/auth/revoke", f.revoke)
	mux.HandleFunc("POST /v1/auth/introspect", f.authed(f.introspect))
	mux.HandleFunc("GET /v1/users", f.authed(f.listUsers))
	mux.HandleFunc("POST /v1/users", f.authed(f.createUser))
	mux.HandleFunc("GET /v1/users/{id}", f.authed(f.getUser))
	mux.HandleFunc("DELETE /v1/users/{id}", f.authed(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("POST /v1/tokens/{id}/refresh", f.authed(f.rotate))
	mux.HandleFunc("POST /v1/licenses/validate", f.validate)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.scripted(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// script queues canned answers for "METHOD /path".
func (f *fakeAPI) script(route string, cs ...canned) {
	f.mu.Lock()
	f.scripts[route] = append(f.scripts[route], cs...)
	f.mu.Unlock()
}

func (f *fakeAPI) scripted(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	route := r.Method + " " + r.URL.Path
	cs := f.scripts[route]
	if len(cs) == 0 {
		f.mu.Unlock()
		return false
	}
	c := cs[0]
	f.scripts[route] = cs[1:]
	f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/v1/users") {
		f.apiCalls.Add(1)
	}
	if c.handler != nil {
		c.handler(w, r)
		return true
	}
	ct := c.ctype
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	for k, v := range c.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(c.status)
	_, _ = io.WriteString(w, c.body)
	return true
}

// The exact error answers of the contract.

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func invalidToken(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="licensekit", error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Invalid token"})
}

var (
	body401     = `{"error":"Invalid token"}`
	body402     = `{"error":"Invalid license"}`
	body403     = `{"error":"Access denied"}`
	body429     = `{"error":"Too Many Requests (Reached license limit)"}`
	body429Addr = `{"error":"Too Many Requests"}`
	hdr401      = map[string]string{"WWW-Authenticate": `Bearer realm="licensekit", error="invalid_token"`}
	hdr403      = map[string]string{"WWW-Authenticate": `Bearer realm="licensekit", error="insufficient_scope", scope="users:view"`}
)

func limit429(retryAfter string) canned {
	return canned{status: 429, body: body429, header: map[string]string{
		"Retry-After": retryAfter, "RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": retryAfter,
	}}
}

// token is POST /v1/auth/token.
func (f *fakeAPI) token(w http.ResponseWriter, r *http.Request) {
	if f.tokenDelay > 0 {
		time.Sleep(f.tokenDelay)
	}
	if f.tokenEntered != nil {
		select {
		case f.tokenEntered <- struct{}{}:
		default:
		}
	}
	if f.tokenGate != nil {
		<-f.tokenGate
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Unsupported media type"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed form"})
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		f.exchanges.Add(1)
		id, secret, ok := basicAuth(r)
		if !ok || id != f.tokenID || secret != f.currentUserToken() {
			invalidToken(w)
			return
		}
	case "refresh_token":
		f.refreshes.Add(1)
		if r.Header.Get("Authorization") != "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unexpected client authentication"})
			return
		}
		rt := r.PostForm.Get("refresh_token")
		f.mu.Lock()
		live := f.refresh[rt]
		delete(f.refresh, rt) // one use
		f.mu.Unlock()
		if !live {
			invalidToken(w)
			return
		}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	f.mu.Lock()
	f.seq++
	at, rt := fmt.Sprintf("lkat_access%03d", f.seq), fmt.Sprintf("lkrt_refresh%03d", f.seq)
	f.access[at], f.refresh[rt] = true, true
	f.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": f.expiresIn,
		"refresh_token": rt, "scope": "users:view users:create",
	})
}

func (f *fakeAPI) currentUserToken() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.userToken
}

// basicAuth reads client_secret_basic (RFC 6749 §2.3.1: form-encoded, then
// Basic).
func basicAuth(r *http.Request) (string, string, bool) {
	h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
	if !ok {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	id, err1 := url.QueryUnescape(id)
	secret, err2 := url.QueryUnescape(secret)
	return id, secret, ok && err1 == nil && err2 == nil
}

func (f *fakeAPI) revoke(w http.ResponseWriter, r *http.Request) {
	f.revokes.Add(1)
	_ = r.ParseForm()
	tok := r.PostForm.Get("token")
	f.mu.Lock()
	f.revoked = append(f.revoked, tok)
	delete(f.refresh, tok)
	delete(f.access, tok)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// killAccess makes every live access token fail (as after a rotation).
func (f *fakeAPI) killAccess() {
	f.mu.Lock()
	f.access = map[string]bool{}
	f.mu.Unlock()
}

// killRefresh makes every live refresh token fail.
func (f *fakeAPI) killRefresh() {
	f.mu.Lock()
	f.refresh = map[string]bool{}
	f.mu.Unlock()
}

func (f *fakeAPI) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.apiCalls.Add(1)
		a := r.Header.Get("Authorization")
		f.mu.Lock()
		f.auth = append(f.auth, a)
		tok, ok := strings.CutPrefix(a, "Bearer ")
		live := ok && f.access[tok]
		f.mu.Unlock()
		if !live {
			invalidToken(w)
			return
		}
		h(w, r)
	}
}

func (f *fakeAPI) listUsers(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u := f.users["u1"]
	f.mu.Unlock()
	if r.URL.Query().Get("cursor") == "" {
		writeJSON(w, http.StatusOK, map[string]any{"items": []client.User{u}, "next_cursor": "c2"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": []client.User{}})
}

func (f *fakeAPI) getUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u, ok := f.users[r.PathValue("id")]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (f *fakeAPI) createUser(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(b))
	f.mu.Unlock()
	var in client.NewUser
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if r.Header.Get("Content-Type") != "application/json" || dec.Decode(&in) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed body"})
		return
	}
	u := client.User{TenantID: "acme", ID: "u2", Email: in.Email, Name: in.Name, Role: client.RoleMember, Status: client.UserActive}
	writeJSON(w, http.StatusCreated, u)
}

func (f *fakeAPI) introspect(w http.ResponseWriter, r *http.Request) {
	var in struct{ Token string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	live := f.access[in.Token]
	f.mu.Unlock()
	if !live {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"active": true, "scope": "users:view users:create", "client_id": f.tokenID, "sub": "u1",
		"token_type": "access_token", "exp": 1900000000, "tenant_id": "acme",
	})
}

func (f *fakeAPI) rotate(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != f.tokenID {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
		return
	}
	f.mu.Lock()
	f.userToken = "lkut_rotatedsecret_" + fmt.Sprint(f.seq)
	cred := f.userToken
	f.access, f.refresh = map[string]bool{}, map[string]bool{}
	f.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"token":      map[string]any{"id": f.tokenID, "tenant_id": "acme", "user_id": "u1", "name": "ci", "permissions": []string{"users:view"}, "status": "active", "generation": 2},
		"credential": cred,
	})
}

func (f *fakeAPI) validate(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	var in struct {
		Key       string `json:"key"`
		ProductID string `json:"product_id"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed body"})
		return
	}
	if in.Key != testKey {
		writeJSON(w, http.StatusOK, map[string]any{"valid": false, "code": "NOT_FOUND"})
		return
	}
	lic := map[string]any{"id": "lic1", "product_id": "p1", "customer_id": "c1", "status": "active"}
	if in.ProductID != "" && in.ProductID != "p1" {
		writeJSON(w, http.StatusOK, map[string]any{"valid": false, "code": "PRODUCT_MISMATCH", "license": lic})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "code": "VALID", "license": lic})
}

// fakeClock is a clock the test moves by hand; its sleep records the
// waits and advances the clock.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// newClient returns a client of f with a fake clock.
func (f *fakeAPI) newClient(t *testing.T, mod ...func(*client.Config)) (*client.Client, *fakeClock) {
	t.Helper()
	cfg := client.Config{
		BaseURL: f.srv.URL, UserTokenID: f.tokenID, UserToken: client.NewSecret(f.userToken),
		HTTPClient: f.srv.Client(),
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := client.New(cfg)
	require.NoError(t, err)
	clock := newFakeClock()
	client.SetClock(c, clock.Now, func(_ context.Context, d time.Duration) error {
		clock.mu.Lock()
		clock.slept = append(clock.slept, d)
		clock.now = clock.now.Add(d)
		clock.mu.Unlock()
		return nil
	})
	return c, clock
}
