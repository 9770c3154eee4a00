package engine

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/licensekit/licensekit/tenant"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// PasswordHashing sets the argon2id parameters of console passwords. The
// zero value is OWASP's recommended minimum for argon2id: 19 MiB of memory,
// 2 iterations, 1 lane (OWASP Password Storage Cheat Sheet). Stored hashes
// carry their parameters, so raising them later keeps old hashes valid.
type PasswordHashing struct {
	// MemoryKiB is argon2id's memory cost in KiB. Zero: 19456 (19 MiB).
	MemoryKiB uint32
	// Iterations is argon2id's time cost. Zero: 2.
	Iterations uint32
	// Parallelism is argon2id's lanes. Zero: 1.
	Parallelism uint8
}

const (
	passwordMinLen = 12  // characters
	passwordMaxLen = 256 // bytes: longer input is refused before any hash
	saltLen        = 16
	passwordKeyLen = 32

	// Bounds on the parameters: configured ones, and those read back from
	// a stored hash (also at most 4× the configured cost), so that a
	// corrupted record cannot make one sign-in allocate gigabytes.
	maxHashMemoryKiB   = 1 << 20 // 1 GiB
	maxHashIterations  = 64
	maxHashParallelism = 16
	storedCostFactor   = 4
	// maxHashWaitersPer bounds, per hashing slot, the sign-ins waiting for
	// one; beyond it SignIn refuses at once rather than queue without end.
	maxHashWaitersPer = 8
)

func (p PasswordHashing) withDefaults() (PasswordHashing, error) {
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 19456
	}
	if p.Iterations == 0 {
		p.Iterations = 2
	}
	if p.Parallelism == 0 {
		p.Parallelism = 1
	}
	if p.MemoryKiB < 8*uint32(p.Parallelism) || p.MemoryKiB > maxHashMemoryKiB || p.Iterations > maxHashIterations || p.Parallelism > maxHashParallelism {
		return p, fmt.Errorf("engine: Config.Console.PasswordHashing: memory must be 8×parallelism to %d KiB, iterations at most %d, parallelism at most %d",
			maxHashMemoryKiB, maxHashIterations, maxHashParallelism)
	}
	return p, nil
}

// hasher computes argon2id hashes, at most a fixed number at once: each
// takes MemoryKiB of memory, so an unbounded number in flight would let a
// burst of sign-ins exhaust the host's memory.
type hasher struct {
	params  PasswordHashing
	slots   chan struct{}
	waiting atomic.Int64
	maxWait int64
	// dummy is a hash of nothing anyone knows, verified when the account
	// does not exist, so an unknown email costs the same time as a wrong
	// password.
	dummy string
	// computed counts hashes computed, for tests and metrics.
	computed atomic.Int64
}

func newHasher(p PasswordHashing, concurrency int) (*hasher, error) {
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	h := &hasher{params: p, slots: make(chan struct{}, concurrency), maxWait: int64(concurrency * maxHashWaitersPer)}
	var secret [secretLen]byte
	randomBytes(secret[:])
	h.dummy = h.encode(secret[:])
	return h, nil
}

// errHashesBusy: every hashing slot is taken and too many wait already.
var errHashesBusy = &LimitError{Kind: ErrTooManyAttempts, Decision: tenant.Decision{RetryAfter: time.Second}}

// acquire waits for a free hashing slot, or for ctx. When too many wait
// already it refuses at once (a *LimitError), so a flood of sign-ins
// costs bounded memory and goroutines rather than an unbounded queue.
func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.waiting.Add(1) > h.maxWait {
		h.waiting.Add(-1)
		return errHashesBusy
	}
	defer h.waiting.Add(-1)
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.slots }

// hash returns the encoded argon2id hash of password (PHC string format:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash). The caller holds a slot.
func (h *hasher) encode(password []byte) string {
	var salt [saltLen]byte
	randomBytes(salt[:])
	p := h.params
	h.computed.Add(1)
	key := argon2.IDKey(password, salt[:], p.Iterations, p.MemoryKiB, p.Parallelism, passwordKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt[:]), base64.RawStdEncoding.EncodeToString(key))
}

// verify reports whether password matches the encoded hash, comparing in
// constant time. A malformed hash matches nothing. The caller holds a slot.
func (h *hasher) verify(encoded string, password []byte) bool {
	mem, iter, par, salt, want, ok := parseArgon2id(encoded)
	if !ok || mem > storedCostFactor*h.params.MemoryKiB || iter > storedCostFactor*h.params.Iterations {
		return false
	}
	h.computed.Add(1)
	got := argon2.IDKey(password, salt, iter, mem, par, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

func parseArgon2id(s string) (mem, iter uint32, par uint8, salt, key []byte, ok bool) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return 0, 0, 0, nil, nil, false
	}
	var m, t, p uint64
	for i, kv := range strings.Split(f[3], ",") {
		name, val, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil || i > 2 || name != [...]string{"m", "t", "p"}[i] {
			return 0, 0, 0, nil, nil, false
		}
		switch name {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			p = n
		}
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(f[4])
	key, err2 := base64.RawStdEncoding.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > 64 || len(key) < 16 || len(key) > 64 ||
		p < 1 || p > maxHashParallelism || t < 1 || t > maxHashIterations || m < 8*p || m > maxHashMemoryKiB {
		return 0, 0, 0, nil, nil, false
	}
	return uint32(m), uint32(t), uint8(p), salt, key, true
}

// passwordBytes is what is hashed of a password: its NFKC normalization
// (NIST SP 800-63B §5.1.1.2), so that the same password typed on keyboards
// that compose characters differently (é as one code point or two) is the
// same password.
func passwordBytes(pw string) []byte { return []byte(norm.NFKC.String(pw)) }

// checkPassword applies the password policy (NIST SP 800-63B: a length
// floor, no composition rules, any characters). Only lengths are named in
// the error, never the password.
func checkPassword(pw string) error {
	switch {
	case len(pw) > passwordMaxLen:
		return invalidInput("password longer than %d bytes", passwordMaxLen)
	case !utf8.ValidString(pw):
		return invalidInput("password is not valid UTF-8")
	case utf8.RuneCountInString(pw) < passwordMinLen:
		return invalidInput("password shorter than %d characters", passwordMinLen)
	}
	return nil
}
