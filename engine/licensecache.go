package engine

import (
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
	"time"
	"unsafe"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/store"
)

// licenseCache holds what validation needs of up to max licenses, by the
// digest of their key, compactly enough that a million fit in about
// 130 MB: a license whose IDs are UUIDs and that has no attributes (what
// the engine creates, unless the host adds attributes) is one
// pointer-free licenseEntry of 104 bytes, reached through two
// open-addressing tables (by key digest, 8-byte slots, and by tenant and
// license ID for invalidation, 4-byte slots). Product, plan, tenant and
// status strings are interned. Any other license is kept as a
// *licenseSnap in a map.
//
// Not safe for concurrent use: the cache's mu guards it.
type licenseCache struct {
	max int

	// entries in chunks of entryChunk, so that growing never copies them
	chunks [][]licenseEntry
	n      int      // entries made
	free   []uint32 // indexes of unused entries
	live   int      // entries in use
	// byKey holds entry index + 1 by key digest (0: empty), with the
	// digest's bytes 4 to 7 in the high half as a tag, so that a probe
	// touches only the entry it finds.
	byKey []uint64
	byID  []uint32 // entry index + 1 by (tenant, license ID); 0: empty
	seed  maphash.Seed

	strs   []string          // interned strings; strs[0] is ""
	strIdx map[string]uint32 // index in strs

	// Licenses that do not fit an entry, and their digests by ID.
	other    map[[32]byte]*licenseSnap
	otherIDs map[licenseRef][32]byte
}

// licenseEntry is one license, without pointers (the collector does not
// scan the entries).
type licenseEntry struct {
	digest   [32]byte
	id       uuid.UUID
	customer uuid.UUID
	loaded   int64 // when read (unix ns), for CacheTTL
	expSec   int64 // ExpiresAt, when hasExpiry
	expNsec  uint32
	tenant   uint32 // the interned strings
	product  uint32
	plan     uint32
	status   uint32
	flags    uint8
}

const entryChunk = 4096

// entry returns entry i.
func (c *licenseCache) entry(i uint32) *licenseEntry {
	return &c.chunks[i/entryChunk][i%entryChunk]
}

const (
	entryUsed uint8 = 1 << iota
	entryHasExpiry
)

// maxInterned bounds the interned strings, which are never dropped (a few
// MB at most); a license whose strings would go beyond it is kept in the
// map instead.
const maxInterned = 1 << 16

func newLicenseCache(max int) *licenseCache {
	return &licenseCache{
		max:      max,
		seed:     maphash.MakeSeed(),
		strs:     []string{""},
		strIdx:   map[string]uint32{"": 0},
		other:    map[[32]byte]*licenseSnap{},
		otherIDs: map[licenseRef][32]byte{},
	}
}

func (c *licenseCache) len() int { return c.live + len(c.other) }

// get returns the license cached under digest.
func (c *licenseCache) get(digest *[32]byte) (licenseSnap, bool) {
	if i, ok := c.findKey(digest); ok {
		return c.snap(c.entry(uint32(c.byKey[i]) - 1)), true
	}
	if l := c.other[*digest]; l != nil {
		return *l, true
	}
	return licenseSnap{}, false
}

// snap expands an entry. The two UUID strings share one allocation.
func (c *licenseCache) snap(e *licenseEntry) licenseSnap {
	buf := make([]byte, 72)
	encodeUUID(buf[:36], e.id)
	encodeUUID(buf[36:], e.customer)
	s := licenseSnap{loaded: e.loaded, tenantID: c.strs[e.tenant], public: PublicLicense{
		ID:         unsafe.String(&buf[0], 36),
		CustomerID: unsafe.String(&buf[36], 36),
		ProductID:  c.strs[e.product],
		PlanID:     c.strs[e.plan],
		Status:     store.LicenseStatus(c.strs[e.status]),
	}}
	if e.flags&entryHasExpiry != 0 {
		s.public.ExpiresAt = time.Unix(e.expSec, int64(e.expNsec)).UTC()
	}
	return s
}

// encodeUUID writes u in its canonical 36-character form into dst.
func encodeUUID(dst []byte, u uuid.UUID) {
	const hex = "0123456789abcdef"
	j := 0
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j], dst[j+1] = hex[b>>4], hex[b&15]
		j += 2
	}
}

// put caches s under digest, replacing what was cached under it or under
// the same license ID; when full, a random license makes room.
func (c *licenseCache) put(digest [32]byte, s *licenseSnap) {
	c.remove(s.tenantID, s.public.ID)
	c.removeDigest(&digest)
	if c.len() >= c.max {
		c.evict()
	}
	e, ok := c.entryOf(digest, s)
	if !ok {
		c.other[digest] = s
		c.otherIDs[licenseRef{s.tenantID, s.public.ID}] = digest
		return
	}
	var idx uint32
	if n := len(c.free); n > 0 {
		idx = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		if c.n%entryChunk == 0 {
			c.chunks = append(c.chunks, make([]licenseEntry, entryChunk))
		}
		idx = uint32(c.n)
		c.n++
	}
	*c.entry(idx) = e
	c.live++
	if 4*c.live > 3*len(c.byKey) {
		c.rehash(max(64, 2*c.live))
	} else {
		c.insert(idx)
	}
}

// entryOf makes the compact entry of s, if it has one.
func (c *licenseCache) entryOf(digest [32]byte, s *licenseSnap) (licenseEntry, bool) {
	p := &s.public
	if len(p.Attributes) > 0 {
		return licenseEntry{}, false
	}
	id, ok := parseCanonicalUUID(p.ID)
	if !ok {
		return licenseEntry{}, false
	}
	customer, ok := parseCanonicalUUID(p.CustomerID)
	if !ok {
		return licenseEntry{}, false
	}
	e := licenseEntry{digest: digest, id: id, customer: customer, loaded: s.loaded, flags: entryUsed}
	for _, f := range []struct {
		s   string
		dst *uint32
	}{{s.tenantID, &e.tenant}, {p.ProductID, &e.product}, {p.PlanID, &e.plan}, {string(p.Status), &e.status}} {
		if *f.dst, ok = c.intern(f.s); !ok {
			return licenseEntry{}, false
		}
	}
	if !p.ExpiresAt.IsZero() {
		t := p.ExpiresAt
		if t.Location() != time.UTC {
			return licenseEntry{}, false // kept as it is, in its zone
		}
		e.flags |= entryHasExpiry
		e.expSec, e.expNsec = t.Unix(), uint32(t.Nanosecond())
	}
	return e, true
}

// parseCanonicalUUID parses s only if it is a UUID in the form
// encodeUUID writes back.
func parseCanonicalUUID(s string) (uuid.UUID, bool) {
	if len(s) != 36 {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return uuid.UUID{}, false
	}
	var buf [36]byte
	encodeUUID(buf[:], u)
	return u, string(buf[:]) == s
}

func (c *licenseCache) intern(s string) (uint32, bool) {
	if i, ok := c.strIdx[s]; ok {
		return i, true
	}
	if len(c.strs) >= maxInterned {
		return 0, false
	}
	c.strs = append(c.strs, s)
	c.strIdx[s] = uint32(len(c.strs) - 1)
	return uint32(len(c.strs) - 1), true
}

// remove drops the license with that tenant and ID, wherever it is.
func (c *licenseCache) remove(tenantID, id string) {
	ref := licenseRef{tenantID, id}
	if d, ok := c.otherIDs[ref]; ok {
		delete(c.other, d)
		delete(c.otherIDs, ref)
	}
	t, ok := c.strIdx[tenantID]
	if !ok {
		return
	}
	u, ok := parseCanonicalUUID(id)
	if !ok {
		return
	}
	if i, ok := c.findID(t, u); ok {
		c.drop(c.byID[i] - 1)
	}
}

// removeDigest drops what is cached under digest.
func (c *licenseCache) removeDigest(digest *[32]byte) {
	if i, ok := c.findKey(digest); ok {
		c.drop(uint32(c.byKey[i]) - 1)
		return
	}
	if l := c.other[*digest]; l != nil {
		delete(c.other, *digest)
		delete(c.otherIDs, licenseRef{l.tenantID, l.public.ID})
	}
}

// evict drops one cached license at random.
func (c *licenseCache) evict() {
	if c.live == 0 || rand.IntN(c.len()) >= c.live {
		for d, l := range c.other { // map order is random
			delete(c.other, d)
			delete(c.otherIDs, licenseRef{l.tenantID, l.public.ID})
			return
		}
	}
	for {
		i := uint32(rand.IntN(c.n))
		if c.entry(i).flags&entryUsed != 0 {
			c.drop(i)
			return
		}
	}
}

// drop frees entry idx and its two slots.
func (c *licenseCache) drop(idx uint32) {
	e := c.entry(idx)
	if i, ok := c.findKey(&e.digest); ok {
		deleteSlot(c.byKey, i, func(v uint64) uint64 { return c.keyHash(&c.entry(uint32(v) - 1).digest) })
	}
	if i, ok := c.findID(e.tenant, e.id); ok {
		deleteSlot(c.byID, i, func(v uint32) uint64 { e := c.entry(v - 1); return c.idHash(e.tenant, e.id) })
	}
	*e = licenseEntry{}
	c.free = append(c.free, idx)
	c.live--
}

// The key digest is an HMAC output, uniformly distributed to whoever does
// not hold the key: its first bytes are a hash.
func (c *licenseCache) keyHash(d *[32]byte) uint64 { return binary.LittleEndian.Uint64(d[:8]) }

func (c *licenseCache) idHash(tenant uint32, id uuid.UUID) uint64 {
	var b [20]byte
	binary.LittleEndian.PutUint32(b[:4], tenant)
	copy(b[4:], id[:])
	return maphash.Bytes(c.seed, b[:])
}

// findKey returns the byKey slot holding digest.
func (c *licenseCache) findKey(d *[32]byte) (int, bool) {
	if len(c.byKey) == 0 {
		return 0, false
	}
	mask := len(c.byKey) - 1
	h := c.keyHash(d)
	tag := h &^ (1<<32 - 1)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		v := c.byKey[i]
		if v == 0 {
			return 0, false
		}
		if v&^(1<<32-1) == tag && c.entry(uint32(v)-1).digest == *d {
			return i, true
		}
	}
}

// findID returns the byID slot holding (tenant, id).
func (c *licenseCache) findID(tenant uint32, id uuid.UUID) (int, bool) {
	if len(c.byID) == 0 {
		return 0, false
	}
	mask := len(c.byID) - 1
	for i := int(c.idHash(tenant, id)) & mask; ; i = (i + 1) & mask {
		v := c.byID[i]
		if v == 0 {
			return 0, false
		}
		if e := c.entry(v - 1); e.tenant == tenant && e.id == id {
			return i, true
		}
	}
}

// insert puts entry idx into both tables, which have room.
func (c *licenseCache) insert(idx uint32) {
	e := c.entry(idx)
	h := c.keyHash(&e.digest)
	insertSlot(c.byKey, h, h&^(1<<32-1)|uint64(idx+1))
	insertSlot(c.byID, c.idHash(e.tenant, e.id), idx+1)
}

// rehash rebuilds both tables with n slots (rounded up to a power of 2).
func (c *licenseCache) rehash(n int) {
	size := 1
	for size < n {
		size <<= 1
	}
	c.byKey, c.byID = make([]uint64, size), make([]uint32, size)
	for i := range uint32(c.n) {
		if c.entry(i).flags&entryUsed != 0 {
			c.insert(i)
		}
	}
}

// insertSlot stores v at the first free slot from hash h (linear probing).
func insertSlot[S uint32 | uint64](t []S, h uint64, v S) {
	mask := len(t) - 1
	i := int(h) & mask
	for t[i] != 0 {
		i = (i + 1) & mask
	}
	t[i] = v
}

// deleteSlot empties slot i of a linear-probing table and moves later
// slots of the same run back, so that every lookup still finds its value
// without tombstones. hash gives the home of a stored value.
func deleteSlot[S uint32 | uint64](t []S, i int, hash func(S) uint64) {
	mask := len(t) - 1
	t[i] = 0
	for j := (i + 1) & mask; t[j] != 0; j = (j + 1) & mask {
		home := int(hash(t[j])) & mask
		// t[j] may move to the hole at i unless its home lies in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t[i], t[j] = t[j], 0
			i = j
		}
	}
}
