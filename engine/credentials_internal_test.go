package engine

import (
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
