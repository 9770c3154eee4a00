package httpadapter

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes
// is zero.
const DefaultMaxBodyBytes = 64 << 10

// DefaultRealm is the WWW-Authenticate realm when Options.Realm is empty.
const DefaultRealm = "licensekit"

// ErrorRenderer writes an error response: status is the HTTP status and
// message the contract's message ("Invalid token", "Access denied", …, or
// a clear description of malformed input). When it is called the adapter
// has already set the response's other headers (WWW-Authenticate,
// Retry-After, RateLimit-*, Cache-Control, X-Content-Type-Options); the
// renderer sets Content-Type, writes the status and the body. message
// never holds a secret. The default, DefaultErrorRenderer, writes
// {"error": message}.
type ErrorRenderer func(w http.ResponseWriter, r *http.Request, status int, message string)

// Options configures an Adapter. Every zero value is the documented
// default.
type Options struct {
	// MaxBodyBytes caps request bodies; a larger body is refused with 413.
	// Zero: DefaultMaxBodyBytes (64 KiB).
	MaxBodyBytes int64
	// TrustedProxies are the reverse proxies whose forwarding header is
	// believed. The client address is the connection's peer unless that
	// peer is in one of these prefixes; then it is read from
	// ForwardedHeader: the right-most address that is not itself a trusted
	// proxy. Empty: forwarding headers are ignored.
	TrustedProxies []netip.Prefix
	// ForwardedHeader names the one header the trusted proxies set:
	// "X-Forwarded-For" or "Forwarded" (RFC 7239). Only that header is
	// read: most proxies append to one header and pass the other through
	// untouched, so reading whichever is present would let a client choose
	// its own address. Empty: "X-Forwarded-For".
	ForwardedHeader string
	// ErrorRenderer writes error responses. Nil: DefaultErrorRenderer.
	ErrorRenderer ErrorRenderer
	// Logger receives the adapter's own logs: internal errors (5xx) with
	// the route pattern and the error. It never receives a secret, a body
	// or an Authorization header. Nil: discarded.
	Logger *slog.Logger
	// Realm is the realm of WWW-Authenticate challenges. Empty:
	// DefaultRealm. Quotes and backslashes are escaped; control
	// characters are dropped.
	Realm string
}

// Adapter serves licensekit's HTTP API over an *engine.Engine and offers
// middleware for the host's own routes. It holds no business rule: every
// decision is the engine's. Create it with New; it is safe for concurrent
// use and holds no global state.
type Adapter struct {
	eng     *engine.Engine
	mux     *http.ServeMux
	maxBody int64
	trusted []netip.Prefix
	// forwarded: read Forwarded (RFC 7239) rather than X-Forwarded-For.
	forwarded bool
	render    ErrorRenderer
	custom    bool // render is the host's, not the default
	log       *slog.Logger
	routes    []*route
	openapi   []byte
	realm     string
	chNone    string // WWW-Authenticate with no credentials (RFC 6750 §3.1)
	chBad     string // WWW-Authenticate for any refused token
	chScope   string // prefix of the insufficient_scope challenge
	routeFor  map[string]*route
}

var _ http.Handler = (*Adapter)(nil)

// New returns an Adapter serving every route of the API (see Routes) on a
// private http.ServeMux. Routes are registered under "/v1/"; mount the
// adapter under another prefix with http.StripPrefix. eng must not be nil
// (New panics, as http.Handle does for a nil handler), and
// opts.ForwardedHeader must be empty or name one of the two supported
// headers.
func New(eng *engine.Engine, opts Options) *Adapter {
	if eng == nil {
		panic("httpadapter: New with a nil *engine.Engine")
	}
	a := &Adapter{
		eng:     eng,
		mux:     http.NewServeMux(),
		maxBody: opts.MaxBodyBytes,
		trusted: append([]netip.Prefix(nil), opts.TrustedProxies...),
		render:  opts.ErrorRenderer,
		log:     opts.Logger,
	}
	if a.maxBody <= 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	switch http.CanonicalHeaderKey(opts.ForwardedHeader) {
	case "", "X-Forwarded-For":
	case "Forwarded":
		a.forwarded = true
	default:
		// A misspelt header would silently trust nothing (or the wrong
		// thing): refuse it as http.Handle refuses a bad pattern.
		panic(fmt.Sprintf("httpadapter: Options.ForwardedHeader %q: want X-Forwarded-For or Forwarded", opts.ForwardedHeader))
	}
	for i, p := range a.trusted {
		a.trusted[i] = p.Masked()
	}
	if a.render == nil {
		a.render = DefaultErrorRenderer
	} else {
		a.custom = true
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	realm := opts.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	a.realm = quoteRealm(realm)
	a.chNone = `Bearer realm="` + a.realm + `"`
	a.chBad = `Bearer realm="` + a.realm + `", error="invalid_token"`
	a.chScope = `Bearer realm="` + a.realm + `", error="insufficient_scope"`

	a.routes = buildRoutes()
	a.routeFor = make(map[string]*route, len(a.routes))
	for _, rt := range a.routes {
		a.mux.Handle(rt.method+" "+rt.pattern, a.serveRoute(rt))
		a.routeFor[rt.method+" "+rt.pattern] = rt
	}
	a.openapi = buildOpenAPI(a.routes, a.realm)
	return a
}

// quoteRealm escapes s for a quoted-string (RFC 9110 §5.6.4).
func quoteRealm(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ServeHTTP serves the API. A path that matches no route is 404 and a
// known path with another method is 405 (with Allow), both with a JSON
// error body; a path that is not canonical ("//", "/./", "/../") is 404
// rather than a redirect.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	p := r.URL.EscapedPath()
	if p == "" || p != cleanPath(p) {
		a.fail(w, r, http.StatusNotFound, msgNotFound)
		return
	}
	if _, pattern := a.mux.Handler(r); pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	// No route: ask the mux whether the path exists with other methods.
	var cw captureWriter
	handler, _ := a.mux.Handler(r)
	handler.ServeHTTP(&cw, r)
	if cw.status == http.StatusMethodNotAllowed {
		if allow := cw.header.Get("Allow"); allow != "" {
			h.Set("Allow", allow)
		}
		a.fail(w, r, http.StatusMethodNotAllowed, msgMethodNotAllowed)
		return
	}
	a.fail(w, r, http.StatusNotFound, msgNotFound)
}

// cleanPath is net/http's canonical form of a request path.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// captureWriter records what the mux's own 404/405 handlers would write.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header {
	if c.header == nil {
		c.header = http.Header{}
	}
	return c.header
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}
func (c *captureWriter) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}

// --- client address ---------------------------------------------------------

// ClientAddr returns the client address of r as the adapter sees it: the
// connection's peer, or, when the peer is a trusted proxy, the address the
// forwarding headers name (see Options.TrustedProxies). It is the zero
// Addr when the peer is not an IP address (a Unix socket, a pipe).
func (a *Adapter) ClientAddr(r *http.Request) netip.Addr {
	peer := parsePeer(r.RemoteAddr)
	if !peer.IsValid() || !a.isTrusted(peer) {
		return peer
	}
	var hops []string
	if a.forwarded {
		hops = forwardedFor(r.Header.Values("Forwarded"))
	} else {
		for _, line := range r.Header.Values("X-Forwarded-For") {
			for h := range strings.SplitSeq(line, ",") {
				hops = append(hops, strings.TrimSpace(h))
			}
		}
	}
	// Walk from the nearest hop outwards: every trusted proxy vouches for
	// the hop before it; the first address that is not a trusted proxy is
	// the client. A hop that does not parse (obfuscated, "unknown",
	// garbage) ends the walk at the last proxy that could be identified.
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		addr, ok := parseHop(hops[i])
		if !ok {
			return client
		}
		client = addr
		if !a.isTrusted(addr) {
			return addr
		}
	}
	return client
}

func (a *Adapter) isTrusted(addr netip.Addr) bool {
	for _, p := range a.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func parsePeer(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	if addr, err := netip.ParseAddr(remote); err == nil {
		return addr.Unmap()
	}
	return netip.Addr{}
}

// parseHop reads one forwarded address: "192.0.2.1", "192.0.2.1:443",
// "2001:db8::1", "[2001:db8::1]:443", with optional quotes.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if s == "" {
		return netip.Addr{}, false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if addr, err := netip.ParseAddr(s); err == nil && addr.Zone() == "" {
		return addr.Unmap(), true
	}
	return netip.Addr{}, false
}

// forwardedFor returns the for= values of Forwarded header lines (RFC 7239
// §4), nearest proxy last; an element without for= yields "".
func forwardedFor(lines []string) []string {
	var out []string
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			v := ""
			for pair := range strings.SplitSeq(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					v = strings.TrimSpace(val)
				}
			}
			out = append(out, v)
		}
	}
	return out
}

// --- middleware for the host's routes ---------------------------------------

type principalKey struct{}

// PrincipalFrom returns the principal Authenticate (or Require) put in ctx.
func PrincipalFrom(ctx context.Context) (*engine.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*engine.Principal)
	return p, ok && p != nil
}

// withPrincipal returns ctx carrying p.
func withPrincipal(ctx context.Context, p *engine.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Authenticate is middleware for the host's own routes: it verifies the
// request's Bearer access token with engine.Authenticate and serves next
// with the principal in the request context (PrincipalFrom). A refused
// token is answered 401 (402 when the tenant's platform license is
// invalid) exactly as the API's own routes answer it. Authenticate
// charges no quota: Require, or any engine operation the handler performs
// with the principal, does.
func (a *Adapter) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.authenticate(w, r, a.ClientAddr(r))
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// Require is middleware for the host's own routes that need one
// permission: it authenticates the request if Authenticate has not
// already, then asks engine.Authorize, which checks the permission and
// charges one request to the tenant's API quota. Refusals are answered
// 401, 402, 403 (with an insufficient_scope challenge naming perm) or 429
// (with Retry-After and RateLimit-*), in that precedence; an admitted
// request carries the RateLimit-* headers when the tenant has a limit.
//
// An engine operation the handler then performs with the principal is
// charged again: guard a handler either with Require or with the engine
// operation's own check, not both, when quota matters.
func (a *Adapter) Require(perm permission.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			if !ok {
				if p, ok = a.authenticate(w, r, a.ClientAddr(r)); !ok {
					return
				}
				r = r.WithContext(withPrincipal(r.Context(), p))
			}
			if err := a.eng.Authorize(r.Context(), p, perm); err != nil {
				a.writeError(w, r, err, p, perm.Code())
				return
			}
			a.setQuotaHeaders(w, p)
			next.ServeHTTP(w, r)
		})
	}
}

// authenticate verifies the Bearer token of r; on failure it writes the
// answer and returns false.
func (a *Adapter) authenticate(w http.ResponseWriter, r *http.Request, addr netip.Addr) (*engine.Principal, bool) {
	token, presented := bearerToken(r)
	if !presented {
		a.unauthorized(w, r, false)
		return nil, false
	}
	p, err := a.eng.Authenticate(r.Context(), token, addr)
	if err != nil {
		a.writeError(w, r, err, nil, "")
		return nil, false
	}
	return p, true
}

// bearerToken returns the token of an "Authorization: Bearer" header.
// presented is false when the request carries no Bearer credentials at
// all (no header, an empty one, or another scheme: RFC 6750 §3.1); a
// Bearer header that is malformed (no token, several headers) is presented
// with an empty token, which the engine refuses like any bad token.
func bearerToken(r *http.Request) (token string, presented bool) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return "", false
	}
	if len(vals) > 1 {
		return "", true
	}
	v := strings.TrimSpace(vals[0])
	if v == "" {
		return "", false
	}
	scheme, rest := v, ""
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		scheme, rest = v[:i], v[i+1:]
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}
