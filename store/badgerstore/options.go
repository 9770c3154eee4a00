package badgerstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Default values of the Options fields. They are sized for a library that
// lives inside someone else's process; see "Memory" in the package
// documentation for what they buy and what they cost.
const (
	DefaultMemTableSize   int64         = 4 << 20
	DefaultBlockCacheSize int64         = 8 << 20
	DefaultGCInterval     time.Duration = 10 * time.Minute
	DefaultGCDiscardRatio float64       = 0.5
)

// Fixed tuning, not exposed as options. Badger builds every new table in
// memory before writing it, up to about 14 tables at once per compaction,
// and keeps the buffers of 8 builders for reuse; small tables of one size
// on every level (multiplier 1) bound that memory, at the cost of more
// files (about two per MiB of compressed data).
const (
	numMemtables            = 2
	numLevelZeroTables      = 2
	numLevelZeroTablesStall = 4
	numCompactors           = 2 // Badger's minimum for a working LSM (1 is refused)
	baseTableSize           = 512 << 10
	tableSizeMultiplier     = 1
	valueThreshold          = 1 << 10 // larger values go to the value log
	valueLogFileSize        = 64 << 20
	gcRunsPerTick           = 16 // bound on back-to-back rewrites per GC tick
)

// Options configures Open. The zero value is the documented default of every
// field and is what most hosts should use.
type Options struct {
	// Logger receives Badger's own log lines (its Debug, Info, Warning and
	// Error levels map to slog.LevelDebug, LevelInfo, LevelWarn and
	// LevelError, with the attribute component=badger) and the store's own
	// warnings (a failed value-log GC). Nil (default): all of it is
	// discarded, and nothing is ever written to stderr.
	Logger *slog.Logger

	// DisableSyncWrites turns off the fsync at commit. False (default): every
	// Update that returns nil has been fsynced, so an acknowledged write
	// (a credential, a revocation) survives kill -9 and power loss. True
	// trades that for write throughput: a process crash keeps what Badger
	// had handed to the kernel, a machine crash may lose the last writes.
	// Leave it false unless the host has its own reason.
	DisableSyncWrites bool

	// MemTableSize is the size in bytes of one in-memory write table;
	// Badger keeps up to two. It also bounds the largest transaction, to
	// about 15% of it. Zero: DefaultMemTableSize (4 MiB, so transactions up
	// to about 600 KiB, for example 1000 small licenses). Larger values
	// speed up bulk writes and raise peak memory by several times the
	// increase, because every pooled table-builder buffer grows to the size
	// of a flushed memtable. At least 1 MiB.
	MemTableSize int64

	// BlockCacheSize caps the cache of decompressed table blocks, in bytes.
	// Zero: DefaultBlockCacheSize (8 MiB). Negative: no block cache, and
	// then tables are stored uncompressed (Badger needs the cache to read
	// compressed blocks): less heap, but about 3 times the disk and the
	// mapped file pages.
	BlockCacheSize int64

	// GCInterval is how often a background goroutine runs value-log garbage
	// collection (repeating while it reclaims something). Zero:
	// DefaultGCInterval (10 minutes). Negative: no background GC. The
	// goroutine is stopped, and waited for, by Close.
	GCInterval time.Duration

	// GCDiscardRatio is the fraction of a value-log file that must be stale
	// before GC rewrites it, in (0, 1). Zero: DefaultGCDiscardRatio (0.5).
	GCDiscardRatio float64
}

// withDefaults returns o with every zero field replaced by its default.
func (o Options) withDefaults() (Options, error) {
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.MemTableSize < 1<<20 {
		return o, fmt.Errorf("badgerstore: MemTableSize %d is below 1 MiB", o.MemTableSize)
	}
	if o.BlockCacheSize == 0 {
		o.BlockCacheSize = DefaultBlockCacheSize
	}
	if o.GCInterval == 0 {
		o.GCInterval = DefaultGCInterval
	}
	if o.GCDiscardRatio == 0 {
		o.GCDiscardRatio = DefaultGCDiscardRatio
	}
	if o.GCDiscardRatio <= 0 || o.GCDiscardRatio >= 1 {
		return o, fmt.Errorf("badgerstore: GCDiscardRatio %v is not in (0, 1)", o.GCDiscardRatio)
	}
	return o, nil
}

// badgerOptions translates o (already defaulted) into Badger's options.
func (o Options) badgerOptions(dir string) badger.Options {
	bo := badger.DefaultOptions(dir).
		WithLogger(newBadgerLogger(o.Logger)).
		WithSyncWrites(!o.DisableSyncWrites).
		WithNumVersionsToKeep(1).
		WithDetectConflicts(true).
		WithMetricsEnabled(false).
		WithMemTableSize(o.MemTableSize).
		WithBaseTableSize(baseTableSize).
		WithNumMemtables(numMemtables).
		WithNumLevelZeroTables(numLevelZeroTables).
		WithNumLevelZeroTablesStall(numLevelZeroTablesStall).
		WithNumCompactors(numCompactors).
		WithValueThreshold(valueThreshold).
		WithValueLogFileSize(valueLogFileSize).
		WithCompactL0OnClose(false)
	bo.TableSizeMultiplier = tableSizeMultiplier // no WithX method for it
	if o.BlockCacheSize > 0 {
		bo = bo.WithBlockCacheSize(o.BlockCacheSize).WithCompression(options.Snappy)
	} else {
		bo = bo.WithBlockCacheSize(0).WithCompression(options.None)
	}
	// No index cache: Badger uses it only for encrypted tables (which this
	// package does not create); unencrypted table indexes and bloom filters
	// are read in place from the memory-mapped table files.
	bo = bo.WithIndexCacheSize(0)
	return bo
}

// newBadgerLogger returns Badger's logger for l: nil (Badger then logs
// nothing) when l is nil. The result must be a nil interface, not a typed
// nil, for Badger's nil check to work.
func newBadgerLogger(l *slog.Logger) badger.Logger {
	if l == nil {
		return nil
	}
	return slogAdapter{l: l.With(slog.String("component", "badger"))}
}

// slogAdapter implements badger.Logger on a *slog.Logger.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	// Badger logs at Debug on every write batch: do not format what the
	// handler would drop.
	if !a.l.Enabled(ctx, level) {
		return
	}
	a.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (a slogAdapter) Errorf(format string, args ...any) { a.log(slog.LevelError, format, args) }

func (a slogAdapter) Warningf(format string, args ...any) { a.log(slog.LevelWarn, format, args) }

func (a slogAdapter) Infof(format string, args ...any) { a.log(slog.LevelInfo, format, args) }

func (a slogAdapter) Debugf(format string, args ...any) { a.log(slog.LevelDebug, format, args) }
