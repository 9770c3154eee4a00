// Package badgerstore is the default durable backend of licensekit: a
// store.Store kept in one directory with Badger v4
// (github.com/dgraph-io/badger/v4), embedded in the host's process.
//
// # Where to start
//
// Open a directory with Open and the zero Options, hand the *Store to the
// engine, and Close it at shutdown:
//
//	s, err := badgerstore.Open("/var/lib/myapp/licensing", badgerstore.Options{})
//	if err != nil { ... }
//	defer s.Close()
//
// The Store implements store.Store, so everything else (transactions,
// records, errors) is described by package store. The key layout and
// encodings are shared with memstore (internal/kv); this package adds the
// Badger adapter, durability, locking and resource limits, and runs the
// storetest conformance suite.
//
// # Durability
//
// Every Update that returns nil has been fsynced (Badger's SyncWrites) and
// is atomic: after the process dies, even by kill -9, a transaction is
// either entirely there or entirely absent, and an acknowledged one is
// there; the fsync extends this to power loss as far as the disk honours
// it. TestCrashDurability checks it by killing a writing child process at
// random moments. Options.DisableSyncWrites trades the fsync for
// throughput.
// Close waits for transactions in flight, stops the background value-log
// GC and closes Badger, which flushes its memtables: nothing committed is
// lost, and a later Open of the same directory sees it all. Close must not
// be called from inside a transaction.
//
// Transactions are bounded in size by the memtable: about 15% of
// Options.MemTableSize (600 KiB by default, roughly 1000 licenses). A larger
// transaction fails with an error wrapping badger.ErrTxnTooBig.
//
// # Locking
//
// A directory can be open in one Store at a time. Open takes an exclusive,
// non-blocking flock(2) on <dir>/licensekit.lock before opening Badger; a
// second Open, in this process or another, fails at once with an error
// matching store.ErrLocked that names the directory. The kernel releases the
// lock when the process exits, however it exits, so a killed process leaves
// no stale lock. The file itself is left in place. (On platforms without
// flock, Badger's own directory lock is mapped to store.ErrLocked.)
//
// # Memory
//
// The defaults are for a library inside someone else's process, not for a
// database server: 2 memtables of 4 MiB, an 8 MiB block cache, no index
// cache (Badger uses it only for encrypted tables; indexes and bloom filters
// are read in place from the memory-mapped table files), Snappy-compressed
// tables of 512 KiB on every level, 2 compactors, values above 1 KiB in the
// value log. Measured with internal/rsscheck on Linux for one million
// licenses (about 160 MB on disk):
//
//   - steady state (an existing store, 100k random key-digest lookups): peak
//     RSS about 215 MiB, of which about 40 MiB is heap and the rest pages of
//     the memory-mapped table files, which the kernel can reclaim;
//   - bulk load (a million licenses in transactions of 1000 as fast as
//     possible, then the lookups): peak RSS about 550-600 MiB, of which
//     about 200-230 MiB are mapped file pages and 350-390 MiB heap, most of
//     it Badger's table builders during compactions (Badger builds up to
//     about 14 tables in memory per compaction and pools builder buffers)
//     plus the Go collector's headroom. A host that needs a hard bound sets
//     GOMEMLIMIT (with GOMEMLIMIT=96MiB the same load peaks at about
//     110 MiB heap, 350 MiB RSS in all, and runs about 1.6 times slower).
//
// Badger maps every table file into memory and keeps a descriptor open per
// file; with the small tables above that is about two files per MiB of
// compressed data (about 370 files for a million licenses). Go raises the
// soft RLIMIT_NOFILE to the hard limit at start-up, which covers stores of
// tens of millions of records on usual systems.
//
// # Logging
//
// Badger logs to stderr by default; here its logger is replaced: with
// Options.Logger nil it is silent, otherwise its lines go to that
// *slog.Logger at the matching level with component=badger.
//
// # Value-log GC
//
// A background goroutine runs Badger's value-log garbage collection every
// Options.GCInterval (10 minutes by default), repeating while it reclaims
// space. Only values above 1 KiB live in the value log, so for typical
// records there is little to collect.
package badgerstore
