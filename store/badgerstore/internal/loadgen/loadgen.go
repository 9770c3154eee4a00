package loadgen

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/store"
)

// Tenant is the tenant that holds every generated license.
const Tenant = "bench-tenant"

// Digest returns the key digest of license number i (32 bytes, like an
// HMAC-SHA256).
func Digest(i int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	d := sha256.Sum256(append([]byte("loadgen-license-key:"), b[:]...))
	return d[:]
}

// LicenseID returns the ID of license number i.
func LicenseID(i int) string { return fmt.Sprintf("lic-%09d", i) }

// License returns license number i of Tenant, shaped like a real one.
func License(i int, now time.Time) store.License {
	return store.License{
		TenantID:   Tenant,
		ID:         LicenseID(i),
		CustomerID: fmt.Sprintf("cus-%07d", i/10),
		ProductID:  "prod-desktop",
		PlanID:     "plan-pro",
		Status:     store.LicenseActive,
		KeyDigest:  Digest(i),
		KeyID:      "k1",
		KeyHint:    fmt.Sprintf("%04X", i&0xffff),
		ExpiresAt:  now.AddDate(1, 0, 0),
		Attributes: map[string]string{"seats": "5"},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
}

// Load creates licenses [from, to) in Tenant, batch per Update (1000 when
// batch <= 0).
func Load(ctx context.Context, s store.Store, from, to, batch int) error {
	if batch <= 0 {
		batch = 1000
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		err := s.Update(ctx, func(tx store.Tx) error {
			ls := tx.Tenant(Tenant).Licenses()
			for i := lo; i < hi; i++ {
				if err := ls.Create(ctx, License(i, now)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("loadgen: licenses [%d, %d): %w", lo, hi, err)
		}
	}
	return nil
}
