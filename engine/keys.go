package engine

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"hash"
	"sync"
)

// MasterKey is the secret every engine key is derived from. It lives
// outside the store (an environment variable, a secret manager): whoever
// holds the store alone can neither verify a guess nor forge a token.
type MasterKey struct {
	// ID names the key; it is stored beside every digest and carried in
	// every access token, so a rotation knows which key to check with.
	// 1 to 16 bytes of letters, digits, '-' or '_'.
	ID string
	// Secret is at least 32 random bytes.
	Secret []byte
}

// MinMasterSecret is the shortest master secret accepted, in bytes.
const MinMasterSecret = 32

const (
	purposeCredential = "credential-digest" // user-token and refresh secrets
	purposeLicense    = "license-key-digest"
	purposeAccess     = "access-token-mac"
)

// keyset is the keys derived from one master key.
type keyset struct {
	id                          string
	credential, license, access *macPool
}

// macPool hands out HMAC-SHA256 instances for one key; reusing them (and
// their scratch space, which would otherwise escape through the hash.Hash
// interface) keeps the request path free of allocations.
type macPool struct{ pool sync.Pool }

type macState struct {
	h   hash.Hash
	out [sha256.Size]byte
	// raw is scratch space for decoding an access token, kept with the
	// MAC that checks it so that parsing one takes one pooled state (a
	// buffer on the stack would escape through the hash.Hash interface).
	raw [accessRawMax]byte
}

func newMACPool(key []byte) *macPool {
	p := &macPool{}
	p.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	return p
}

// sum appends HMAC(key, parts...) to dst.
func (p *macPool) sum(dst []byte, parts ...[]byte) []byte {
	st := p.pool.Get().(*macState)
	st.h.Reset()
	for _, b := range parts {
		st.h.Write(b)
	}
	dst = append(dst, st.h.Sum(st.out[:0])...)
	p.pool.Put(st)
	return dst
}

// verify reports in constant time whether mac is HMAC(key, parts...).
func (p *macPool) verify(mac []byte, parts ...[]byte) bool {
	st := p.pool.Get().(*macState)
	ok := st.verify(mac, parts...)
	p.pool.Put(st)
	return ok
}

// verify reports in constant time whether mac is HMAC(key, parts...), with
// st's key.
func (st *macState) verify(mac []byte, parts ...[]byte) bool {
	st.h.Reset()
	for _, b := range parts {
		st.h.Write(b)
	}
	return subtle.ConstantTimeCompare(st.h.Sum(st.out[:0]), mac) == 1
}

// keyring holds the current key set and the ones still accepted.
type keyring struct {
	current *keyset
	byID    map[string]*keyset
}

func newKeyring(current MasterKey, previous []MasterKey) (*keyring, error) {
	kr := &keyring{byID: map[string]*keyset{}}
	for i, mk := range append([]MasterKey{current}, previous...) {
		if err := checkMasterKey(mk); err != nil {
			return nil, err
		}
		if _, dup := kr.byID[mk.ID]; dup {
			return nil, fmt.Errorf("engine: master key id %q given twice", mk.ID)
		}
		ks, err := deriveKeyset(mk)
		if err != nil {
			return nil, err
		}
		kr.byID[mk.ID] = ks
		if i == 0 {
			kr.current = ks
		}
	}
	return kr, nil
}

func checkMasterKey(mk MasterKey) error {
	if len(mk.ID) == 0 || len(mk.ID) > 16 {
		return fmt.Errorf("engine: master key id must be 1 to 16 bytes, got %d", len(mk.ID))
	}
	for _, c := range []byte(mk.ID) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("engine: master key id %q: only letters, digits, '-' and '_'", mk.ID)
		}
	}
	if len(mk.Secret) < MinMasterSecret {
		return fmt.Errorf("engine: master key %q: secret must be at least %d bytes, got %d", mk.ID, MinMasterSecret, len(mk.Secret))
	}
	return nil
}

func deriveKeyset(mk MasterKey) (*keyset, error) {
	derive := func(purpose string) (*macPool, error) {
		k, err := hkdf.Key(sha256.New, mk.Secret, []byte("licensekit/v1"), "licensekit "+purpose, 32)
		if err != nil {
			return nil, fmt.Errorf("engine: derive %s key: %w", purpose, err)
		}
		return newMACPool(k), nil
	}
	ks := &keyset{id: mk.ID}
	var err error
	if ks.credential, err = derive(purposeCredential); err != nil {
		return nil, err
	}
	if ks.license, err = derive(purposeLicense); err != nil {
		return nil, err
	}
	if ks.access, err = derive(purposeAccess); err != nil {
		return nil, err
	}
	return ks, nil
}

// lookup returns the key set with that id, or nil: an unknown id is
// rejected, never guessed.
func (kr *keyring) lookup(id string) *keyset { return kr.byID[id] }
