package console

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
)

// DefaultPrefix is where the console is mounted when Options.Prefix is
// empty.
const DefaultPrefix = "/console/"

// MaxBodyBytes caps every request body the console reads. Its forms are
// small; a larger body is refused with 413 before it is parsed.
const MaxBodyBytes = 64 << 10

// ErrInvalidOptions is returned by New for an unusable Options (or a nil
// engine); the message says which field.
var ErrInvalidOptions = errors.New("console: invalid options")

// Options configures a Console. Every zero value is the documented
// default.
type Options struct {
	// Prefix is the path the console is mounted under: it must start and
	// end with '/', be clean, and hold only letters, digits and "-._~/".
	// Every link, redirect and the cookie's path derive from it. Empty:
	// DefaultPrefix ("/console/").
	Prefix string
	// Adapter, when set, resolves each request's client address with
	// Adapter.ClientAddr, so the console believes the same trusted
	// proxies as the API (the address feeds sign-in throttling and the
	// audit log). Nil: the connection's peer address.
	Adapter *httpadapter.Adapter
	// TenantID, when set, fixes the tenant every administrator signs in
	// to (a single-tenant host): the sign-in form then asks only for
	// email and password. Empty: the form has a tenant field.
	TenantID string
	// SecureCookies makes the session cookie the "__Host-" one with the
	// Secure attribute even when a request did not arrive over TLS. Set it
	// when a reverse proxy terminates TLS in front of the host; without it
	// the console sees plain HTTP there and sends a cookie a browser
	// would also send over plain HTTP.
	SecureCookies bool
	// TrustedOrigins are origins ("https://admin.example.com") whose form
	// posts are accepted even when they look cross-origin. Browsers that
	// send no Sec-Fetch-Site are judged by comparing Origin with the Host
	// header, so a reverse proxy that rewrites Host needs its public
	// origin here. Each must be scheme://host[:port]. Empty: only
	// same-origin posts.
	TrustedOrigins []string
	// Logger receives the console's own logs: internal errors (5xx) with
	// the route and the error, never a form value, cookie or credential.
	// Nil: discarded.
	Logger *slog.Logger
	// Clock tells the time for display ("3 minutes ago") and for the
	// earliest date the expiry picker offers. Nil: time.Now. Give it the
	// engine's clock.
	Clock func() time.Time
}

// Console is the admin console: an http.Handler serving every page under
// its prefix. Create it with New; it is safe for concurrent use and holds
// no global state.
type Console struct {
	eng      *engine.Engine
	prefix   string
	adapter  *httpadapter.Adapter
	tenantID string
	secure   bool
	log      *slog.Logger
	now      func() time.Time

	handler http.Handler
	mux     *http.ServeMux
	pages   map[string]*template.Template
	assets  map[string]asset
}

var _ http.Handler = (*Console)(nil)

// New returns a Console over eng. Mount it at its prefix:
//
//	mux.Handle("/console/", console)
func New(eng *engine.Engine, opts Options) (*Console, error) {
	if eng == nil {
		return nil, fmt.Errorf("%w: nil *engine.Engine", ErrInvalidOptions)
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	c := &Console{
		eng:      eng,
		prefix:   prefix,
		adapter:  opts.Adapter,
		tenantID: opts.TenantID,
		secure:   opts.SecureCookies,
		log:      opts.Logger,
		now:      opts.Clock,
		mux:      http.NewServeMux(),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	var err error
	if c.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if c.pages, err = c.parseTemplates(); err != nil {
		return nil, err
	}
	c.routes()
	// Cross-origin protection guards every unsafe request, the sign-in
	// form included: it has no session yet, so no anti-forgery token
	// can protect it, and a forged sign-in would put the victim in the
	// attacker's session (login CSRF).
	cop := http.NewCrossOriginProtection()
	for _, o := range opts.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("%w: TrustedOrigins: %v", ErrInvalidOptions, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, nil, http.StatusForbidden, "Request refused",
			"The request came from another site. Reload the page and submit the form again.")
	}))
	c.handler = cop.Handler(c.mux)
	return c, nil
}

// checkPrefix refuses a prefix that is not a clean absolute directory
// path of plain characters: it goes into mux patterns, cookie paths and
// links, where a '{', a space or a ".." would each mean something else.
func checkPrefix(p string) error {
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
		return fmt.Errorf("%w: Prefix %q must start and end with '/'", ErrInvalidOptions, p)
	}
	if p != "/" && path.Clean(p)+"/" != p {
		return fmt.Errorf("%w: Prefix %q is not a clean path", ErrInvalidOptions, p)
	}
	for _, ch := range p {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.ContainsRune("-._~/", ch)) {
			return fmt.Errorf("%w: Prefix %q: only letters, digits and \"-._~/\"", ErrInvalidOptions, p)
		}
	}
	return nil
}

// Prefix is the path the console serves under.
func (c *Console) Prefix() string { return c.prefix }

// ServeHTTP serves the console. Every response carries the security
// headers (Content-Security-Policy and the rest), whatever its status.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	// Pages hold tenant data and (once) credentials: nothing may keep
	// them. The asset handler relaxes this for its own responses.
	h.Set("Cache-Control", "no-store")
	c.handler.ServeHTTP(w, r)
}

// contentSecurityPolicy allows only the console's own files: no inline
// script or style at all, so an injected tag can do nothing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// routes registers every page. The layout is a contract with the host's
// end-to-end tests: keep paths, field names and element ids.
func (c *Console) routes() {
	handle := func(method, rel string, h http.HandlerFunc) {
		c.mux.HandleFunc(method+" "+c.prefix+rel, h)
	}
	// The console's own address goes to the token list (or, signed out,
	// to sign-in).
	handle("GET", "{$}", c.authed(func(w http.ResponseWriter, r *http.Request, _ *request) {
		c.redirect(w, r, "tokens")
	}))
	handle("GET", "signin", c.signInPage)
	handle("POST", "signin", c.signIn)
	handle("POST", "signout", c.authed(c.signOut))
	handle("GET", "assets/{name}", c.serveAsset)

	handle("GET", "users", c.authed(c.usersPage))
	handle("GET", "users/new", c.authed(c.newUserPage))
	handle("POST", "users/new", c.authed(c.createUser))
	handle("GET", "users/{id}", c.authed(c.userPage))
	handle("POST", "users/{id}", c.authed(c.updateUser))
	handle("POST", "users/{id}/deactivate", c.authed(c.setUserStatus(false)))
	handle("POST", "users/{id}/reactivate", c.authed(c.setUserStatus(true)))
	handle("POST", "users/{id}/password", c.authed(c.setPassword))

	handle("GET", "tokens", c.authed(c.tokensPage))
	handle("GET", "tokens/new", c.authed(c.newTokenPage))
	handle("POST", "tokens/new", c.authed(c.createToken))
	handle("GET", "tokens/{id}", c.authed(c.tokenPage))
	handle("GET", "tokens/{id}/rotate", c.authed(c.confirmPage("rotate")))
	handle("POST", "tokens/{id}/rotate", c.authed(c.rotateToken))
	handle("POST", "tokens/{id}/deactivate", c.authed(c.setTokenStatus(false)))
	handle("POST", "tokens/{id}/reactivate", c.authed(c.setTokenStatus(true)))
	handle("GET", "tokens/{id}/delete", c.authed(c.confirmPage("delete")))
	handle("POST", "tokens/{id}/delete", c.authed(c.deleteToken))

	handle("GET", "review", c.authed(c.reviewPage))
	handle("POST", "review/{id}/remove-unused", c.authed(c.removeUnused))
	handle("GET", "audit", c.authed(c.auditPage))
	handle("GET", "tenant", c.authed(c.tenantPage))
	handle("GET", "account", c.authed(c.accountPage))
	handle("POST", "account/password", c.authed(c.changePassword))

	// Everything else, under the prefix or not (a host that mounted the
	// console elsewhere than its Prefix), is the console's own 404 page
	// rather than the mux's plain text.
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.notFound(w, r, nil)
	})
}

// clientAddr is the request's client address: the adapter's reading
// (trusted proxies) when one is given, else the peer.
func (c *Console) clientAddr(r *http.Request) netip.Addr {
	if c.adapter != nil {
		return c.adapter.ClientAddr(r)
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

// abs is the absolute path of the console page rel ("tokens",
// "users/…").
func (c *Console) abs(rel string) string { return c.prefix + rel }

// redirect answers a 303 See Other to the console path rel (which may
// carry a query), so a POST's result is fetched with GET and a reload
// does not repeat the action.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, rel string) {
	http.Redirect(w, r, c.abs(rel), http.StatusSeeOther)
}
