package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// Config configures an Engine. Zero values are the documented defaults;
// only Store and MasterKey are required.
type Config struct {
	// Store holds everything. Required.
	Store store.Store
	// MasterKey derives every key of the engine. Required.
	MasterKey MasterKey
	// PreviousMasterKeys are still accepted for verification during a
	// rotation of the master key; new credentials use MasterKey.
	PreviousMasterKeys []MasterKey
	// Clock tells the time. Nil: time.Now.
	Clock func() time.Time
	// Logger receives operational logs (never a secret). Nil: discarded.
	Logger *slog.Logger
	// Observer receives audit events as they happen, off the request path.
	// Nil: none.
	Observer Observer
	// AccessTokenTTL is the lifetime of access tokens. Zero: 24 hours.
	AccessTokenTTL time.Duration
	// RefreshIdleTTL ends a refresh family that was not used for this long.
	// Zero: 14 days.
	RefreshIdleTTL time.Duration
	// RefreshAbsoluteTTL ends a refresh family this long after the
	// exchange that began it, however it is used. Zero: 90 days.
	RefreshAbsoluteTTL time.Duration
	// LicenseKeys makes and reads license keys. Nil: DefaultLicenseKeyFormat.
	LicenseKeys LicenseKeyFormat
	// GuessLimit bounds failed exchanges and failed validations per client
	// address. Zero Limit: 30 per minute with a burst of 30.
	GuessLimit tenant.Rate
	// CacheTTL bounds how long the engine trusts what it cached of the
	// store (credential state, tenant licenses, licenses found by
	// validation). Zero (the default) trusts it until this engine changes
	// it, which is exact when this engine is the store's only writer. When
	// several engines share one store (pgstore behind a load balancer), set
	// it: a revocation, rotation, deactivation or license change made
	// through one engine takes effect on the others within CacheTTL, at the
	// cost of one store read per cached entry per CacheTTL. Set
	// SharedQuotas too, or each engine admits up to the tenant's limit.
	CacheTTL time.Duration
	// SharedQuotas counts tenants' quotas in the store rather than in this
	// engine, for several engines sharing one store: together they admit
	// at most a tenant's limit. Each engine takes admissions from the store
	// a few at a time (one round trip per lease of up to 100, a fiftieth of
	// the burst), so admissions one engine has leased and not yet used are
	// unavailable to the others. False: each engine counts on its own.
	SharedQuotas bool
	// LicenseCacheSize bounds how many licenses validation keeps in memory:
	// about 130 bytes each for a license without attributes whose IDs are
	// the engine's own (about 300 for others), so a million take about
	// 130 MB. Zero: 1,000,000. Negative: no cache; every validation reads
	// the store.
	LicenseCacheSize int
	// FlushInterval is how often batched state (quota counters, buffered
	// audit events) is written to the store. Zero: one second. Close
	// flushes whatever remains.
	FlushInterval time.Duration

	// DisableUsageTracking turns off the recording of token usage (last
	// use, daily request counts, permissions exercised). The review then
	// reports no usage, and the tenants' DeactivateUnusedAfter policy is
	// not applied (every token would look unused).
	DisableUsageTracking bool
	// UsageFlushInterval is how often recorded usage is merged into the
	// store's usage records. Zero: one minute. Flush, Close and Review
	// write it at once; a crash forgets at most this much usage.
	UsageFlushInterval time.Duration
	// AlertRules raise an alert when failed authentications pile up. Nil:
	// DefaultAlertRules(); an empty, non-nil slice: no alerts.
	AlertRules []AlertRule
	// AuditRetention, when positive, deletes audit events older than it
	// in the background (see Sweep). Zero: the audit log is kept forever.
	AuditRetention time.Duration
	// Console configures administrator sign-in and admin-console sessions
	// (SignIn, AuthenticateSession).
	Console ConsoleConfig
	// SweepInterval is how often Sweep runs in the background: the
	// tenants' unused-token policy and the audit retention. Zero: five
	// minutes.
	SweepInterval time.Duration
}

// Engine is the licensing engine: every operation of the product, with
// tenancy, permissions, quotas, credentials and audit enforced inside it.
// Safe for concurrent use. Create it with New and Close it when done.
type Engine struct {
	st          store.Store
	keys        *keyring
	now         func() time.Time
	log         *slog.Logger
	licenseKeys LicenseKeyFormat

	accessTTL, refreshIdle, refreshAbsolute time.Duration
	cacheTTL                                time.Duration
	sharedQuotas                            bool

	rules   map[Operation]OperationRule
	cache   *cache
	guesses *addrLimiter
	audit   *auditor
	alerts  *alerter
	console *console

	trackUsage              bool
	auditRetention          time.Duration
	usageFlush, sweepPeriod time.Duration
	sweepMu                 sync.Mutex // one Sweep at a time

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
	wg        sync.WaitGroup
}

// New checks cfg and returns a running Engine. A bad config is an error,
// never a panic.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("engine: Config.Store is required")
	}
	keys, err := newKeyring(cfg.MasterKey, cfg.PreviousMasterKeys)
	if err != nil {
		return nil, err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"AccessTokenTTL", cfg.AccessTokenTTL},
		{"RefreshIdleTTL", cfg.RefreshIdleTTL},
		{"RefreshAbsoluteTTL", cfg.RefreshAbsoluteTTL},
		{"FlushInterval", cfg.FlushInterval},
		{"CacheTTL", cfg.CacheTTL},
		{"UsageFlushInterval", cfg.UsageFlushInterval},
		{"AuditRetention", cfg.AuditRetention},
		{"SweepInterval", cfg.SweepInterval},
	} {
		if d.v < 0 {
			return nil, fmt.Errorf("engine: Config.%s is negative", d.name)
		}
	}
	e := &Engine{
		st:              cfg.Store,
		keys:            keys,
		now:             cfg.Clock,
		log:             cfg.Logger,
		licenseKeys:     cfg.LicenseKeys,
		accessTTL:       orDefault(cfg.AccessTokenTTL, 24*time.Hour),
		refreshIdle:     orDefault(cfg.RefreshIdleTTL, 14*24*time.Hour),
		refreshAbsolute: orDefault(cfg.RefreshAbsoluteTTL, 90*24*time.Hour),
		cacheTTL:        cfg.CacheTTL,
		sharedQuotas:    cfg.SharedQuotas,
		stop:            make(chan struct{}),
		rules:           rulesByOperation(),
		trackUsage:      !cfg.DisableUsageTracking,
		auditRetention:  cfg.AuditRetention,
		usageFlush:      orDefault(cfg.UsageFlushInterval, time.Minute),
		sweepPeriod:     orDefault(cfg.SweepInterval, 5*time.Minute),
	}
	rules := cfg.AlertRules
	if rules == nil {
		rules = DefaultAlertRules()
	}
	alerts, err := newAlerter(rules)
	if err != nil {
		return nil, err
	}
	e.alerts = alerts
	if e.console, err = newConsole(cfg.Console); err != nil {
		return nil, err
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.licenseKeys == nil {
		e.licenseKeys = DefaultLicenseKeyFormat{}
	}
	guess := cfg.GuessLimit
	if guess.Limit <= 0 {
		guess = tenant.Rate{Limit: 30, Window: time.Minute, Burst: 30}
	}
	licenseCap := cfg.LicenseCacheSize
	if licenseCap == 0 {
		licenseCap = 1_000_000
	}
	e.cache = newCache(licenseCap)
	e.guesses = newAddrLimiter(guess)
	e.audit = newAuditor(e, cfg.Observer)

	flush := orDefault(cfg.FlushInterval, time.Second)
	e.wg.Add(2)
	go e.flushLoop(flush)
	go e.sweepLoop()
	return e, nil
}

func orDefault(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// Close stops background work and writes batched state (quota counters,
// buffered audit events, token usage) to the store. It does not close the Store, which
// belongs to the host. Idempotent.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		close(e.stop)
		e.wg.Wait()
		e.closeErr = e.flush(context.Background())
		e.audit.close()
	})
	return e.closeErr
}

// flushLoop writes batched state every FlushInterval, and token usage
// every UsageFlushInterval. The tickers only pace the work; what is due
// is decided with the engine's clock.
func (e *Engine) flushLoop(every time.Duration) {
	defer e.wg.Done()
	ctx := context.Background()
	t := time.NewTicker(every)
	defer t.Stop()
	u := time.NewTicker(e.usageFlush)
	defer u.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			if err := errors.Join(e.flushQuotas(ctx), e.audit.flush(ctx)); err != nil {
				e.log.Error("licensekit: flushing batched state", "error", err)
			}
		case <-u.C:
			if err := e.flushUsage(ctx); err != nil {
				e.log.Error("licensekit: flushing token usage", "error", err)
			}
		}
	}
}

// sweepLoop runs Sweep every SweepInterval, apart from the flushes so
// that a long sweep never delays them.
func (e *Engine) sweepLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.sweepPeriod)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			if err := e.Sweep(context.Background()); err != nil && !errors.Is(err, ErrClosed) {
				e.log.Error("licensekit: sweeping", "error", err)
			}
		}
	}
}

// flush writes dirty quota state, token usage and buffered audit events.
func (e *Engine) flush(ctx context.Context) error {
	return errors.Join(e.flushQuotas(ctx), e.flushUsage(ctx), e.audit.flush(ctx))
}

// clock returns now truncated to the store's precision.
func (e *Engine) clock() time.Time { return e.now().UTC().Truncate(time.Microsecond) }

// newID returns a time-ordered unique ID (UUIDv7).
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// uuid.NewV7 fails only if crypto/rand fails, which it does not.
		panic(fmt.Sprintf("licensekit: uuid: %v", err))
	}
	return id.String()
}

// update runs fn in a store transaction, running it again when it lost a
// race (store.ErrConflict), so that every backend behaves as a
// serializable one.
func (e *Engine) update(ctx context.Context, fn func(store.Tx) error) error {
	var err error
	for range 16 {
		err = e.st.Update(ctx, fn)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return err
}
