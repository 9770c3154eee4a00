package engine

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"unsafe"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/permission"
)

// Credential formats. Each starts with a type prefix so that a leaked
// credential is recognisable by secret scanners, and each is checked for
// shape (and, for user and refresh tokens, a CRC-32 checksum) before any
// store read, so junk costs nothing.
//
//	user token     lkut_ + base32(uuid[16] | secret[32] | crc32[4])
//	refresh token  lkrt_ + base32(family[16] | seq[8] | secret[32] | crc32[4])
//	access token   lkat_ + base32(body | HMAC-SHA256(body)[32])
//	               body = version | len(kid) kid | len(tenant) tenant |
//	                      token[16] | family[16] | generation[8] |
//	                      permissions[8] | expiry unix ns[8] | nonce[8]
//
// The nonce makes every access token unique, even two issued in the same
// nanosecond for the same family.
//
// The lowercase base32 alphabet keeps a credential one "word": a double
// click selects all of it.
const (
	userTokenPrefix    = "lkut_"
	refreshTokenPrefix = "lkrt_"
	accessTokenPrefix  = "lkat_"

	secretLen = 32 // 256 bits

	userTokenRaw    = 16 + secretLen + 4
	refreshTokenRaw = 16 + 8 + secretLen + 4

	accessTokenVersion = 1
	maxTenantIDLen     = 64
	accessBodyMax      = 1 + 1 + 16 + 1 + maxTenantIDLen + 16 + 16 + 8 + 8 + 8 + 8
	accessRawMax       = accessBodyMax + sha256.Size
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func randomBytes(b []byte) {
	// crypto/rand.Read never fails on supported platforms (Go ≥ 1.24 it
	// crashes the program rather than return short).
	_, _ = rand.Read(b)
}

func crc(prefix string, b []byte) uint32 {
	return crc32.Update(crc32.ChecksumIEEE([]byte(prefix)), crc32.IEEETable, b)
}

// userTokenCredential is a parsed user token.
type userTokenCredential struct {
	id     uuid.UUID
	secret [secretLen]byte
}

func newUserTokenCredential(id uuid.UUID) (userTokenCredential, string) {
	c := userTokenCredential{id: id}
	randomBytes(c.secret[:])
	return c, c.encode()
}

func (c userTokenCredential) encode() string { return encodeSplit(userTokenPrefix, c.id, &c.secret) }

func parseUserToken(s string) (userTokenCredential, bool) {
	id, secret, ok := parseSplit(userTokenPrefix, s)
	return userTokenCredential{id: id, secret: secret}, ok
}

// encodeSplit and parseSplit are the layout of user tokens and console
// sessions: prefix + base32(id[16] | secret[32] | crc32[4]), a split
// credential looked up by its ID and verified by its secret's digest.
func encodeSplit(prefix string, id uuid.UUID, secret *[secretLen]byte) string {
	var raw [userTokenRaw]byte
	copy(raw[:16], id[:])
	copy(raw[16:], secret[:])
	binary.BigEndian.PutUint32(raw[16+secretLen:], crc(prefix, raw[:16+secretLen]))
	return prefix + b32.EncodeToString(raw[:])
}

func parseSplit(prefix, s string) (id uuid.UUID, secret [secretLen]byte, ok bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != b32.EncodedLen(userTokenRaw) {
		return id, secret, false
	}
	var raw [userTokenRaw]byte
	if n, ok := decodeBase32(raw[:], rest); !ok || n != userTokenRaw {
		return id, secret, false
	}
	if binary.BigEndian.Uint32(raw[16+secretLen:]) != crc(prefix, raw[:16+secretLen]) {
		return id, secret, false
	}
	copy(id[:], raw[:16])
	copy(secret[:], raw[16:16+secretLen])
	return id, secret, true
}

// digest is what the store keeps of the secret.
func (c userTokenCredential) digest(ks *keyset) []byte {
	return ks.credential.sum(nil, []byte("user-token"), c.id[:], c.secret[:])
}

func (c userTokenCredential) verify(ks *keyset, digest []byte) bool {
	return ks.credential.verify(digest, []byte("user-token"), c.id[:], c.secret[:])
}

// refreshCredential is a parsed refresh token.
type refreshCredential struct {
	family uuid.UUID
	seq    uint64
	secret [secretLen]byte
}

func newRefreshCredential(family uuid.UUID, seq uint64) (refreshCredential, string) {
	c := refreshCredential{family: family, seq: seq}
	randomBytes(c.secret[:])
	return c, c.encode()
}

func (c refreshCredential) encode() string {
	var raw [refreshTokenRaw]byte
	copy(raw[:16], c.family[:])
	binary.BigEndian.PutUint64(raw[16:24], c.seq)
	copy(raw[24:], c.secret[:])
	binary.BigEndian.PutUint32(raw[24+secretLen:], crc(refreshTokenPrefix, raw[:24+secretLen]))
	return refreshTokenPrefix + b32.EncodeToString(raw[:])
}

func parseRefreshToken(s string) (refreshCredential, bool) {
	var c refreshCredential
	rest, ok := strings.CutPrefix(s, refreshTokenPrefix)
	if !ok || len(rest) != b32.EncodedLen(refreshTokenRaw) {
		return c, false
	}
	var raw [refreshTokenRaw]byte
	if n, ok := decodeBase32(raw[:], rest); !ok || n != refreshTokenRaw {
		return c, false
	}
	if binary.BigEndian.Uint32(raw[24+secretLen:]) != crc(refreshTokenPrefix, raw[:24+secretLen]) {
		return c, false
	}
	copy(c.family[:], raw[:16])
	c.seq = binary.BigEndian.Uint64(raw[16:24])
	copy(c.secret[:], raw[24:24+secretLen])
	return c, true
}

func (c refreshCredential) digest(ks *keyset) []byte {
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], c.seq)
	return ks.credential.sum(nil, []byte("refresh-token"), c.family[:], seq[:], c.secret[:])
}

func (c refreshCredential) verify(ks *keyset, digest []byte) bool {
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], c.seq)
	return ks.credential.verify(digest, []byte("refresh-token"), c.family[:], seq[:], c.secret[:])
}

// accessClaims is what an access token carries. It is self-contained and
// MAC'd; whether it is still honoured is decided against the live state of
// its user token (generation, status), its family and its tenant.
type accessClaims struct {
	keyID       string
	tenantID    string
	tokenID     uuid.UUID
	family      uuid.UUID
	generation  uint64
	permissions permission.Set
	expires     int64 // unix ns, exclusive
}

func (c *accessClaims) encode(ks *keyset) string {
	body := make([]byte, 0, accessRawMax)
	body = append(body, accessTokenVersion, byte(len(ks.id)))
	body = append(body, ks.id...)
	body = append(body, byte(len(c.tenantID)))
	body = append(body, c.tenantID...)
	body = append(body, c.tokenID[:]...)
	body = append(body, c.family[:]...)
	body = binary.BigEndian.AppendUint64(body, c.generation)
	body = binary.BigEndian.AppendUint64(body, c.permissions.Bits())
	body = binary.BigEndian.AppendUint64(body, uint64(c.expires))
	var nonce [8]byte
	randomBytes(nonce[:])
	body = append(body, nonce[:]...)
	raw := ks.access.sum(body, body)
	return accessTokenPrefix + b32.EncodeToString(raw)
}

// parseAccessToken checks shape and MAC and fills c. The tenant ID is
// copied into tenantBuf and returned as a slice of it, so that the caller
// can resolve it with a map lookup and a valid token costs no allocation.
func parseAccessToken(s string, kr *keyring, c *accessClaims, tenantBuf *[maxTenantIDLen]byte) ([]byte, bool) {
	rest, ok := strings.CutPrefix(s, accessTokenPrefix)
	if !ok || len(rest) > b32.EncodedLen(accessRawMax) || len(rest) < b32.EncodedLen(sha256.Size+1) {
		return nil, false
	}
	// Decode into the scratch space of a MAC state of the current key,
	// which signs every token but those of a rotation's older keys.
	pool := &kr.current.access.pool
	st := pool.Get().(*macState)
	defer pool.Put(st)
	n, ok := decodeBase32(st.raw[:], rest)
	if !ok || n <= sha256.Size {
		return nil, false
	}
	raw := st.raw[:n]
	body, mac := raw[:n-sha256.Size], raw[n-sha256.Size:]
	// Parse the body only far enough to find the key, and check the MAC
	// before trusting anything else in it.
	if len(body) < 2 || body[0] != accessTokenVersion {
		return nil, false
	}
	kidLen := int(body[1])
	if len(body) < 2+kidLen+1 {
		return nil, false
	}
	ks := kr.byID[string(body[2:2+kidLen])]
	switch {
	case ks == nil:
		return nil, false
	case ks == kr.current:
		if !st.verify(mac, body) {
			return nil, false
		}
	default:
		if !ks.access.verify(mac, body) {
			return nil, false
		}
	}
	p := body[2+kidLen:]
	tl := int(p[0])
	p = p[1:]
	if tl > maxTenantIDLen || len(p) != tl+16+16+8+8+8+8 {
		return nil, false
	}
	tenantID := append(tenantBuf[:0], p[:tl]...)
	p = p[tl:]
	copy(c.tokenID[:], p[:16])
	copy(c.family[:], p[16:32])
	c.generation = binary.BigEndian.Uint64(p[32:40])
	perms, err := permission.SetFromBits(binary.BigEndian.Uint64(p[40:48]))
	if err != nil {
		return nil, false
	}
	c.permissions = perms
	c.expires = int64(binary.BigEndian.Uint64(p[48:56]))
	c.keyID = ks.id
	return tenantID, true
}

// decodeBase32 decodes unpadded lowercase base32 (the b32 alphabet) into
// dst without allocating (encoding/base32 copies its input). ok is false
// for any character outside the alphabet, a length no encoding has, or
// non-zero trailing bits: every credential has exactly one spelling
// (encoding/base32 ignores those bits, so it accepts several).
func decodeBase32(dst []byte, s string) (n int, ok bool) {
	if len(s)%8 == 1 || len(s)%8 == 3 || len(s)%8 == 6 || len(s)*5/8 > len(dst) {
		return 0, false
	}
	// Whole groups of 8 characters make 5 bytes each. A byte outside the
	// alphabet maps to 0xff, so OR-ing a group's values shows any of them
	// in bit 5 or above.
	i := 0
	for ; len(s)-i >= 8 && len(dst)-n >= 5; i += 8 {
		g := s[i : i+8]
		v0, v1, v2, v3 := b32values[g[0]], b32values[g[1]], b32values[g[2]], b32values[g[3]]
		v4, v5, v6, v7 := b32values[g[4]], b32values[g[5]], b32values[g[6]], b32values[g[7]]
		if (v0|v1|v2|v3|v4|v5|v6|v7)&0xe0 != 0 {
			return 0, false
		}
		w := uint64(v0)<<35 | uint64(v1)<<30 | uint64(v2)<<25 | uint64(v3)<<20 |
			uint64(v4)<<15 | uint64(v5)<<10 | uint64(v6)<<5 | uint64(v7)
		d := dst[n : n+5 : n+5]
		d[0], d[1], d[2], d[3], d[4] = byte(w>>32), byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
		n += 5
	}
	// The last, partial group, one character at a time.
	var acc uint64
	bits := 0
	for ; i < len(s); i++ {
		v := b32values[s[i]]
		if v == 0xff {
			return 0, false
		}
		acc = acc<<5 | uint64(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			dst[n] = byte(acc >> bits)
			n++
		}
	}
	// Leftover bits must be zero, as the encoder writes them.
	if acc&(1<<bits-1) != 0 {
		return 0, false
	}
	return n, true
}

// b32values maps a byte to its value in the b32 alphabet, 0xff for a byte
// outside it. A constant string, so the table is neither state nor
// allocated.
const b32values = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\x1a\x1b\x1c\x1d\x1e\x1f\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e" +
	"\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// unsafeBytes views s as bytes for read-only use by a decoder.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
