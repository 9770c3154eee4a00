package badgerstore_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/badgerstore"
)

func Example() {
	dir, err := os.MkdirTemp("", "badgerstore-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The zero Options are the defaults: fsync on every commit, bounded
	// memory, Badger's logging silenced.
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	ctx := context.Background()
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.Tenant("acme").Customers().Create(ctx, store.Customer{ID: "cus-1", Name: "Initech"})
	})
	if err != nil {
		log.Fatal(err)
	}

	err = s.View(ctx, func(tx store.Tx) error {
		c, err := tx.Tenant("acme").Customers().Get(ctx, "cus-1")
		if err != nil {
			return err
		}
		fmt.Println(c.TenantID, c.ID, c.Name)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	if err := s.Close(); err != nil {
		log.Fatal(err)
	}
	// Output: acme cus-1 Initech
}
