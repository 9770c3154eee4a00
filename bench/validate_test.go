package bench

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/licensekit/licensekit/engine"
)

const validateLicenses = 100_000

// BenchmarkValidate validates random keys among 100k licenses, warm
// (engine over badgerstore), against the limit: a raw Badger Get of a
// random key among 100k of the same shape (a 2-byte prefix and a SHA-256
// digest) with a value of about the size of a license record.
func BenchmarkValidate(b *testing.B) {
	b.Run("licensekit", func(b *testing.B) {
		f := newFixture(b)
		_, keys := f.licenses(validateLicenses)
		for _, k := range keys { // warm: every license is in the cache
			_, err := f.eng.ValidateLicense(f.ctx, k, engine.ValidationScope{}, f.addr)
			must(b, err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			res, err := f.eng.ValidateLicense(f.ctx, keys[rng.IntN(len(keys))], engine.ValidationScope{}, f.addr)
			if err != nil || !res.Valid {
				b.Fatal(err, res.Code)
			}
		}
	})
	b.Run("badger-get", func(b *testing.B) {
		db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithLogger(nil).WithSyncWrites(false))
		must(b, err)
		b.Cleanup(func() { must(b, db.Close()) })
		keys := make([][]byte, validateLicenses)
		value := make([]byte, 320)
		wb := db.NewWriteBatch()
		for i := range keys {
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(i))
			d := sha256.Sum256(n[:])
			keys[i] = append([]byte("l/"), d[:]...)
			must(b, wb.Set(keys[i], value))
		}
		must(b, wb.Flush())
		for _, k := range keys { // warm
			must(b, db.View(func(txn *badger.Txn) error {
				it, err := txn.Get(k)
				if err != nil {
					return err
				}
				_, err = it.ValueCopy(nil)
				return err
			}))
		}
		rng := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 0, len(value))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			err := db.View(func(txn *badger.Txn) error {
				it, err := txn.Get(keys[rng.IntN(len(keys))])
				if err != nil {
					return err
				}
				buf, err = it.ValueCopy(buf[:0])
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
