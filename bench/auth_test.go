package bench

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/licensekit/licensekit/permission"
)

// BenchmarkAuthenticate: licensekit verifies an opaque access token,
// authorizes one permission and charges the tenant's quota (10k live
// tokens, badgerstore, warm); golang-jwt parses and verifies a token
// carrying the same claims (signature and exp check only: no revocation,
// no store, no quota).
func BenchmarkAuthenticate(b *testing.B) {
	b.Run("licensekit", func(b *testing.B) {
		f := newFixture(b)
		const n = 10_000
		access := f.accessTokens(n, permission.ViewLicenses)
		for _, a := range access { // warm
			_, err := f.eng.Authenticate(f.ctx, a, f.addr)
			must(b, err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			p, err := f.eng.Authenticate(f.ctx, access[i%n], f.addr)
			if err != nil {
				b.Fatal(err)
			}
			if err := f.eng.Authorize(f.ctx, p, permission.ViewLicenses); err != nil {
				b.Fatal(err)
			}
		}
	})
	hsKey := make([]byte, 32)
	_, _ = rand.Read(hsKey)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	must(b, err)
	b.Run("jwt-HS256", func(b *testing.B) {
		benchJWT(b, jwt.SigningMethodHS256, hsKey, hsKey)
	})
	b.Run("jwt-EdDSA", func(b *testing.B) {
		benchJWT(b, jwt.SigningMethodEdDSA, priv, pub)
	})
}

// claims is the set licensekit's access tokens carry.
type claims struct {
	TenantID    string   `json:"tid"`
	Family      string   `json:"fam"`
	Generation  uint64   `json:"gen"`
	Permissions []string `json:"perms"`
	jwt.RegisteredClaims
}

func benchJWT(b *testing.B, m jwt.SigningMethod, signKey, verifyKey any) {
	const n = 10_000
	toks := make([]string, n)
	exp := jwt.NewNumericDate(time.Now().Add(time.Hour))
	for i := range toks {
		c := claims{
			TenantID: "acme", Family: uuid.NewString(), Generation: 1,
			Permissions:      []string{permission.ViewLicenses.String()},
			RegisteredClaims: jwt.RegisteredClaims{ID: uuid.NewString(), Subject: "user-1", ExpiresAt: exp},
		}
		s, err := jwt.NewWithClaims(m, c).SignedString(signKey)
		must(b, err)
		toks[i] = s
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{m.Alg()}), jwt.WithExpirationRequired())
	keyFunc := func(*jwt.Token) (any, error) { return verifyKey, nil }
	want := permission.ViewLicenses.String()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		var c claims
		if _, err := parser.ParseWithClaims(toks[i%n], &c, keyFunc); err != nil {
			b.Fatal(err)
		}
		ok := false
		for _, p := range c.Permissions { // the equivalent of Authorize
			ok = ok || p == want
		}
		if !ok || c.TenantID != "acme" {
			b.Fatal("claims")
		}
	}
}
