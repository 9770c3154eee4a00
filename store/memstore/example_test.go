package memstore_test

import (
	"context"
	"fmt"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
)

func ExampleNew() {
	st := memstore.New()
	defer st.Close()
	ctx := context.Background()

	err := st.Update(ctx, func(tx store.Tx) error {
		return tx.Tenant("acme").Customers().Create(ctx, store.Customer{ID: "c1", Name: "Initech"})
	})
	if err != nil {
		panic(err)
	}
	_ = st.View(ctx, func(tx store.Tx) error {
		c, err := tx.Tenant("acme").Customers().Get(ctx, "c1")
		fmt.Println(c.TenantID, c.Name, err)
		_, err = tx.Tenant("globex").Customers().Get(ctx, "c1")
		fmt.Println(err != nil)
		return nil
	})
	// Output:
	// acme Initech <nil>
	// true
}
