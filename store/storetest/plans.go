package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
)

func planOf(id, productID string, v int) store.Plan {
	p := newPlan(id, v)
	p.ProductID = productID
	return p
}

func plansByProduct(tid, productID string) lister[store.Plan] {
	return func(tx store.Tx, p store.Page) ([]store.Plan, string, error) {
		return tx.Tenant(tid).Plans().ListByProduct(bg, productID, p)
	}
}

func planIDsOf(t tb, s store.Store, tid, productID string) []string {
	t.Helper()
	all, _ := listAll(t, s, 0, plansByProduct(tid, productID))
	var ids []string
	for _, p := range all {
		require.Equal(t, productID, p.ProductID, "ListByProduct returned another product's plan")
		ids = append(ids, p.ID)
	}
	return ids
}

func planCases() []Case {
	return []Case{
		{"Plans/ListByProduct", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, planKind.create(tenantA, planOf("p3", "prodA", 1)))
			update(t, s, planKind.create(tenantA, planOf("p1", "prodA", 3)))
			update(t, s, planKind.create(tenantA, planOf("p2", "prodB", 5)))
			update(t, s, planKind.create(tenantA, planOf("P0", "prodA", 7)))
			update(t, s, planKind.create(tenantA, planOf("p4", "prodA/x", 9)))
			all, _ := listAll(t, s, 0, plansByProduct(tenantA, "prodA"))
			requireSame(t, []store.Plan{
				planKind.withTenant(planOf("P0", "prodA", 7), tenantA),
				planKind.withTenant(planOf("p1", "prodA", 3), tenantA),
				planKind.withTenant(planOf("p3", "prodA", 1), tenantA),
			}, all, "full records in ID order")
			require.Equal(t, []string{"p2"}, planIDsOf(t, s, tenantA, "prodB"))
			require.Equal(t, []string{"p4"}, planIDsOf(t, s, tenantA, "prodA/x"))
			require.Empty(t, planIDsOf(t, s, tenantA, "prodC"))
			require.Empty(t, planIDsOf(t, s, tenantA, "prod"))
		}},
		{"Plans/UpdateMovesProduct", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, planKind.create(tenantA, planOf("p1", "prodA", 1)))
			update(t, s, planKind.create(tenantA, planOf("p2", "prodA", 1)))
			update(t, s, func(tx store.Tx) error {
				require.NoError(t, planKind.update(tenantA, planOf("p1", "prodB", 3))(tx))
				got, _, err := tx.Tenant(tenantA).Plans().ListByProduct(bg, "prodA", store.Page{})
				require.NoError(t, err)
				require.Len(t, got, 1, "ListByProduct inside the transaction")
				require.Equal(t, "p2", got[0].ID)
				return nil
			})
			require.Equal(t, []string{"p2"}, planIDsOf(t, s, tenantA, "prodA"))
			require.Equal(t, []string{"p1"}, planIDsOf(t, s, tenantA, "prodB"))
		}},
		{"Plans/DeleteLeavesProductList", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, planKind.create(tenantA, planOf("p1", "prodA", 1)))
			update(t, s, planKind.create(tenantA, planOf("p2", "prodA", 1)))
			update(t, s, func(tx store.Tx) error { return tx.Tenant(tenantA).Plans().Delete(bg, "p1") })
			require.Equal(t, []string{"p2"}, planIDsOf(t, s, tenantA, "prodA"))
			// Re-created under another product, it appears there only.
			update(t, s, planKind.create(tenantA, planOf("p1", "prodB", 1)))
			require.Equal(t, []string{"p2"}, planIDsOf(t, s, tenantA, "prodA"))
			require.Equal(t, []string{"p1"}, planIDsOf(t, s, tenantA, "prodB"))
		}},
		{"Plans/IDUniqueAcrossProducts", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, planKind.create(tenantA, planOf("p1", "prodA", 1)))
			require.ErrorIs(t, attempt(t, s, planKind.create(tenantA, planOf("p1", "prodB", 3))), store.ErrAlreadyExists)
			require.Empty(t, planIDsOf(t, s, tenantA, "prodB"))
			require.Equal(t, []string{"p1"}, planIDsOf(t, s, tenantA, "prodA"))
		}},
		{"Plans/ListByProductInvalidID", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				_, err := read(t, s, func(tx store.Tx) ([]store.Plan, error) {
					ps, _, err := tx.Tenant(tenantA).Plans().ListByProduct(bg, bad.id, store.Page{})
					return ps, err
				})
				require.ErrorIs(t, err, store.ErrInvalid, bad.name)
			}
		}},
	}
}
