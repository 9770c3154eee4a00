package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/httpadapter/console"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
	"github.com/licensekit/licensekit/store/pgstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// run runs the subcommand named by args[0] ("serve" when args is empty or
// starts with a flag) until ctx is cancelled.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stdout, stderr)
	case "review":
		err = review(ctx, args, getenv, stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q (commands: serve, review)", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// serve is the host: configuration, store, engine, HTTP, shutdown.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address` (port 0 picks a free port)")
	dataDir := fs.String("data", "licensekit-data", "data `directory`")
	credsFile := fs.String("demo-credentials", "", "when seeding, also write the demo secrets to `file` as JSON (mode 0600)")
	demoLimit := fs.Int64("demo-limit", 1_000_000, "the demo tenant's API requests and license validations per minute (0: unlimited)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate `file`")
	tlsKey := fs.String("tls-key", "", "the PEM private key `file` of -tls-cert")
	postgres := fs.String("postgres", "", "keep the data in PostgreSQL at this `DSN` instead of Badger in -data (or LICENSEKIT_POSTGRES_DSN)")
	proxies := fs.String("trusted-proxies", "", "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For names the client")
	secureCookies := fs.Bool("secure-cookies", false, "mark the console's cookies Secure (__Host-) although requests arrive over HTTP: set it behind a TLS-terminating proxy")
	if err := fs.Parse(args); err != nil {
		return err
	}
	trusted, err := parsePrefixes(*proxies)
	if err != nil {
		return fmt.Errorf("-trusted-proxies: %w", err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case (*tlsCert == "") != (*tlsKey == ""):
		return errors.New("-tls-cert and -tls-key go together")
	case *demoLimit < 0:
		return errors.New("-demo-limit must not be negative")
	}
	limitSet := false
	fs.Visit(func(f *flag.Flag) { limitSet = limitSet || f.Name == "demo-limit" })

	log := slog.New(slog.NewTextHandler(stderr, nil))

	// Listen first: a busy port must fail before the demo is seeded, or its
	// secrets, shown once, would be lost.
	scheme, tlsConfig := "http", (*tls.Config)(nil)
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("loading -tls-cert and -tls-key: %w", err)
		}
		scheme, tlsConfig = "https", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close() // closed by Shutdown already, unless startup fails
	bound := ln.Addr().(*net.TCPAddr)
	if scheme == "http" && !bound.IP.IsLoopback() {
		log.Warn("plain HTTP is for loopback development: credentials would cross the network in clear; use -tls-cert and -tls-key, or a TLS-terminating proxy (with -trusted-proxies and -secure-cookies)",
			"addr", bound.String())
	}
	base := baseURL(scheme, *addr, bound)

	// The master secret comes from outside the store.
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	key, err := masterKey(getenv, *dataDir, log)
	if err != nil {
		return err
	}

	// The store: Badger in the data directory (its own logs: warnings and
	// errors only), or PostgreSQL. Deferred closes run last to first:
	// engine, then store.
	if *postgres == "" {
		*postgres = getenv("LICENSEKIT_POSTGRES_DSN")
	}
	var (
		st       store.Store
		cacheTTL time.Duration
		shared   bool
	)
	if *postgres != "" {
		st, err = pgstore.Open(ctx, *postgres, pgstore.Options{})
		// Other replicas may write to the same database: trust cached
		// credential state for two seconds at most, and count quotas in
		// the database so that the replicas together keep the limits.
		cacheTTL, shared = 2*time.Second, true
	} else {
		st, err = badgerstore.Open(filepath.Join(*dataDir, "store"), badgerstore.Options{
			Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeStep(log, "store", st.Close)) }()

	// The engine: every rule of the product lives here. Its logger also
	// receives every audit event (never a secret); Config.Observer would
	// hand them to the host's alerting.
	eng, err := engine.New(engine.Config{Store: st, MasterKey: key, Logger: log, CacheTTL: cacheTTL, SharedQuotas: shared})
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, closeStep(log, "engine (batched quota counters, token usage and audit events flushed)", eng.Close))
	}()

	demo, err := seedDemo(ctx, eng, *demoLimit, limitSet, log)
	if err != nil {
		return err
	}

	// HTTP: the API under /v1 and the host's own routes on the host's mux.
	// The adapter's middleware guards a host route with the same tokens.
	api := httpadapter.New(eng, httpadapter.Options{Logger: log, TrustedProxies: trusted})
	// The admin console: administrators sign in with email and password
	// and manage users and user tokens. It resolves client addresses
	// through the adapter, so both believe the same proxies.
	con, err := console.New(eng, console.Options{Adapter: api, Logger: log, SecureCookies: *secureCookies})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("/console/", con)
	mux.Handle("GET /hello", api.Require(permission.ViewLicenses)(http.HandlerFunc(hello)))

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if tlsConfig != nil {
		srv.TLSConfig = tlsConfig
		srv.Handler = hsts(mux)
	}
	where := *dataDir
	if *postgres != "" {
		where = "the PostgreSQL database (drop its licensekit schema)"
	}
	printDemo(stdout, log, base, demo, *credsFile, where)
	fmt.Fprintf(stdout, "admin console at %s/console/\n", base)
	fmt.Fprintf(stdout, "listening on %s\n", base)
	log.Info("serving", "addr", bound.String(), "scheme", scheme, "data", *dataDir)

	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}

	// Graceful shutdown: stop accepting, let requests in flight finish.
	// The deferred closes then flush the engine and close the store.
	log.Info("shutting down: draining HTTP requests")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("HTTP shutdown: %w", err)
	}
	<-served // http.ErrServerClosed
	log.Info("HTTP server stopped")
	return nil
}

// hello is the host's own route. Require(permission.ViewLicenses) has
// verified the access token, checked the permission and charged the
// tenant's API quota; the principal says who is calling.
func hello(w http.ResponseWriter, r *http.Request) {
	p, _ := httpadapter.PrincipalFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"message":   "hello from the host",
		"tenant_id": p.TenantID,
		"token_id":  p.TokenID.String(),
	})
}

// parsePrefixes reads a comma-separated list of CIDRs.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// hsts tells browsers to reach this host over HTTPS only, from now on.
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		next.ServeHTTP(w, r)
	})
}

// closeStep closes one component and logs the outcome.
func closeStep(log *slog.Logger, what string, close func() error) error {
	if err := close(); err != nil {
		log.Error("closing "+what, "error", err)
		return fmt.Errorf("closing %s: %w", what, err)
	}
	log.Info("closed " + what)
	return nil
}

// baseURL is the URL to print for the server: the host named in -addr, or
// 127.0.0.1 when it names none or all interfaces, and the bound port.
func baseURL(scheme, addr string, bound *net.TCPAddr) string {
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, fmt.Sprint(bound.Port))
}
