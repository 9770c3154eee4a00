package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// pager is one paginated listing of the store, seen as a list of IDs.
type pager struct {
	name string
	// setup runs once before anything is added; nil for none.
	setup func(tx store.Tx) error
	// add makes id appear in the listing.
	add  func(tx store.Tx, id string) error
	list lister[string]
}

func idsOf[T any](items []T, id func(T) string) []string {
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, id(it))
	}
	return ids
}

// kindPager is the List of a collection.
func kindPager[T any](k kind[T]) pager {
	return pager{
		name: k.name,
		add:  func(tx store.Tx, id string) error { return k.coll(tx.Tenant(tenantA)).Create(bg, k.make(id, 1)) },
		list: func(tx store.Tx, p store.Page) ([]string, string, error) {
			items, next, err := k.coll(tx.Tenant(tenantA)).List(bg, p)
			return idsOf(items, k.id), next, err
		},
	}
}

func pagers() []pager {
	return []pager{
		{
			name: "Tenants",
			add:  func(tx store.Tx, id string) error { return tx.Tenants().Create(bg, newTenant(id, 1)) },
			list: func(tx store.Tx, p store.Page) ([]string, string, error) {
				items, next, err := tx.Tenants().List(bg, p)
				return idsOf(items, func(tn tenant.Tenant) string { return tn.ID }), next, err
			},
		},
		kindPager(userKind),
		kindPager(groupKind),
		kindPager(productKind),
		kindPager(planKind),
		kindPager(customerKind),
		kindPager(licenseKind),
		kindPager(tokenKind),
		kindPager(familyKind),
		kindPager(sessionKind),
		{
			name: "PlansByProduct",
			add: func(tx store.Tx, id string) error {
				// Each plan of the product comes with one of another product.
				if err := tx.Tenant(tenantA).Plans().Create(bg, planOf(id, "prod", 1)); err != nil {
					return err
				}
				return tx.Tenant(tenantA).Plans().Create(bg, planOf(id+"#other", "prod2", 1))
			},
			list: func(tx store.Tx, p store.Page) ([]string, string, error) {
				items, next, err := tx.Tenant(tenantA).Plans().ListByProduct(bg, "prod", p)
				return idsOf(items, func(p store.Plan) string { return p.ID }), next, err
			},
		},
		{
			name:  "Members",
			setup: func(tx store.Tx) error { return tx.Tenant(tenantA).Groups().Create(bg, newGroup("grp", 1)) },
			add:   func(tx store.Tx, id string) error { return tx.Tenant(tenantA).Groups().AddMember(bg, "grp", id) },
			list: func(tx store.Tx, p store.Page) ([]string, string, error) {
				return tx.Tenant(tenantA).Groups().Members(bg, "grp", p)
			},
		},
		{
			name: "Audit",
			add:  func(tx store.Tx, id string) error { return tx.Tenant(tenantA).Audit().Append(bg, newEvent(id, 1)) },
			list: func(tx store.Tx, p store.Page) ([]string, string, error) {
				items, next, err := tx.Tenant(tenantA).Audit().List(bg, store.AuditQuery{}, p)
				return idsOf(items, func(ev store.AuditEvent) string { return ev.ID }), next, err
			},
		},
		{
			name: "Usage",
			add:  func(tx store.Tx, id string) error { return tx.Tenant(tenantA).Usage().Put(bg, newUsage(id, 1)) },
			list: func(tx store.Tx, p store.Page) ([]string, string, error) {
				items, next, err := tx.Tenant(tenantA).Usage().List(bg, p)
				return idsOf(items, func(u store.UsageRecord) string { return u.TokenID }), next, err
			},
		},
	}
}

// openPager opens a store, runs the pager's setup and adds ids.
func openPager(t *testing.T, b Backend, pg pager, ids []string) store.Store {
	t.Helper()
	s := open(t, b)
	update(t, s, func(tx store.Tx) error {
		if pg.setup != nil {
			if err := pg.setup(tx); err != nil {
				return err
			}
		}
		return nil
	})
	// Backends may bound the size of one transaction (Badger does, by its
	// memtable size): add the records in modest batches.
	for len(ids) > 0 {
		batch := ids[:min(200, len(ids))]
		ids = ids[len(batch):]
		update(t, s, func(tx store.Tx) error {
			for _, id := range batch {
				if err := pg.add(tx, id); err != nil {
					return fmt.Errorf("add %q: %w", id, err)
				}
			}
			return nil
		})
	}
	return s
}

// numbered returns n IDs "x00000", "x00001", … in a scrambled order.
func numbered(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range n {
		ids[(i*7919)%n] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return ids
}

// onePage lists one page.
func onePage(t tb, s store.Store, pg pager, p store.Page) ([]string, string) {
	t.Helper()
	return mustRead2(t, s, func(tx store.Tx) ([]string, string, error) { return pg.list(tx, p) })
}

func sortedCopy(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func paginationCases() []Case {
	var cs []Case
	for _, pg := range pagers() {
		name := func(s string) string { return "Pagination/" + pg.name + "/" + s }
		cs = append(cs,
			Case{name("Empty"), func(t *testing.T, b Backend) {
				s := openPager(t, b, pg, nil)
				for _, limit := range []int{0, 1, 5} {
					items, next := onePage(t, s, pg, store.Page{Limit: limit})
					require.Empty(t, items)
					if next != "" {
						more, _ := onePage(t, s, pg, store.Page{After: next, Limit: limit})
						require.Empty(t, more)
					}
				}
			}},
			Case{name("ByteOrder"), func(t *testing.T, b Backend) {
				ids := []string{"b", "B", "a", "Z", "10", "9", "1", "é", "e", "~", "a b", "aa", "a/b", "a.b", "日本", "A"}
				s := openPager(t, b, pg, ids)
				want := sortedCopy(ids)
				for _, limit := range []int{0, 1, 2, 3, 7, len(ids), len(ids) + 1} {
					all, _ := listAll(t, s, limit, pg.list)
					require.Equal(t, want, all, "limit %d", limit)
				}
			}},
			Case{name("CursorContinues"), func(t *testing.T, b Backend) {
				ids := numbered("x", 10)
				s := openPager(t, b, pg, ids)
				want := sortedCopy(ids)
				all, pages := listAll(t, s, 3, pg.list)
				require.Equal(t, want, all)
				require.Len(t, pages, 4)
				for i, page := range pages {
					require.Equal(t, want[3*i:min(3*i+3, len(want))], page, "page %d", i)
				}
				// Each page picks up where the last one stopped, also in another transaction.
				first, next := onePage(t, s, pg, store.Page{Limit: 4})
				require.Equal(t, want[:4], first)
				require.NotEmpty(t, next, "a full page with more to come needs a cursor")
				second, next := onePage(t, s, pg, store.Page{After: next, Limit: 4})
				require.Equal(t, want[4:8], second)
				require.NotEmpty(t, next)
				third, next := onePage(t, s, pg, store.Page{After: next, Limit: 4})
				require.Equal(t, want[8:], third)
				if next != "" {
					rest, _ := onePage(t, s, pg, store.Page{After: next, Limit: 4})
					require.Empty(t, rest, "after the last page")
				}
				// The same cursor gives the same page again.
				_, c := onePage(t, s, pg, store.Page{Limit: 2})
				p1, _ := onePage(t, s, pg, store.Page{After: c, Limit: 2})
				p2, _ := onePage(t, s, pg, store.Page{After: c, Limit: 2})
				require.Equal(t, want[2:4], p1)
				require.Equal(t, p1, p2)
				// Exactly one full page: the listing still ends.
				all, _ = listAll(t, s, 10, pg.list)
				require.Equal(t, want, all)
			}},
			Case{name("DefaultLimit"), func(t *testing.T, b Backend) {
				ids := numbered("x", store.DefaultPageLimit+7)
				s := openPager(t, b, pg, ids)
				want := sortedCopy(ids)
				for _, limit := range []int{0, -1, -1000} {
					items, next := onePage(t, s, pg, store.Page{Limit: limit})
					require.Equal(t, want[:store.DefaultPageLimit], items, "limit %d means DefaultPageLimit", limit)
					require.NotEmpty(t, next)
					rest, _ := onePage(t, s, pg, store.Page{After: next, Limit: limit})
					require.Equal(t, want[store.DefaultPageLimit:], rest)
				}
			}},
			Case{name("MaxLimit"), func(t *testing.T, b Backend) {
				ids := numbered("x", store.MaxPageLimit+3)
				s := openPager(t, b, pg, ids)
				want := sortedCopy(ids)
				for _, limit := range []int{store.MaxPageLimit, store.MaxPageLimit + 1, 1 << 30} {
					items, next := onePage(t, s, pg, store.Page{Limit: limit})
					require.Len(t, items, store.MaxPageLimit, "limit %d is capped at MaxPageLimit", limit)
					require.Equal(t, want[:store.MaxPageLimit], items)
					require.NotEmpty(t, next)
					rest, _ := onePage(t, s, pg, store.Page{After: next, Limit: limit})
					require.Equal(t, want[store.MaxPageLimit:], rest)
				}
			}},
			Case{name("AddWhilePaging"), func(t *testing.T, b Backend) {
				var originals []string
				for i := range 30 {
					originals = append(originals, fmt.Sprintf("m%03d", 10*i))
				}
				s := openPager(t, b, pg, originals)
				var seen []string
				after := ""
				for i := 0; ; i++ {
					require.Less(t, i, 200, "paging does not end")
					page, next := onePage(t, s, pg, store.Page{After: after, Limit: 4})
					seen = append(seen, page...)
					if next == "" || len(page) == 0 {
						break
					}
					after = next
					last := page[len(page)-1]
					// Between pages: IDs before everything, before the cursor,
					// right after it, and after everything.
					update(t, s, func(tx store.Tx) error {
						for _, id := range []string{
							fmt.Sprintf("a%03d", i),
							fmt.Sprintf("%s!%d", last[:len(last)-1], i), // < last
							fmt.Sprintf("%s+%d", last, i),               // just > last
							fmt.Sprintf("z%03d", i),
						} {
							if err := pg.add(tx, id); err != nil {
								return fmt.Errorf("add %q: %w", id, err)
							}
						}
						return nil
					})
				}
				count := map[string]int{}
				for _, id := range seen {
					count[id]++
				}
				for id, n := range count {
					require.Equal(t, 1, n, "%q seen %d times", id, n)
				}
				for _, id := range originals {
					require.Equal(t, 1, count[id], "original %q seen %d times", id, count[id])
				}
				require.True(t, slices.IsSorted(seen), "pages in ID order: %v", seen)
			}},
		)
	}
	return cs
}
