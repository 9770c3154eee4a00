package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
)

// Usage tracking: what each user token did, for the least-privilege review
// and the unused-token policy.
//
// The request path records in memory only, with atomics on the tokenUsage
// embedded in the token's cached snapshot, in the cache lines the request
// reads anyway: the last use (time and client address), the requests of
// the current UTC day, and per permission the last second the token
// exercised it. Nothing allocates. When a token is reloaded, its old
// snapshot's usage is retired and drained by the following flushes.
// flushUsage drains the dirty entries and merges them into the stored
// store.UsageRecord of each token (read-modify-write, usageBatch records
// per transaction), so that several engines sharing a store add up their
// counts.

// UsageDays is how many UTC days of daily request counts a token's usage
// record keeps; older days are dropped when the record is next written.
// Last-used times (of the token and of each permission) are kept whatever
// their age.
const UsageDays = 100

const nanosPerDay = int64(24 * time.Hour)

// usageBatch is how many usage records one transaction writes: a record
// holds up to UsageDays daily counts (about 3 KB at most), and 64 of them
// stay well within any backend's transaction limits.
const usageBatch = 64

// permSlots is how many permissions (by bit) usage tracks; a test checks
// that it covers the catalogue. A permission beyond it is never reported
// unused.
const permSlots = 16

// tokenUsage is a token's usage since its last flush. Its fields are
// written by requests without locks; mu guards spill only.
type tokenUsage struct {
	lastUsed atomic.Int64 // unix nanos of the last use
	day      atomic.Int64 // the UTC day (unix days) count belongs to
	count    atomic.Int64 // requests on day not yet flushed
	// The client address of a recent use, as 16 bytes and its kind (0:
	// none, 4, 6), written under the seqlock addrSeq (odd: being written).
	addrSeq        atomic.Uint32
	addrKind       atomic.Uint32
	addrHi, addrLo atomic.Uint64
	dirty          atomic.Bool // something above changed since the last drain

	perms [permSlots]atomic.Uint32 // by permission bit: unix seconds of the last use

	mu    sync.Mutex
	spill []dayCount // counts of earlier days not yet flushed
}

type dayCount struct{ day, n int64 }

// usageOf is where a request records its use of tok: nil when usage is
// not tracked.
func (e *Engine) usageOf(tok *tokenSnap) *tokenUsage {
	if !e.trackUsage {
		return nil
	}
	return &tok.use
}

// unixDay is the UTC day number of unix nanos (floor division).
func unixDay(nanos int64) int64 {
	d := nanos / nanosPerDay
	if nanos < 0 && nanos%nanosPerDay != 0 {
		d--
	}
	return d
}

// addrWords is addr as the words tokenUsage keeps.
func addrWords(addr netip.Addr) (kind uint32, hi, lo uint64) {
	switch {
	case addr.Is4():
		kind = 4
	case addr.IsValid():
		kind = 6
	default:
		return 0, 0, 0
	}
	b := addr.As16()
	return kind, binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// touch records one request at now from addr. It does not allocate.
func (u *tokenUsage) touch(now int64, addr netip.Addr) {
	if u.lastUsed.Load() < now {
		u.lastUsed.Store(now)
	}
	kind, hi, lo := addrWords(addr)
	if u.addrKind.Load() != kind || u.addrLo.Load() != lo || u.addrHi.Load() != hi {
		u.setAddr(kind, hi, lo)
	}
	if day := unixDay(now); u.day.Load() != day {
		u.rollDay(day)
	}
	u.count.Add(1)
	if !u.dirty.Load() {
		u.dirty.Store(true)
	}
}

// setAddr stores a new client address. Of writers racing, one wins and
// the others skip: their address is as recent.
func (u *tokenUsage) setAddr(kind uint32, hi, lo uint64) {
	seq := u.addrSeq.Load()
	if seq&1 != 0 || !u.addrSeq.CompareAndSwap(seq, seq+1) {
		return
	}
	u.addrKind.Store(kind)
	u.addrHi.Store(hi)
	u.addrLo.Store(lo)
	u.addrSeq.Store(seq + 2)
}

// address reads the stored client address; invalid if none (or if
// writers kept it busy).
func (u *tokenUsage) address() netip.Addr {
	for range 100 {
		seq := u.addrSeq.Load()
		if seq&1 != 0 {
			runtime.Gosched()
			continue
		}
		kind, hi, lo := u.addrKind.Load(), u.addrHi.Load(), u.addrLo.Load()
		if u.addrSeq.Load() != seq {
			continue
		}
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], hi)
		binary.BigEndian.PutUint64(b[8:], lo)
		switch kind {
		case 4:
			return netip.AddrFrom16(b).Unmap()
		case 6:
			return netip.AddrFrom16(b)
		}
		return netip.Addr{}
	}
	return netip.Addr{}
}

// rollDay moves the count of the previous day aside when the first
// request of a new day arrives. A request racing with the roll may be
// counted on the neighbouring day.
func (u *tokenUsage) rollDay(day int64) {
	u.mu.Lock()
	if old := u.day.Load(); old != day {
		if n := u.count.Swap(0); n != 0 {
			u.spill = append(u.spill, dayCount{old, n})
		}
		u.day.Store(day)
	}
	u.mu.Unlock()
}

// usePermission records that the token exercised p at now, to the
// second. A request refused for the tenant's limit after its permission
// check still counts: it needed the permission.
func (u *tokenUsage) usePermission(p permission.Permission, now int64) {
	if int(p) >= permSlots {
		return
	}
	sec := uint32(now / int64(time.Second))
	if s := &u.perms[p]; s.Load() != sec {
		s.Store(sec)
	}
	if !u.dirty.Load() {
		u.dirty.Store(true)
	}
}

// untracked are the permissions beyond permSlots: never reported unused.
var untracked = func() permission.Set {
	var s permission.Set
	for _, p := range permission.All() {
		if int(p) >= permSlots {
			s = s.Add(p)
		}
	}
	return s
}()

// usageDelta is what one drain took from a tokenUsage.
type usageDelta struct {
	tenantID, tokenID string
	u                 *tokenUsage
	lastUsed          int64
	addr              netip.Addr
	days              []dayCount
	perms             [permSlots]uint32
}

// drain takes the token's unflushed usage, or reports false if there is
// none. Last-used times stay in place (they merge as maxima); counts move
// into the delta.
func (u *tokenUsage) drain() (usageDelta, bool) {
	// Clear dirty before reading: a request that writes after the reads
	// sets it again, and the next flush takes its write.
	if !u.dirty.CompareAndSwap(true, false) {
		return usageDelta{}, false
	}
	d := usageDelta{u: u, lastUsed: u.lastUsed.Load(), addr: u.address()}
	for i := range u.perms {
		d.perms[i] = u.perms[i].Load()
	}
	u.mu.Lock()
	d.days, u.spill = u.spill, nil
	if n := u.count.Swap(0); n != 0 {
		d.days = append(d.days, dayCount{u.day.Load(), n})
	}
	u.mu.Unlock()
	return d, true
}

// undo puts back the counts of a delta whose write failed.
func (d usageDelta) undo() {
	d.u.mu.Lock()
	d.u.spill = append(d.u.spill, d.days...)
	d.u.mu.Unlock()
	d.u.dirty.Store(true)
}

func dayKey(day int64) string { return time.Unix(day*86400, 0).UTC().Format(time.DateOnly) }

// merge adds d to rec and drops daily counts before the UsageDays days
// that end with today.
func (d usageDelta) merge(rec *store.UsageRecord, today int64) {
	if d.lastUsed != 0 {
		if t := clockFrom(time.Unix(0, d.lastUsed)); !t.Before(rec.LastUsedAt) {
			rec.LastUsedAt, rec.LastUsedAddr = t, addrString(d.addr)
		}
	}
	for _, dc := range d.days {
		if rec.Daily == nil {
			rec.Daily = map[string]int64{}
		}
		rec.Daily[dayKey(dc.day)] += dc.n
	}
	for i, sec := range d.perms {
		if sec == 0 {
			continue
		}
		code := permission.Permission(i).Code()
		if t := time.Unix(int64(sec), 0).UTC(); t.After(rec.PermissionLastUsed[code]) {
			if rec.PermissionLastUsed == nil {
				rec.PermissionLastUsed = map[string]time.Time{}
			}
			rec.PermissionLastUsed[code] = t
		}
	}
	first := dayKey(today - UsageDays + 1)
	for k := range rec.Daily {
		if k < first { // "2006-01-02" sorts as it counts
			delete(rec.Daily, k)
		}
	}
}

// flushUsage writes the usage recorded since the last flush, usageBatch
// records per transaction, each merged with the stored record. The
// deltas of a batch that fails are put back for the next flush.
func (e *Engine) flushUsage(ctx context.Context) error {
	if !e.trackUsage {
		return nil
	}
	var deltas []usageDelta
	e.cache.mu.RLock()
	for _, t := range e.cache.tokens {
		if d, ok := t.use.drain(); ok {
			d.tenantID, d.tokenID = t.tenantID, t.id
			deltas = append(deltas, d)
		}
	}
	e.cache.mu.RUnlock()
	// Retired snapshots: a request may still hold one, so one stays until
	// a flush finds it clean.
	e.cache.mu.Lock()
	kept := e.cache.retired[:0]
	for _, t := range e.cache.retired {
		if d, ok := t.use.drain(); ok {
			d.tenantID, d.tokenID = t.tenantID, t.id
			deltas = append(deltas, d)
			kept = append(kept, t)
		}
	}
	clear(e.cache.retired[len(kept):])
	e.cache.retired = kept
	e.cache.mu.Unlock()
	today := unixDay(e.now().UnixNano())
	for len(deltas) > 0 {
		batch := deltas[:min(usageBatch, len(deltas))]
		err := e.update(ctx, func(tx store.Tx) error {
			for _, d := range batch {
				u := tx.Tenant(d.tenantID).Usage()
				rec, err := u.Get(ctx, d.tokenID)
				if errors.Is(err, store.ErrNotFound) {
					rec, err = store.UsageRecord{TenantID: d.tenantID, TokenID: d.tokenID}, nil
				}
				if err != nil {
					return err
				}
				d.merge(&rec, today)
				if err := u.Put(ctx, rec); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			for _, d := range deltas {
				d.undo()
			}
			return err
		}
		deltas = deltas[len(batch):]
	}
	return nil
}

// tokenLastUsed is when this engine last saw the token used, flushed or
// not; zero if it did not.
func (e *Engine) tokenLastUsed(id string) time.Time {
	if t := e.cachedToken(id); t != nil {
		if n := t.use.lastUsed.Load(); n != 0 {
			return clockFrom(time.Unix(0, n))
		}
	}
	return time.Time{}
}

// cachedToken is the cached snapshot of the user token id, or nil.
func (e *Engine) cachedToken(id string) *tokenSnap {
	uid, err := uuid.Parse(id)
	if err != nil {
		return nil
	}
	e.cache.mu.RLock()
	defer e.cache.mu.RUnlock()
	return e.cache.tokens[uid]
}
