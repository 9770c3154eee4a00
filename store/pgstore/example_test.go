package pgstore_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/pgstore"
	"github.com/licensekit/licensekit/tenant"
)

// Open a store from a DSN; the store owns its pool and closes it.
func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), pgstore.Options{})
	if err != nil {
		log.Fatal(err) // unreachable server, bad DSN, or a schema too new for this binary
	}
	defer s.Close()
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.Tenants().Create(ctx, tenant.Tenant{ID: "acme", Name: "Acme"})
	})
	if err != nil {
		log.Fatal(err)
	}
}

// A host that has its own pool hands it over; Close leaves it open. The
// store's tables live in their own schema, so the pool's other users are
// not affected.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	s, err := pgstore.New(ctx, pool, pgstore.Options{Schema: "licensing"})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
}
