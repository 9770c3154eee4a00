package engine

import (
	"crypto/sha256"
	"strings"
)

// LicenseKeyFormat makes and reads license keys. The engine digests the
// normalized form, so two spellings of one key (case, dashes, look-alike
// characters) find the same license.
type LicenseKeyFormat interface {
	// Generate returns a new key with at least 128 bits from crypto/rand.
	Generate() string
	// Normalize returns the canonical form of key, or ok=false when key
	// cannot be one of this format's keys (rejected before any store read).
	Normalize(key string) (canonical string, ok bool)
}

// DefaultLicenseKeyFormat is the default LicenseKeyFormat: 26 characters of
// Crockford base32 carrying 130 random bits, then 4 checksum characters,
// in six dash-separated groups of five:
//
//	7K2QM-V8XRT-0B4NW-HZJ5C-PD3EA-G91F6
//
// Crockford's alphabet has no I, L, O or U; on input those read as 1, 1, 0
// and are rejected respectively, case does not matter and dashes and spaces
// are ignored, so a key read over the phone still works. The checksum lets
// a client reject a typo without asking the server.
type DefaultLicenseKeyFormat struct{}

var _ LicenseKeyFormat = DefaultLicenseKeyFormat{}

const (
	crockford        = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	licenseDataChars = 26
	licenseSumChars  = 4
	licenseKeyChars  = licenseDataChars + licenseSumChars
)

// Generate implements LicenseKeyFormat.
func (DefaultLicenseKeyFormat) Generate() string {
	var rnd [licenseDataChars]byte
	randomBytes(rnd[:])
	var k [licenseKeyChars]byte
	for i, b := range rnd {
		k[i] = crockford[b&31] // 5 random bits per character: 130 bits
	}
	licenseChecksum(k[:licenseDataChars], k[licenseDataChars:])
	var out strings.Builder
	for i := 0; i < licenseKeyChars; i += 5 {
		if i > 0 {
			out.WriteByte('-')
		}
		out.Write(k[i : i+5])
	}
	return out.String()
}

// Normalize implements LicenseKeyFormat.
func (DefaultLicenseKeyFormat) Normalize(key string) (string, bool) {
	if len(key) > 3*licenseKeyChars {
		return "", false
	}
	var k [licenseKeyChars]byte
	n := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		switch c {
		case 'I', 'L':
			c = '1'
		case 'O':
			c = '0'
		}
		if strings.IndexByte(crockford, c) < 0 || n == licenseKeyChars {
			return "", false
		}
		k[n] = c
		n++
	}
	if n != licenseKeyChars {
		return "", false
	}
	var sum [licenseSumChars]byte
	licenseChecksum(k[:licenseDataChars], sum[:])
	if sum != [licenseSumChars]byte(k[licenseDataChars:]) {
		return "", false
	}
	return string(k[:]), true
}

// licenseChecksum writes 20 bits of SHA-256(data) as 4 characters.
func licenseChecksum(data, out []byte) {
	h := sha256.Sum256(data)
	v := uint32(h[0])<<12 | uint32(h[1])<<4 | uint32(h[2])>>4
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = crockford[v&31]
		v >>= 5
	}
}

// licenseDigest is what the store keeps of a license key.
func licenseDigest(ks *keyset, canonical string) []byte {
	return ks.license.sum(nil, []byte("license-key"), unsafeBytes(canonical))
}
