package store_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
)

// Transactions are closures; a tenant's records are reached only through
// tx.Tenant, so another tenant's data cannot be named.
func ExampleStore() {
	var st store.Store = memstore.New()
	defer st.Close()
	ctx := context.Background()

	err := st.Update(ctx, func(tx store.Tx) error {
		return tx.Tenant("acme").Customers().Create(ctx, store.Customer{ID: "c1", Name: "Initech"})
	})
	fmt.Println(err)

	// An error from the closure rolls the whole transaction back.
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Tenant("acme").Customers().Create(ctx, store.Customer{ID: "c2", Name: "Hooli"}); err != nil {
			return err
		}
		return errors.New("changed my mind")
	})
	fmt.Println(err)

	_ = st.View(ctx, func(tx store.Tx) error {
		_, err := tx.Tenant("acme").Customers().Get(ctx, "c2")
		fmt.Println(errors.Is(err, store.ErrNotFound))
		_, err = tx.Tenant("globex").Customers().Get(ctx, "c1")
		fmt.Println(errors.Is(err, store.ErrNotFound))
		return nil
	})
	// Output:
	// <nil>
	// changed my mind
	// true
	// true
}
