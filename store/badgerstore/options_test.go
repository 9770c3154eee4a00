package badgerstore

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4/options"
	"github.com/stretchr/testify/require"
)

func TestDefaultBadgerOptions(t *testing.T) {
	o, err := Options{}.withDefaults()
	require.NoError(t, err)
	bo := o.badgerOptions("/x")
	require.True(t, bo.SyncWrites, "fsync on commit by default")
	require.Nil(t, bo.Logger, "Badger silent by default")
	require.Equal(t, DefaultMemTableSize, bo.MemTableSize)
	require.Equal(t, DefaultBlockCacheSize, bo.BlockCacheSize)
	require.Zero(t, bo.IndexCacheSize)
	require.Equal(t, options.Snappy, bo.Compression)
	require.Equal(t, 1, bo.NumVersionsToKeep)
	require.True(t, bo.DetectConflicts)
	require.Equal(t, 1, bo.TableSizeMultiplier)
	require.Equal(t, DefaultGCInterval, o.GCInterval)
	require.Equal(t, DefaultGCDiscardRatio, o.GCDiscardRatio)

	o, err = Options{DisableSyncWrites: true, BlockCacheSize: -1, MemTableSize: 32 << 20}.withDefaults()
	require.NoError(t, err)
	bo = o.badgerOptions("/x")
	require.False(t, bo.SyncWrites)
	require.Zero(t, bo.BlockCacheSize)
	require.Equal(t, options.None, bo.Compression)
	require.Equal(t, int64(32<<20), bo.MemTableSize)
}

type levelRecorder struct {
	mu     sync.Mutex
	levels []slog.Level
	msgs   []string
	min    slog.Level
}

func (r *levelRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.min }
func (r *levelRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.levels = append(r.levels, rec.Level)
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *levelRecorder) WithGroup(string) slog.Handler      { return r }

func TestSlogAdapterLevels(t *testing.T) {
	require.Nil(t, newBadgerLogger(nil))

	rec := &levelRecorder{min: slog.LevelDebug}
	l := newBadgerLogger(slog.New(rec))
	l.Debugf("d %d\n", 1)
	l.Infof("i %d", 2)
	l.Warningf("w %d", 3)
	l.Errorf("e %d", 4)
	require.Equal(t, []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}, rec.levels)
	require.Equal(t, []string{"d 1", "i 2", "w 3", "e 4"}, rec.msgs)

	// Below the handler's level nothing is formatted or handled.
	rec = &levelRecorder{min: slog.LevelWarn}
	l = newBadgerLogger(slog.New(rec))
	l.Debugf("d")
	l.Infof("i")
	l.Warningf("w")
	require.Equal(t, []string{"w"}, rec.msgs)
}
