package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
)

func appendEvent(tid string, ev store.AuditEvent) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.Tenant(tid).Audit().Append(bg, ev) }
}

func auditLister(tid string, q store.AuditQuery) lister[store.AuditEvent] {
	return func(tx store.Tx, p store.Page) ([]store.AuditEvent, string, error) {
		return tx.Tenant(tid).Audit().List(bg, q, p)
	}
}

func auditIDs(t tb, s store.Store, tid string, q store.AuditQuery, limit int) []string {
	t.Helper()
	all, _ := listAll(t, s, limit, auditLister(tid, q))
	var ids []string
	for _, ev := range all {
		require.Equal(t, tid, ev.TenantID)
		ids = append(ids, ev.ID)
	}
	return ids
}

func prune(t tb, s store.Store, tid string, before time.Time, limit int) int {
	t.Helper()
	var n int
	update(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.Tenant(tid).Audit().Prune(bg, before, limit)
		return err
	})
	return n
}

// minute is the time of the i-th event of the filter cases.
func minute(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }

// filterEvents are ten events e01..e10 at minutes 1..10, alternating
// between two types and three token IDs.
func filterEvents() []store.AuditEvent {
	var evs []store.AuditEvent
	for i := 1; i <= 10; i++ {
		ev := newEvent(fmt.Sprintf("e%02d", i), 1)
		ev.Time = minute(i)
		ev.Type = []string{"auth.failed", "token.created"}[i%2]
		ev.TokenID = []string{"tok-a", "tok-b", ""}[i%3]
		evs = append(evs, ev)
	}
	return evs
}

func auditCases() []Case {
	return []Case{
		{"Audit/AppendList", func(t *testing.T, b Backend) {
			s := open(t, b)
			require.Empty(t, auditIDs(t, s, tenantA, store.AuditQuery{}, 0))
			// Appended out of ID order; listed in ID order.
			for _, v := range []int{3, 1, 2, 4} {
				update(t, s, appendEvent(tenantA, newEvent(fmt.Sprintf("ev%d", v), v)))
			}
			all, _ := listAll(t, s, 0, auditLister(tenantA, store.AuditQuery{}))
			var want []store.AuditEvent
			for v := 1; v <= 4; v++ {
				ev := newEvent(fmt.Sprintf("ev%d", v), v)
				ev.TenantID = tenantA
				want = append(want, ev)
			}
			requireSame(t, want, all, "full events, TenantID filled in, ID order")
			// An event that carries the tenant's ID is accepted as well.
			ev := newEvent("ev5", 5)
			ev.TenantID = tenantA
			update(t, s, appendEvent(tenantA, ev))
			require.Equal(t, []string{"ev1", "ev2", "ev3", "ev4", "ev5"}, auditIDs(t, s, tenantA, store.AuditQuery{}, 2))
		}},
		{"Audit/IDOrderNotTimeOrder", func(t *testing.T, b Backend) {
			s := open(t, b)
			// List is in ID order even if a caller's IDs do not sort by time.
			for i, id := range []string{"c", "a", "b"} {
				ev := newEvent(id, 1)
				ev.Time = minute(i)
				update(t, s, appendEvent(tenantA, ev))
			}
			require.Equal(t, []string{"a", "b", "c"}, auditIDs(t, s, tenantA, store.AuditQuery{}, 0))
		}},
		{"Audit/AppendDuplicate", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, appendEvent(tenantA, newEvent("ev1", 1)))
			require.ErrorIs(t, attempt(t, s, appendEvent(tenantA, newEvent("ev1", 3))), store.ErrAlreadyExists)
			all, _ := listAll(t, s, 0, auditLister(tenantA, store.AuditQuery{}))
			want := newEvent("ev1", 1)
			want.TenantID = tenantA
			requireSame(t, []store.AuditEvent{want}, all)
		}},
		{"Audit/InvalidIDs", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				require.ErrorIs(t, attempt(t, s, appendEvent(tenantA, newEvent(bad.id, 1))), store.ErrInvalid, "event ID %s", bad.name)
				require.ErrorIs(t, attempt(t, s, appendEvent(bad.id, newEvent("ev1", 1))), store.ErrInvalid, "tenant ID %s", bad.name)
				_, err := read(t, s, func(tx store.Tx) ([]store.AuditEvent, error) {
					evs, _, err := tx.Tenant(bad.id).Audit().List(bg, store.AuditQuery{}, store.Page{})
					return evs, err
				})
				require.ErrorIs(t, err, store.ErrInvalid, "List, tenant ID %s", bad.name)
			}
			require.Empty(t, auditIDs(t, s, tenantA, store.AuditQuery{}, 0))
		}},
		{"Audit/ForeignTenantID", func(t *testing.T, b Backend) {
			s := open(t, b)
			ev := newEvent("ev1", 1)
			ev.TenantID = tenantB
			require.ErrorIs(t, attempt(t, s, appendEvent(tenantA, ev)), store.ErrInvalid)
			require.Empty(t, auditIDs(t, s, tenantA, store.AuditQuery{}, 0))
			require.Empty(t, auditIDs(t, s, tenantB, store.AuditQuery{}, 0))
		}},
		{"Audit/EventsAreValues", func(t *testing.T, b Backend) {
			s := open(t, b)
			ev := newEvent("ev1", 1)
			update(t, s, appendEvent(tenantA, ev))
			ev.Details["k"] = "mutated"
			ev.Details["added"] = "x"
			all, _ := listAll(t, s, 0, auditLister(tenantA, store.AuditQuery{}))
			require.Len(t, all, 1)
			want := newEvent("ev1", 1)
			want.TenantID = tenantA
			requireSame(t, want, all[0], "event passed to Append aliases the store")
			all[0].Details["k"] = "mutated"
			again, _ := listAll(t, s, 0, auditLister(tenantA, store.AuditQuery{}))
			requireSame(t, []store.AuditEvent{want}, again, "event returned by List aliases the store")
		}},
		{"Audit/Filters", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, ev := range filterEvents() {
				update(t, s, appendEvent(tenantA, ev))
			}
			// Types: odd → token.created, even → auth.failed.
			// Tokens: i%3==1 → tok-b, i%3==2 → "", i%3==0 → tok-a.
			tests := []struct {
				name string
				q    store.AuditQuery
				want []string
			}{
				{"all", store.AuditQuery{}, []string{"e01", "e02", "e03", "e04", "e05", "e06", "e07", "e08", "e09", "e10"}},
				{"FromInclusive", store.AuditQuery{From: minute(8)}, []string{"e08", "e09", "e10"}},
				{"FromBetween", store.AuditQuery{From: minute(8).Add(time.Microsecond)}, []string{"e09", "e10"}},
				{"ToExclusive", store.AuditQuery{To: minute(3)}, []string{"e01", "e02"}},
				{"ToBetween", store.AuditQuery{To: minute(3).Add(time.Microsecond)}, []string{"e01", "e02", "e03"}},
				{"FromTo", store.AuditQuery{From: minute(4), To: minute(7)}, []string{"e04", "e05", "e06"}},
				{"FromEqualsTo", store.AuditQuery{From: minute(4), To: minute(4)}, nil},
				{"BeforeAll", store.AuditQuery{To: minute(1)}, nil},
				{"AfterAll", store.AuditQuery{From: minute(11)}, nil},
				{"Type", store.AuditQuery{Type: "token.created"}, []string{"e01", "e03", "e05", "e07", "e09"}},
				{"UnknownType", store.AuditQuery{Type: "token"}, nil},
				{"TokenID", store.AuditQuery{TokenID: "tok-a"}, []string{"e03", "e06", "e09"}},
				{"TokenIDPrefix", store.AuditQuery{TokenID: "tok"}, nil},
				{"TypeAndToken", store.AuditQuery{Type: "auth.failed", TokenID: "tok-b"}, []string{"e04", "e10"}},
				{"All4", store.AuditQuery{From: minute(2), To: minute(10), Type: "auth.failed", TokenID: "tok-b"}, []string{"e04"}},
				{"FromAndType", store.AuditQuery{From: minute(6), Type: "auth.failed"}, []string{"e06", "e08", "e10"}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					for _, limit := range []int{0, 1, 2, 3} {
						got := auditIDs(t, s, tenantA, tc.q, limit)
						if tc.want == nil {
							require.Empty(t, got, "limit %d", limit)
						} else {
							require.Equal(t, tc.want, got, "limit %d", limit)
						}
					}
				})
			}
			// Times in another zone mean the same instants.
			loc := time.FixedZone("UTC+5", 5*3600)
			require.Equal(t, []string{"e04", "e05", "e06"},
				auditIDs(t, s, tenantA, store.AuditQuery{From: minute(4).In(loc), To: minute(7).In(loc)}, 0))
		}},
		{"Audit/FilteredPagingWhileAppending", func(t *testing.T, b Backend) {
			s := open(t, b)
			evs := filterEvents()
			for _, ev := range evs {
				update(t, s, appendEvent(tenantA, ev))
			}
			q := store.AuditQuery{Type: "token.created"}
			var seen []string
			after := ""
			for i := 0; ; i++ {
				require.Less(t, i, 100)
				page, next := mustRead2(t, s, func(tx store.Tx) ([]store.AuditEvent, string, error) {
					return tx.Tenant(tenantA).Audit().List(bg, q, store.Page{After: after, Limit: 2})
				})
				for _, ev := range page {
					require.Equal(t, "token.created", ev.Type)
					seen = append(seen, ev.ID)
				}
				if next == "" || len(page) == 0 {
					break
				}
				after = next
				// Later events, matching and not, arrive between pages.
				for j, typ := range []string{"token.created", "auth.failed"} {
					ev := newEvent(fmt.Sprintf("f%02d-%d", i, j), 1)
					ev.Type = typ
					update(t, s, appendEvent(tenantA, ev))
				}
			}
			require.True(t, slices.IsSorted(seen), "pages in ID order: %v", seen)
			require.Equal(t, len(seen), len(slices.Compact(slices.Clone(seen))), "an event seen twice: %v", seen)
			for _, id := range []string{"e01", "e03", "e05", "e07", "e09"} {
				require.Contains(t, seen, id)
			}
		}},
		{"Audit/Prune", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, ev := range filterEvents() {
				update(t, s, appendEvent(tenantA, ev))
			}
			require.Equal(t, 0, prune(t, s, tenantA, minute(1), 100), "nothing is before the first event")
			require.Equal(t, 5, prune(t, s, tenantA, minute(6), 100), "events at minutes 1..5; minute 6 is not before")
			require.Equal(t, []string{"e06", "e07", "e08", "e09", "e10"}, auditIDs(t, s, tenantA, store.AuditQuery{}, 0))
			require.Equal(t, 0, prune(t, s, tenantA, minute(6), 100), "pruning again")
			require.Equal(t, 5, prune(t, s, tenantA, minute(11), 100))
			require.Empty(t, auditIDs(t, s, tenantA, store.AuditQuery{}, 0))
		}},
		{"Audit/PruneLimit", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, ev := range filterEvents() {
				update(t, s, appendEvent(tenantA, ev))
			}
			before := minute(6)
			old := []string{"e01", "e02", "e03", "e04", "e05"}
			for _, want := range []int{2, 2, 1, 0} {
				require.Equal(t, want, prune(t, s, tenantA, before, 2))
				left := auditIDs(t, s, tenantA, store.AuditQuery{To: before}, 0)
				require.Len(t, left, len(old)-want, "old events left")
				for _, id := range left {
					require.Contains(t, old, id)
				}
				old = left
				require.Equal(t, []string{"e06", "e07", "e08", "e09", "e10"}, auditIDs(t, s, tenantA, store.AuditQuery{From: before}, 0),
					"Prune deleted an event that is not before %v", before)
			}
		}},
		{"Audit/PruneInTransaction", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, ev := range filterEvents() {
				update(t, s, appendEvent(tenantA, ev))
			}
			// A rolled-back Prune deletes nothing; a Prune sees the transaction's appends.
			sentinel := fmt.Errorf("roll back")
			err := s.Update(bg, func(tx store.Tx) error {
				n, err := tx.Tenant(tenantA).Audit().Prune(bg, minute(6), 100)
				require.NoError(t, err)
				require.Equal(t, 5, n)
				return sentinel
			})
			require.ErrorIs(t, err, sentinel)
			require.Len(t, auditIDs(t, s, tenantA, store.AuditQuery{}, 0), 10)
			update(t, s, func(tx store.Tx) error {
				ev := newEvent("e00", 1)
				ev.Time = minute(0)
				require.NoError(t, tx.Tenant(tenantA).Audit().Append(bg, ev))
				n, err := tx.Tenant(tenantA).Audit().Prune(bg, minute(2), 100)
				require.NoError(t, err)
				require.Equal(t, 2, n, "Prune sees the event appended in its transaction")
				evs, _, err := tx.Tenant(tenantA).Audit().List(bg, store.AuditQuery{}, store.Page{})
				require.NoError(t, err)
				require.Len(t, evs, 9, "List inside the pruning transaction")
				return nil
			})
			require.Equal(t, []string{"e02", "e03", "e04", "e05", "e06", "e07", "e08", "e09", "e10"}, auditIDs(t, s, tenantA, store.AuditQuery{}, 0))
		}},
		{"Audit/PruneTouchesNothingElse", func(t *testing.T, b Backend) {
			s := open(t, b)
			fa := newFixture(tenantA, 1)
			fb := newFixture(tenantB, 2)
			fa.write(t, s)
			fb.write(t, s)
			before := dumpTenant(t, s, fa)
			n := prune(t, s, tenantA, at(99, 0), 1000)
			require.Equal(t, len(fa.Events), n)
			after := dumpTenant(t, s, fa)
			before.Events = nil
			requireSame(t, before, after, "Prune changed something other than audit events")
			requireSame(t, fb.expect(), dumpTenant(t, s, fb), "Prune in tenant A changed tenant B")
		}},
	}
}

// mustRead2 is mustRead for a function with two results.
func mustRead2[A, B any](t tb, s store.Store, fn func(tx store.Tx) (A, B, error)) (A, B) {
	t.Helper()
	var (
		a A
		b B
	)
	view(t, s, func(tx store.Tx) error {
		var err error
		a, b, err = fn(tx)
		require.NoError(t, err)
		return nil
	})
	return a, b
}
