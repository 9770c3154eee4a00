package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Every credential has exactly one spelling: any other last character,
// including ones that differ only in bits a lenient base32 decoder
// ignores, is refused before any store read.
func TestCredentialsHaveOneSpelling(t *testing.T) {
	_, user := newUserTokenCredential(uuid.New())
	_, refresh := newRefreshCredential(uuid.New(), 7)
	for _, tc := range []struct {
		name  string
		cred  string
		parse func(string) bool
	}{
		{"user token", user, func(s string) bool { _, ok := parseUserToken(s); return ok }},
		{"refresh token", refresh, func(s string) bool { _, ok := parseRefreshToken(s); return ok }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.True(t, tc.parse(tc.cred))
			last := tc.cred[len(tc.cred)-1]
			for _, c := range []byte("abcdefghijklmnopqrstuvwxyz234567") {
				if c != last {
					require.False(t, tc.parse(tc.cred[:len(tc.cred)-1]+string(c)), "last character %q", c)
				}
			}
		})
	}
}

// decodeBase32 agrees with encoding/base32 on every input both accept, and
// refuses exactly what a strict decoder refuses: bytes outside the
// alphabet, impossible lengths, and non-zero trailing bits.
func TestDecodeBase32MatchesEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 256)
	for range 20_000 {
		raw := make([]byte, rng.IntN(120))
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		enc := []byte(b32.EncodeToString(raw))
		if len(enc) > 0 && rng.IntN(2) == 0 {
			// Change one character, sometimes to one outside the alphabet.
			enc[rng.IntN(len(enc))] = "abcdefghijklmnopqrstuvwxyz234567A=1!\x00\xff"[rng.IntN(38)]
		}
		if rng.IntN(8) == 0 && len(enc) > 0 {
			enc = enc[:rng.IntN(len(enc))]
		}
		// The strict reference: what decodes and encodes back to itself.
		want, werr := b32.DecodeString(string(enc))
		strict := werr == nil && b32.EncodeToString(want) == string(enc)
		n, ok := decodeBase32(buf, string(enc))
		require.Equal(t, strict, ok, "%q", enc)
		if ok {
			require.Equal(t, want, buf[:n], "%q", enc)
		}
	}
}
