package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
)

// errServerRunning says that review found the store in use.
var errServerRunning = errors.New("the server is running")

// review prints the least-privilege review of a tenant's user tokens as
// plain text. It opens the data directory's store itself, so the server
// must not be running (a running server holds the store's lock; ask it
// instead: GET /v1/review with an audit:view token).
//
//	go run ./example review [-data DIR] [-tenant demo] [-stale-days 30] [-window-days 90] [-expiring-days 30]
func review(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	fls := flag.NewFlagSet("review", flag.ContinueOnError)
	fls.SetOutput(stderr)
	dataDir := fls.String("data", "licensekit-data", "data `directory` of the (stopped) server")
	tenantID := fls.String("tenant", demoTenant, "the `tenant` to review")
	staleDays := fls.Int("stale-days", 30, "a token unused for longer than this many `days` is stale")
	windowDays := fls.Int("window-days", 90, "the `days` whose use decide the permissions a token needs")
	expiringDays := fls.Int("expiring-days", 30, "report tokens expiring within this many `days`")
	if err := fls.Parse(args); err != nil {
		return err
	}
	if fls.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fls.Args())
	}
	for _, d := range []*int{staleDays, windowDays, expiringDays} {
		if *d < 1 || *d > 3650 {
			return errors.New("-stale-days, -window-days and -expiring-days must be from 1 to 3650")
		}
	}

	dir := filepath.Join(*dataDir, "store")
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no store in %s: start the server once to seed it", *dataDir)
	}
	warn := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := badgerstore.Open(dir, badgerstore.Options{Logger: warn})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: the store in %s is locked by it; stop the server first, or ask it: "+
			"GET /v1/review with a token holding audit:view", errServerRunning, dir)
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	key, err := reviewKey(getenv, *dataDir)
	if err != nil {
		return err
	}
	// An engine only to read: no alert rules, nothing is written (Close
	// has nothing to flush).
	eng, err := engine.New(engine.Config{Store: st, MasterKey: key, Logger: warn, AlertRules: []engine.AlertRule{}})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, eng.Close()) }()

	day := 24 * time.Hour
	r, err := eng.Review(ctx, engine.System(), *tenantID, engine.ReviewOptions{
		StaleAfter: time.Duration(*staleDays) * day, Window: time.Duration(*windowDays) * day,
		ExpiringWithin: time.Duration(*expiringDays) * day,
	})
	if errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("no tenant %q in %s", *tenantID, *dataDir)
	}
	if err != nil {
		return err
	}
	printReview(stdout, r, *staleDays, *windowDays, *expiringDays)
	return nil
}

// reviewKey is the master key for a read-only engine: the server's when
// it can be found, else a throwaway one (the review reads no credential,
// and no development secret is created behind the operator's back).
func reviewKey(getenv func(string) string, dataDir string) (engine.MasterKey, error) {
	_, statErr := os.Stat(filepath.Join(dataDir, "dev-master-secret"))
	if getenv(secretEnv) != "" || statErr == nil {
		return masterKey(getenv, dataDir, slog.New(slog.DiscardHandler))
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return engine.MasterKey{ID: "review", Secret: b}, nil
}

// printReview writes r as a plain-text report.
func printReview(w io.Writer, r engine.Review, staleDays, windowDays, expiringDays int) {
	date := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	fmt.Fprintf(w, "Token review of tenant %q, %s\n", r.TenantID, date(r.GeneratedAt))
	fmt.Fprintf(w, "window: %d days (since %s); stale after %d days; expiring within %d days", windowDays,
		date(r.WindowStart), staleDays, expiringDays)
	if !r.RotateBefore.IsZero() {
		fmt.Fprintf(w, "; rotation due before %s", date(r.RotateBefore))
	}
	fmt.Fprintf(w, "\n\n")
	if len(r.Tokens) == 0 {
		fmt.Fprintln(w, "No user tokens.")
		return
	}

	sections := []struct {
		f     engine.Finding
		title string
		line  func(engine.TokenReview) string
	}{
		{engine.FindingNeverUsed, "Never used", func(t engine.TokenReview) string {
			return "created " + date(t.Token.CreatedAt)
		}},
		{engine.FindingStale, fmt.Sprintf("Stale (unused for more than %d days)", staleDays), func(t engine.TokenReview) string {
			return "last used " + date(t.LastUsedAt)
		}},
		{engine.FindingUnusedPermissions, "Permissions not used within the window", func(t engine.TokenReview) string {
			return fmt.Sprintf("unused: %s; would have served every request: %s", orNone(t.UnusedPermissions.String()),
				orNone(t.SuggestedPermissions.String()))
		}},
		{engine.FindingNoExpiry, "No expiry", func(engine.TokenReview) string { return "" }},
		{engine.FindingExpiringSoon, fmt.Sprintf("Expiring within %d days", expiringDays), func(t engine.TokenReview) string {
			return "expires " + date(t.Token.ExpiresAt)
		}},
		{engine.FindingExpired, "Expired", func(t engine.TokenReview) string { return "expired " + date(t.Token.ExpiresAt) }},
		{engine.FindingRotationDue, "Older than the tenant's maximum token age (rotate)", func(t engine.TokenReview) string {
			since := t.Token.CreatedAt
			if t.Token.RotatedAt.After(since) {
				since = t.Token.RotatedAt
			}
			return "secret from " + date(since)
		}},
	}
	for _, s := range sections {
		toks := r.With(s.f)
		fmt.Fprintf(w, "%s: %d\n", s.title, len(toks))
		for _, t := range toks {
			line := fmt.Sprintf("  %s  %q (%s)", t.Token.ID, t.Token.Name, t.Token.Status)
			if extra := s.line(t); extra != "" {
				line += "  " + extra
			}
			fmt.Fprintln(w, line)
		}
	}

	fmt.Fprintf(w, "\nAll tokens (%d):\n", len(r.Tokens))
	for _, t := range r.Tokens {
		fmt.Fprintf(w, "  %s  %q (%s)\n", t.Token.ID, t.Token.Name, t.Token.Status)
		fmt.Fprintf(w, "    last used %s", date(t.LastUsedAt))
		if t.LastUsedAddr != "" {
			fmt.Fprintf(w, " from %s", t.LastUsedAddr)
		}
		fmt.Fprintf(w, "; %d requests within the window\n", t.Requests)
		fmt.Fprintf(w, "    holds: %s\n", orNone(t.Token.Permissions.String()))
		fmt.Fprintf(w, "    used within the window: %s\n", orNone(t.SuggestedPermissions.String()))
		findings := make([]string, len(t.Findings))
		for i, f := range t.Findings {
			findings[i] = string(f)
		}
		fmt.Fprintf(w, "    findings: %s\n", orNone(strings.Join(findings, ", ")))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
