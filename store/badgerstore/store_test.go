package badgerstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
)

func open(t *testing.T, dir string, opts badgerstore.Options) *badgerstore.Store {
	t.Helper()
	s, err := badgerstore.Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func customer(id string) store.Customer {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return store.Customer{ID: id, Name: "Customer " + id, CreatedAt: now, UpdatedAt: now}
}

func TestLockedInProcess(t *testing.T) {
	dir := t.TempDir()
	s1, err := badgerstore.Open(dir, badgerstore.Options{})
	require.NoError(t, err)

	s2, err := badgerstore.Open(dir, badgerstore.Options{})
	require.ErrorIs(t, err, store.ErrLocked)
	require.Nil(t, s2)
	require.Contains(t, err.Error(), dir)

	// The failed Open did not disturb the open store.
	ctx := context.Background()
	require.NoError(t, s1.Update(ctx, func(tx store.Tx) error {
		return tx.Tenant("t1").Customers().Create(ctx, customer("c1"))
	}))
	require.NoError(t, s1.Close())

	s3, err := badgerstore.Open(dir, badgerstore.Options{})
	require.NoError(t, err)
	require.NoError(t, s3.View(ctx, func(tx store.Tx) error {
		_, err := tx.Tenant("t1").Customers().Get(ctx, "c1")
		return err
	}))
	require.NoError(t, s3.Close())
}

func TestOpenEmptyDir(t *testing.T) {
	_, err := badgerstore.Open("", badgerstore.Options{})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestOptionsValidation(t *testing.T) {
	_, err := badgerstore.Open(t.TempDir(), badgerstore.Options{GCDiscardRatio: 1.5})
	require.Error(t, err)
	_, err = badgerstore.Open(t.TempDir(), badgerstore.Options{MemTableSize: 1024})
	require.Error(t, err)
}

func TestCloseIdempotentAndDurable(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	require.NoError(t, err)

	want := customer("c1")
	require.NoError(t, s.Update(ctx, func(tx store.Tx) error {
		return tx.Tenant("t1").Customers().Create(ctx, want)
	}))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close returns nil")

	require.ErrorIs(t, s.Update(ctx, func(store.Tx) error { return nil }), store.ErrClosed)
	require.ErrorIs(t, s.View(ctx, func(store.Tx) error { return nil }), store.ErrClosed)

	s = open(t, dir, badgerstore.Options{})
	require.NoError(t, s.View(ctx, func(tx store.Tx) error {
		got, err := tx.Tenant("t1").Customers().Get(ctx, "c1")
		require.NoError(t, err)
		want.TenantID = "t1"
		require.Equal(t, want, got)
		return nil
	}))
}

func TestConcurrentCloseLosesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	require.NoError(t, err)

	// Writers race with Close: every Update that returned nil must be
	// there after reopening; the others fail with ErrClosed.
	var (
		mu        sync.Mutex
		committed []string
		failures  []error
		wg        sync.WaitGroup
	)
	some := make(chan struct{})
	var someOnce sync.Once
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("w%d-%06d", w, i)
				err := s.Update(ctx, func(tx store.Tx) error {
					return tx.Tenant("t1").Customers().Create(ctx, customer(id))
				})
				mu.Lock()
				if err != nil {
					if !errors.Is(err, store.ErrClosed) {
						failures = append(failures, err)
					}
					mu.Unlock()
					return
				}
				committed = append(committed, id)
				n := len(committed)
				mu.Unlock()
				if n >= 20 {
					someOnce.Do(func() { close(some) })
				}
			}
		}()
	}
	<-some
	require.NoError(t, s.Close())
	wg.Wait()
	require.Empty(t, failures)

	s = open(t, dir, badgerstore.Options{})
	require.NoError(t, s.View(ctx, func(tx store.Tx) error {
		for _, id := range committed {
			_, err := tx.Tenant("t1").Customers().Get(ctx, id)
			require.NoError(t, err, id)
		}
		return nil
	}))
	t.Logf("%d transactions committed before Close, all present after reopening", len(committed))
}

// TestQuietByDefault checks that Badger's default logger (which writes to
// os.Stderr) is replaced: with default options nothing reaches stderr.
func TestQuietByDefault(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	orig := os.Stderr
	os.Stderr = f
	func() {
		defer func() { os.Stderr = orig }()
		dir := t.TempDir()
		ctx := context.Background()
		for range 2 { // the second Open replays and logs more in Badger
			s, err := badgerstore.Open(dir, badgerstore.Options{})
			require.NoError(t, err)
			require.NoError(t, s.Update(ctx, func(tx store.Tx) error {
				return tx.Tenant("t1").Customers().Create(ctx, customer(time.Now().Format(time.RFC3339Nano)))
			}))
			require.NoError(t, s.Close())
		}
	}()
	require.NoError(t, f.Close())
	out, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	require.Empty(t, string(out))
}

// recorder is a slog.Handler that keeps the records it gets.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func TestLoggerReceivesBadgerLogs(t *testing.T) {
	rec := &recorder{}
	s, err := badgerstore.Open(t.TempDir(), badgerstore.Options{Logger: slog.New(rec)})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.recs, "Badger logs on open and close")
	levels := map[slog.Level]bool{}
	for _, r := range rec.recs {
		levels[r.Level] = true
	}
	require.True(t, levels[slog.LevelInfo] || levels[slog.LevelDebug], "levels seen: %v", levels)
}

func TestBackgroundGCStopsOnClose(t *testing.T) {
	ctx := context.Background()
	s, err := badgerstore.Open(t.TempDir(), badgerstore.Options{GCInterval: time.Millisecond, GCDiscardRatio: 0.01})
	require.NoError(t, err)
	big := strings.Repeat("x", 4<<10) // above the value threshold: goes to the value log
	for i := range 50 {
		require.NoError(t, s.Update(ctx, func(tx store.Tx) error {
			c := customer("c1")
			c.Name = big + string(rune('a'+i%26))
			cs := tx.Tenant("t1").Customers()
			if i == 0 {
				return cs.Create(ctx, c)
			}
			return cs.Update(ctx, c)
		}))
	}
	require.NoError(t, s.Close())
}
