package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/client"
	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
)

func TestExchangeOnceThenCached(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	ctx := context.Background()

	for range 10 {
		users, next, err := c.ListUsers(ctx, client.ListOptions{Limit: 10})
		require.NoError(t, err)
		require.Len(t, users, 1)
		require.Equal(t, "ada@acme.test", users[0].Email)
		require.Equal(t, "c2", next)
	}
	require.EqualValues(t, 1, f.exchanges.Load(), "one exchange for ten calls")
	require.EqualValues(t, 0, f.refreshes.Load())
	for _, a := range f.auth {
		require.Equal(t, "Bearer lkat_access001", a)
	}

	users, next, err := c.ListUsers(ctx, client.ListOptions{Cursor: "c2"})
	require.NoError(t, err)
	require.Empty(t, users)
	require.NotNil(t, users)
	require.Empty(t, next)
}

func TestRefreshBeforeExpiry(t *testing.T) {
	f := newFakeAPI(t)
	f.expiresIn = 2 // refreshed when a quarter of its life (0.5s) is left
	c, clock := f.newClient(t)
	ctx := context.Background()

	_, err := c.GetUser(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, "lkat_access001", client.CachedAccessToken(c))

	clock.Advance(1400 * time.Millisecond)
	_, err = c.GetUser(ctx, "u1")
	require.NoError(t, err)
	require.EqualValues(t, 0, f.refreshes.Load(), "still fresh at 1.4s of 2s")

	clock.Advance(200 * time.Millisecond) // 1.6s: within the last quarter
	_, err = c.GetUser(ctx, "u1")
	require.NoError(t, err)
	require.EqualValues(t, 1, f.exchanges.Load())
	require.EqualValues(t, 1, f.refreshes.Load(), "refreshed before expiry, not re-exchanged")
	require.Equal(t, "lkat_access002", client.CachedAccessToken(c))
	require.Equal(t, "lkrt_refresh002", client.CachedRefreshToken(c), "the rotated refresh token is kept")

	_, err = c.GetUser(ctx, "u1")
	require.NoError(t, err)
	require.EqualValues(t, 1, f.refreshes.Load())
}

func TestRefreshOnceOn401AndReplayBody(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	ctx := context.Background()

	_, err := c.GetUser(ctx, "u1")
	require.NoError(t, err)
	f.killAccess() // e.g. the server restarted with another key

	u, err := c.CreateUser(ctx, client.NewUser{Email: "bob@acme.test", Name: "Bob"})
	require.NoError(t, err)
	require.Equal(t, "u2", u.ID)
	require.EqualValues(t, 1, f.exchanges.Load())
	require.EqualValues(t, 1, f.refreshes.Load())
	// The 401 came before the handler read the body; the replay carried it
	// whole.
	require.Equal(t, []string{`{"email":"bob@acme.test","name":"Bob"}`}, f.bodies)
}

func TestReplayedBodyIsIdentical(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	var seen []string
	var mu sync.Mutex
	record := func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1024)
		n, _ := r.Body.Read(b)
		mu.Lock()
		seen = append(seen, string(b[:n]))
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", hdr401["WWW-Authenticate"])
		writeJSON(w, 401, map[string]string{"error": "Invalid token"})
	}
	f.script("POST /v1/users", canned{handler: record}, canned{handler: func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1024)
		n, _ := r.Body.Read(b)
		mu.Lock()
		seen = append(seen, string(b[:n]))
		mu.Unlock()
		writeJSON(w, 201, client.User{ID: "u9"})
	}})
	u, err := c.CreateUser(context.Background(), client.NewUser{Email: "x@acme.test", Name: "X"})
	require.NoError(t, err)
	require.Equal(t, "u9", u.ID)
	require.Len(t, seen, 2)
	require.Equal(t, `{"email":"x@acme.test","name":"X"}`, seen[0])
	require.Equal(t, seen[0], seen[1])
	require.EqualValues(t, 1, f.refreshes.Load())
}

func TestRefreshRefusedFallsBackToExchange(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	ctx := context.Background()
	_, err := c.GetUser(ctx, "u1")
	require.NoError(t, err)

	f.killAccess()
	f.killRefresh()
	_, err = c.GetUser(ctx, "u1")
	require.NoError(t, err)
	require.EqualValues(t, 1, f.refreshes.Load())
	require.EqualValues(t, 2, f.exchanges.Load(), "refused refresh → new exchange")
}

func TestSecond401IsReturned(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	for range 5 {
		f.script("GET /v1/users/u1", canned{status: 401, body: body401, header: hdr401})
	}
	_, err := c.GetUser(context.Background(), "u1")
	require.ErrorIs(t, err, client.ErrInvalidToken)
	require.EqualValues(t, 2, f.apiCalls.Load(), "one replay after one refresh, no loop")
	require.EqualValues(t, 1, f.exchanges.Load())
	require.EqualValues(t, 1, f.refreshes.Load())
}

func TestBadUserTokenIsInvalidToken(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t, func(cfg *client.Config) { cfg.UserToken = client.NewSecret("lkut_wrong") })
	_, err := c.GetUser(context.Background(), "u1")
	require.ErrorIs(t, err, client.ErrInvalidToken)
	require.EqualValues(t, 0, f.apiCalls.Load())
}

func TestSingleFlight(t *testing.T) {
	f := newFakeAPI(t)
	f.tokenDelay = 50 * time.Millisecond
	c, _ := f.newClient(t)
	ctx := context.Background()

	run := func() {
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				_, err := c.GetUser(ctx, "u1")
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	run()
	require.EqualValues(t, 1, f.exchanges.Load(), "50 goroutines, one exchange")

	f.killAccess()
	run()
	require.EqualValues(t, 1, f.exchanges.Load())
	require.EqualValues(t, 1, f.refreshes.Load(), "50 goroutines meeting 401, one refresh (a refresh token is single-use)")
}

func TestLeaderCancelledFollowerProceeds(t *testing.T) {
	f := newFakeAPI(t)
	f.tokenEntered = make(chan struct{}, 1)
	f.tokenGate = make(chan struct{})
	c, _ := f.newClient(t)

	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan error)
	go func() {
		_, err := c.GetUser(leaderCtx, "u1")
		leaderDone <- err
	}()
	<-f.tokenEntered // the leader's exchange is in flight, held by the gate
	followerDone := make(chan error)
	go func() {
		_, err := c.GetUser(context.Background(), "u1")
		followerDone <- err
	}()
	// Whether the follower is already waiting on the leader's exchange or
	// starts its own after the cancellation, it must succeed.
	cancel()
	require.ErrorIs(t, <-leaderDone, context.Canceled)
	close(f.tokenGate)
	require.NoError(t, <-followerDone)
}

func TestRetry429WithinBound(t *testing.T) {
	f := newFakeAPI(t)
	c, clock := f.newClient(t, func(cfg *client.Config) { cfg.MaxRetryWait = 5 * time.Second })
	f.script("GET /v1/users/u1", limit429("2"))
	u, err := c.GetUser(context.Background(), "u1")
	require.NoError(t, err)
	require.Equal(t, "u1", u.ID)
	require.Equal(t, []time.Duration{2 * time.Second}, clock.Sleeps())
	require.EqualValues(t, 2, f.apiCalls.Load())
}

func TestRetry429BeyondBound(t *testing.T) {
	f := newFakeAPI(t)
	c, clock := f.newClient(t, func(cfg *client.Config) { cfg.MaxRetryWait = 5 * time.Second })
	f.script("GET /v1/users/u1", limit429("10"))
	_, err := c.GetUser(context.Background(), "u1")
	require.ErrorIs(t, err, client.ErrLicenseLimit)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 10*time.Second, ae.RetryAfter)
	require.Empty(t, clock.Sleeps(), "a wait past the bound is not started")
	require.EqualValues(t, 1, f.apiCalls.Load())
}

func TestRetry429BoundIsCumulative(t *testing.T) {
	f := newFakeAPI(t)
	c, clock := f.newClient(t, func(cfg *client.Config) { cfg.MaxRetryWait = 5 * time.Second })
	f.script("GET /v1/users/u1", limit429("3"), limit429("3"))
	_, err := c.GetUser(context.Background(), "u1")
	require.ErrorIs(t, err, client.ErrLicenseLimit)
	require.Equal(t, []time.Duration{3 * time.Second}, clock.Sleeps(), "3s + 3s > 5s: the second is returned")
}

func TestRetry429ZeroBoundNeverRetries(t *testing.T) {
	f := newFakeAPI(t)
	c, clock := f.newClient(t)
	f.script("GET /v1/users/u1", canned{status: 429, body: body429Addr, header: map[string]string{"Retry-After": "1"}})
	_, err := c.GetUser(context.Background(), "u1")
	require.ErrorIs(t, err, client.ErrTooManyRequests)
	require.NotErrorIs(t, err, client.ErrLicenseLimit)
	require.Empty(t, clock.Sleeps())
}

func TestRetry429OnTokenEndpoint(t *testing.T) {
	f := newFakeAPI(t)
	c, clock := f.newClient(t, func(cfg *client.Config) { cfg.MaxRetryWait = time.Minute })
	f.script("POST /v1/auth/token", canned{status: 429, body: body429Addr, header: map[string]string{"Retry-After": "4"}})
	_, err := c.GetUser(context.Background(), "u1")
	require.NoError(t, err)
	require.Equal(t, []time.Duration{4 * time.Second}, clock.Sleeps())
}

func TestRetryAfterHTTPDate(t *testing.T) {
	f := newFakeAPI(t)
	c, clock := f.newClient(t, func(cfg *client.Config) { cfg.MaxRetryWait = time.Minute })
	at := clock.Now().Add(7 * time.Second).Format(http.TimeFormat)
	f.script("GET /v1/users/u1", limit429(at))
	_, err := c.GetUser(context.Background(), "u1")
	require.NoError(t, err)
	require.Equal(t, []time.Duration{7 * time.Second}, clock.Sleeps())
}

func TestTypedErrors(t *testing.T) {
	all := []error{
		client.ErrBadRequest, client.ErrInvalidToken, client.ErrInvalidLicense, client.ErrAccessDenied,
		client.ErrNotFound, client.ErrConflict, client.ErrLicenseLimit, client.ErrTooManyRequests,
	}
	for _, tt := range []struct {
		name    string
		c       canned
		want    error // nil: matches no sentinel
		message string
	}{
		{"400", canned{status: 400, body: `{"error":"name is required"}`}, client.ErrBadRequest, "name is required"},
		{"401", canned{status: 401, body: body401, header: hdr401}, client.ErrInvalidToken, "Invalid token"},
		{"402", canned{status: 402, body: body402}, client.ErrInvalidLicense, "Invalid license"},
		{"403", canned{status: 403, body: body403, header: hdr403}, client.ErrAccessDenied, "Access denied"},
		{"404", canned{status: 404, body: `{"error":"Not found"}`}, client.ErrNotFound, "Not found"},
		{"409", canned{status: 409, body: `{"error":"Already exists"}`}, client.ErrConflict, "Already exists"},
		{"429 license", limit429("30"), client.ErrLicenseLimit, "Too Many Requests (Reached license limit)"},
		{"429 address", canned{status: 429, body: body429Addr, header: map[string]string{"Retry-After": "60"}}, client.ErrTooManyRequests, "Too Many Requests"},
		{"413", canned{status: 413, body: `{"error":"Request body too large"}`}, nil, "Request body too large"},
		{"500", canned{status: 500, body: `{"error":"Internal error"}`}, nil, "Internal error"},
		{"502 html", canned{status: 502, body: "<html>bad gateway</html>", ctype: "text/html"}, nil, "Bad Gateway"},
		{"error field not a string", canned{status: 403, body: `{"error":{"x":1}}`}, client.ErrAccessDenied, "Forbidden"},
		{"302 not followed", canned{status: 302, header: map[string]string{"Location": "http://evil.example/"}, ctype: "text/html"}, nil, "Found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			c, _ := f.newClient(t)
			// 401 is refreshed and replayed once: script it twice.
			f.script("GET /v1/users/u1", tt.c, tt.c)
			_, err := c.GetUser(context.Background(), "u1")
			require.Error(t, err)
			var ae *client.APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tt.c.status, ae.StatusCode)
			require.Equal(t, tt.message, ae.Message)
			for _, s := range all {
				if s == tt.want {
					require.ErrorIs(t, err, s)
				} else {
					require.NotErrorIs(t, err, s, "%v", s)
				}
			}
			wrapped := fmt.Errorf("syncing: %w", err)
			if tt.want != nil {
				require.True(t, errors.Is(wrapped, tt.want))
			}
		})
	}
}

func TestLimitErrorCarriesRetryAfter(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	f.script("GET /v1/users/u1", limit429("30"))
	_, err := c.GetUser(context.Background(), "u1")
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 30*time.Second, ae.RetryAfter)
	require.Equal(t, "licensekit: 429 Too Many Requests (Reached license limit) (retry after 30s)", err.Error())
}

func TestPlainHTTPRefused(t *testing.T) {
	for _, tt := range []struct {
		url      string
		insecure bool
		ok       bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://127.1.2.3", false, true},
		{"http://localhost:8080/licensing", false, true},
		{"http://LOCALHOST", false, true},
		{"http://[::1]:8080", false, true},
		{"http://[::ffff:127.0.0.1]:8080", false, true},
		{"https://licensing.example.com", false, true},
		{"https://203.0.113.5", false, true},
		{"http://licensing.example.com", false, false},
		{"http://203.0.113.5:8080", false, false},
		{"http://10.0.0.1", false, false},
		{"http://[2001:db8::1]", false, false},
		{"http://localhost.evil.example", false, false},
		{"http://127.0.0.1.nip.io", false, false},
		{"http://0.0.0.0:8080", false, false},
		{"http://licensing.example.com", true, true},
	} {
		t.Run(tt.url, func(t *testing.T) {
			cfg := client.Config{BaseURL: tt.url, UserTokenID: testTokenID, UserToken: client.NewSecret(testUserToken), AllowInsecureHTTP: tt.insecure}
			_, err := client.New(cfg)
			_, verr := client.ValidateLicense(context.Background(), nil, tt.url, testKey, client.ValidateOptions{AllowInsecureHTTP: tt.insecure})
			if tt.ok {
				require.NoError(t, err)
				require.NotErrorIs(t, verr, client.ErrInsecureHTTP)
			} else {
				require.ErrorIs(t, err, client.ErrInsecureHTTP)
				require.ErrorIs(t, verr, client.ErrInsecureHTTP)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	good := client.Config{BaseURL: "https://x.example", UserTokenID: testTokenID, UserToken: client.NewSecret(testUserToken)}
	for name, mod := range map[string]func(*client.Config){
		"no base":       func(c *client.Config) { c.BaseURL = "" },
		"ftp":           func(c *client.Config) { c.BaseURL = "ftp://x.example" },
		"no host":       func(c *client.Config) { c.BaseURL = "https:///v1" },
		"user info":     func(c *client.Config) { c.BaseURL = "https://u:p@x.example" },
		"query":         func(c *client.Config) { c.BaseURL = "https://x.example?a=b" },
		"relative":      func(c *client.Config) { c.BaseURL = "x.example" },
		"no token id":   func(c *client.Config) { c.UserTokenID = "" },
		"no token":      func(c *client.Config) { c.UserToken = client.Secret{} },
		"negative wait": func(c *client.Config) { c.MaxRetryWait = -time.Second },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good
			mod(&cfg)
			_, err := client.New(cfg)
			require.Error(t, err)
			require.NotContains(t, err.Error(), testUserToken)
			require.NotContains(t, err.Error(), ":p@")
		})
	}
	_, err := client.New(good)
	require.NoError(t, err)
}

// TestNoSecretInErrors makes a server echo every secret the client sent
// in its error messages and malformed bodies; no error string may hold
// one.
func TestNoSecretInErrors(t *testing.T) {
	ctx := context.Background()
	echo := func(status int, ctype string, tmpl func(secrets []string) string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			var body struct{ Key, Token string }
			_ = json.NewDecoder(r.Body).Decode(&body)
			secrets := []string{r.Header.Get("Authorization"), r.PostForm.Get("refresh_token"), r.PostForm.Get("token"), body.Key, body.Token}
			if id, s, ok := basicAuth(r); ok {
				secrets = append(secrets, id, s)
			}
			if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				secrets = append(secrets, a)
			}
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			fmt.Fprint(w, tmpl(secrets))
		}
	}
	asError := func(secrets []string) string {
		b, _ := json.Marshal(map[string]string{"error": "refused " + strings.Join(secrets, " | ")})
		return string(b)
	}
	asField := func(secrets []string) string {
		b, _ := json.Marshal(map[string]any{"id": 5, "name": strings.Join(secrets, " ")})
		return string(b)
	}
	asPermission := func(secrets []string) string {
		b, _ := json.Marshal(map[string]any{"active": true, "scope": strings.Join(secrets, ",")})
		return string(b)
	}
	cases := []struct {
		name  string
		route string
		h     func(w http.ResponseWriter, r *http.Request)
		call  func(c *client.Client) error
	}{
		{"exchange error echoes user token", "POST /v1/auth/token", echo(400, "application/json", asError),
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"api error echoes access token", "GET /v1/users/u1", echo(403, "application/json", asError),
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"malformed body echoes access token", "GET /v1/users/u1", echo(200, "application/json", asField),
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"html echoes access token", "GET /v1/users/u1", echo(200, "text/html", asError),
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"validate error echoes license key", "POST /v1/licenses/validate", echo(400, "application/json", asError),
			func(c *client.Client) error {
				_, err := c.ValidateLicense(ctx, testKey, client.ValidateOptions{})
				return err
			}},
		{"introspect echoes token", "POST /v1/auth/introspect", echo(400, "application/json", asError),
			func(c *client.Client) error {
				_, err := c.Introspect(ctx, client.NewSecret("lkat_introspected_secret"))
				return err
			}},
		{"introspect scope echoes token", "POST /v1/auth/introspect", echo(200, "application/json", asPermission),
			func(c *client.Client) error {
				_, err := c.Introspect(ctx, client.NewSecret("lkat_introspected_secret"))
				return err
			}},
		{"revoke echoes token", "POST /v1/auth/revoke", echo(400, "application/json", asError),
			func(c *client.Client) error { return c.Revoke(ctx, client.NewSecret("lkrt_revoked_secret")) }},
		{"refresh error echoes refresh token", "", nil, nil}, // below
	}
	basic := base64.StdEncoding.EncodeToString([]byte(testTokenID + ":" + testUserToken))
	secrets := []string{testUserToken, basic, testKey, "lkat_access001", "lkrt_refresh001", "lkat_introspected_secret", "lkrt_revoked_secret"}
	for _, tt := range cases {
		if tt.call == nil {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			c, _ := f.newClient(t)
			if tt.route != "POST /v1/auth/token" {
				_, _, err := c.ListUsers(ctx, client.ListOptions{}) // exchange first
				require.NoError(t, err)
			}
			f.script(tt.route, canned{handler: tt.h}, canned{handler: tt.h})
			err := tt.call(c)
			require.Error(t, err)
			for _, s := range secrets {
				for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
					require.NotContains(t, text, s)
				}
			}
			require.NotContains(t, err.Error(), "lkat_")
		})
	}

	t.Run("refresh error echoes refresh token", func(t *testing.T) {
		f := newFakeAPI(t)
		c, _ := f.newClient(t)
		_, err := c.GetUser(ctx, "u1")
		require.NoError(t, err)
		f.killAccess()
		h := echo(402, "application/json", asError)
		f.script("POST /v1/auth/token", canned{handler: h})
		_, err = c.GetUser(ctx, "u1")
		require.ErrorIs(t, err, client.ErrInvalidLicense)
		for _, s := range secrets {
			require.NotContains(t, err.Error(), s)
		}
		require.Contains(t, err.Error(), "[REDACTED]")
	})

	t.Run("rotated credential", func(t *testing.T) {
		f := newFakeAPI(t)
		c, _ := f.newClient(t)
		rt, err := c.RotateToken(ctx, testTokenID)
		require.NoError(t, err)
		f.script("GET /v1/users/u1", canned{handler: echo(400, "application/json", func([]string) string {
			b, _ := json.Marshal(map[string]string{"error": "bad " + rt.Credential.Reveal()})
			return string(b)
		})})
		_, err = c.GetUser(ctx, "u1")
		require.Error(t, err)
		require.NotContains(t, err.Error(), rt.Credential.Reveal())
	})
}

func TestSecretNeverPrints(t *testing.T) {
	s := client.NewSecret("lkut_topsecret")
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "secret", s)
	b, err := json.Marshal(struct{ S client.Secret }{s})
	require.NoError(t, err)
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s), s.String(), s.GoString(),
		fmt.Sprintf("%+v", client.Config{UserToken: s}), fmt.Sprintf("%#v", client.Config{UserToken: s}),
		fmt.Sprintf("%v", client.CreatedLicense{Key: s}), logs.String(), string(b),
	} {
		require.NotContains(t, out, "topsecret")
		require.Contains(t, out, "[REDACTED]")
	}
	require.Equal(t, "lkut_topsecret", s.Reveal())
	require.False(t, s.IsZero())
	require.True(t, client.Secret{}.IsZero())
}

func TestResponseShape(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		route string
		c     canned
		call  func(c *client.Client) error
	}{
		{"html 200", "GET /v1/users/u1", canned{status: 200, ctype: "text/html; charset=utf-8", body: "<html><body>Welcome to nginx</body></html>"},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"no content type", "GET /v1/users/u1", canned{status: 200, ctype: " ", body: `{"id":"u1"}`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"truncated json", "GET /v1/users/u1", canned{status: 200, body: `{"id":"u1"`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"empty body", "GET /v1/users/u1", canned{status: 200, body: ``},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"trailing data", "GET /v1/users/u1", canned{status: 200, body: `{"id":"u1"} {"id":"u2"}`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"array instead of object", "GET /v1/users/u1", canned{status: 200, body: `[{"id":"u1"}]`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"missing id", "GET /v1/users/u1", canned{status: 200, body: `{"email":"a@b.c"}`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"wrong field type", "GET /v1/users/u1", canned{status: 200, body: `{"id":"u1","created_at":"yesterday"}`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"list without items", "GET /v1/users", canned{status: 200, body: `{"users":[]}`},
			func(c *client.Client) error { _, _, err := c.ListUsers(ctx, client.ListOptions{}); return err }},
		{"list item without id", "GET /v1/users", canned{status: 200, body: `{"items":[{"id":"u1"},{}]}`},
			func(c *client.Client) error { _, _, err := c.ListUsers(ctx, client.ListOptions{}); return err }},
		{"unknown permission", "POST /v1/tokens/" + testTokenID + "/refresh", canned{status: 200, body: `{"token":{"id":"t","permissions":["users:fly"]},"credential":"lkut_x"}`},
			func(c *client.Client) error { _, err := c.RotateToken(ctx, testTokenID); return err }},
		{"rotation without credential", "POST /v1/tokens/" + testTokenID + "/refresh", canned{status: 200, body: `{"token":{"id":"t","permissions":[]}}`},
			func(c *client.Client) error { _, err := c.RotateToken(ctx, testTokenID); return err }},
		{"validation contradicts itself", "POST /v1/licenses/validate", canned{status: 200, body: `{"valid":true,"code":"REVOKED"}`},
			func(c *client.Client) error {
				_, err := c.ValidateLicense(ctx, testKey, client.ValidateOptions{})
				return err
			}},
		{"validation without code", "POST /v1/licenses/validate", canned{status: 200, body: `{"valid":true}`},
			func(c *client.Client) error {
				_, err := c.ValidateLicense(ctx, testKey, client.ValidateOptions{})
				return err
			}},
		{"introspection without active", "POST /v1/auth/introspect", canned{status: 200, body: `{}`},
			func(c *client.Client) error { _, err := c.Introspect(ctx, client.NewSecret("x")); return err }},
		{"token without access_token", "POST /v1/auth/token", canned{status: 200, body: `{"token_type":"Bearer","expires_in":60}`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"token not bearer", "POST /v1/auth/token", canned{status: 200, body: `{"access_token":"a","token_type":"mac","expires_in":60}`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"token without expiry", "POST /v1/auth/token", canned{status: 200, body: `{"access_token":"a","token_type":"Bearer"}`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
		{"token html", "POST /v1/auth/token", canned{status: 200, ctype: "text/html", body: `<html></html>`},
			func(c *client.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			c, _ := f.newClient(t)
			f.script(tt.route, tt.c)
			err := tt.call(c)
			require.ErrorIs(t, err, client.ErrMalformedResponse)
			var ae *client.APIError
			require.False(t, errors.As(err, &ae))
		})
	}
}

func TestBodySizeCapped(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	f.script("GET /v1/users/u1", canned{handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"u1","name":"`))
		chunk := []byte(strings.Repeat("a", 1<<20))
		for range 11 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}`))
	}})
	_, err := c.GetUser(context.Background(), "u1")
	require.ErrorIs(t, err, client.ErrMalformedResponse)
	require.Contains(t, err.Error(), "larger than")
}

func TestValidateLicenseFree(t *testing.T) {
	f := newFakeAPI(t)
	ctx := context.Background()
	v, err := client.ValidateLicense(ctx, f.srv.Client(), f.srv.URL, testKey, client.ValidateOptions{ProductID: "p1"})
	require.NoError(t, err)
	require.True(t, v.Valid)
	require.Equal(t, client.CodeValid, v.Code)
	require.Equal(t, "lic1", v.License.ID)

	v, err = client.ValidateLicense(ctx, f.srv.Client(), f.srv.URL, testKey, client.ValidateOptions{ProductID: "p2"})
	require.NoError(t, err)
	require.False(t, v.Valid)
	require.Equal(t, client.CodeProductMismatch, v.Code)

	v, err = client.ValidateLicense(ctx, nil, f.srv.URL, "NOPE", client.ValidateOptions{})
	require.NoError(t, err)
	require.Equal(t, client.CodeNotFound, v.Code)
	require.Nil(t, v.License)

	require.EqualValues(t, 0, f.exchanges.Load(), "no credential involved")
	for _, a := range f.auth {
		require.Empty(t, a, "no Authorization header")
	}

	f.script("POST /v1/licenses/validate", canned{status: 429, body: body429Addr, header: map[string]string{"Retry-After": "60"}})
	_, err = client.ValidateLicense(ctx, nil, f.srv.URL, testKey, client.ValidateOptions{})
	require.ErrorIs(t, err, client.ErrTooManyRequests)

	_, err = client.ValidateLicense(ctx, nil, f.srv.URL, "", client.ValidateOptions{})
	require.Error(t, err)
}

func TestClientValidateLicenseSendsNoCredential(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	v, err := c.ValidateLicense(context.Background(), testKey, client.ValidateOptions{})
	require.NoError(t, err)
	require.True(t, v.Valid)
	require.EqualValues(t, 0, f.exchanges.Load())
	require.Equal(t, []string{""}, f.auth)
}

func TestCloseRevokesRefreshToken(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	ctx := context.Background()
	_, err := c.GetUser(ctx, "u1")
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Equal(t, []string{"lkrt_refresh001"}, f.revoked)
	_, err = c.GetUser(ctx, "u1")
	require.ErrorIs(t, err, client.ErrClosed)
	require.NoError(t, c.Close())
	require.EqualValues(t, 1, f.revokes.Load())

	// A client that never exchanged has nothing to revoke.
	c2, _ := f.newClient(t)
	require.NoError(t, c2.Close())
	require.EqualValues(t, 1, f.revokes.Load())
}

func TestRevokeOwnTokenForgetsIt(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	ctx := context.Background()
	_, err := c.GetUser(ctx, "u1")
	require.NoError(t, err)
	require.NoError(t, c.Revoke(ctx, client.NewSecret(client.CachedRefreshToken(c))))
	require.Empty(t, client.CachedAccessToken(c))
	_, err = c.GetUser(ctx, "u1")
	require.NoError(t, err)
	require.EqualValues(t, 2, f.exchanges.Load())
}

func TestRotateOwnTokenSwitchesCredential(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	ctx := context.Background()
	_, err := c.GetUser(ctx, "u1")
	require.NoError(t, err)
	old := client.CachedAccessToken(c)

	rt, err := c.RotateToken(ctx, testTokenID)
	require.NoError(t, err)
	require.Equal(t, testTokenID, rt.Token.ID)
	require.True(t, rt.Token.Permissions.Has(permission.ViewUsers))
	require.NotEqual(t, testUserToken, rt.Credential.Reveal())

	_, err = c.GetUser(ctx, "u1")
	require.NoError(t, err, "the client exchanged its new credential")
	require.EqualValues(t, 2, f.exchanges.Load())
	require.NotEqual(t, old, client.CachedAccessToken(c))
}

func TestIntrospect(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	ctx := context.Background()
	_, err := c.GetUser(ctx, "u1")
	require.NoError(t, err)
	in, err := c.Introspect(ctx, client.NewSecret(client.CachedAccessToken(c)))
	require.NoError(t, err)
	require.True(t, in.Active)
	require.Equal(t, permission.NewSet(permission.ViewUsers, permission.CreateUsers), in.Scope)
	require.Equal(t, testTokenID, in.ClientID)
	require.Equal(t, time.Unix(1900000000, 0).UTC(), in.ExpiresAt)

	in, err = c.Introspect(ctx, client.NewSecret("lkat_nope"))
	require.NoError(t, err)
	require.Equal(t, client.Introspection{}, in)
}

func TestEmptyIDRefusedLocally(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	_, err := c.GetUser(context.Background(), "")
	require.Error(t, err)
	require.EqualValues(t, 0, f.apiCalls.Load())
	require.EqualValues(t, 0, f.exchanges.Load())
}

func TestIDsArePathEscaped(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	var got string
	f.script("GET /v1/users/a/../b?x", canned{handler: func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath()
		writeJSON(w, 404, map[string]string{"error": "Not found"})
	}})
	_, err := c.GetUser(context.Background(), "a/../b?x")
	require.ErrorIs(t, err, client.ErrNotFound)
	require.Equal(t, "/v1/users/a%2F..%2Fb%3Fx", got, "one path segment, nothing interpreted")
}

func TestBasePathPrefix(t *testing.T) {
	f := newFakeAPI(t)
	mux := http.NewServeMux()
	mux.Handle("/licensing/", http.StripPrefix("/licensing", f.srv.Config.Handler))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := client.New(client.Config{BaseURL: srv.URL + "/licensing/", UserTokenID: testTokenID, UserToken: client.NewSecret(testUserToken)})
	require.NoError(t, err)
	u, err := c.GetUser(context.Background(), "u1")
	require.NoError(t, err)
	require.Equal(t, "u1", u.ID)
}

func TestDeleteNoContent(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	require.NoError(t, c.DeleteUser(context.Background(), "u1"))
}

func TestHTTPClientForHostRoutes(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	hc := c.HTTPClient()

	resp, err := hc.Get(f.srv.URL + "/v1/users/u1")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	// A 401 is refreshed and replayed once.
	f.killAccess()
	resp, err = hc.Post(f.srv.URL+"/v1/users", "application/json", strings.NewReader(`{"email":"z@acme.test","name":"Z"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode)
	require.EqualValues(t, 1, f.refreshes.Load())

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request reached another origin with %q", r.Header.Get("Authorization"))
	}))
	defer other.Close()
	_, err = hc.Get(other.URL + "/steal")
	require.Error(t, err)
}

func TestOAuthErrorDescription(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.newClient(t)
	f.script("POST /v1/auth/token", canned{status: 400, body: `{"error":"invalid_request","error_description":"bad ` + testUserToken + `"}`})
	_, err := c.GetUser(context.Background(), "u1")
	require.ErrorIs(t, err, client.ErrBadRequest)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "invalid_request", ae.Message)
	require.Equal(t, "bad [REDACTED]", ae.Description)
	require.Equal(t, "licensekit: 400 invalid_request: bad [REDACTED]", err.Error())
}

func TestLicensePatchJSON(t *testing.T) {
	plan, none, zero := "pl1", "", time.Time{}
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	attrs, empty := map[string]string{"a": "b"}, map[string]string(nil)
	for _, tt := range []struct {
		p    client.LicensePatch
		want string
	}{
		{client.LicensePatch{}, `{}`},
		{client.LicensePatch{PlanID: &plan, ExpiresAt: &exp, Attributes: &attrs}, `{"attributes":{"a":"b"},"expires_at":"2027-01-02T03:04:05Z","plan_id":"pl1"}`},
		{client.LicensePatch{PlanID: &none, ExpiresAt: &zero, Attributes: &empty}, `{"attributes":{},"expires_at":null,"plan_id":null}`},
	} {
		b, err := json.Marshal(tt.p)
		require.NoError(t, err)
		require.JSONEq(t, tt.want, string(b))
	}
}

func TestNewTypesOmitOptionalFields(t *testing.T) {
	b, err := json.Marshal(client.NewLicense{CustomerID: "c", ProductID: "p"})
	require.NoError(t, err)
	require.JSONEq(t, `{"customer_id":"c","product_id":"p"}`, string(b))
	b, err = json.Marshal(client.UserPatch{})
	require.NoError(t, err)
	require.JSONEq(t, `{}`, string(b))
}
