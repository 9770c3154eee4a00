package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
)

// errSentinel is returned by closures that must roll back.
var errSentinel = errors.New("storetest: sentinel")

// customer "ctr" holds a counter in its Name.
func getCounter(tx store.Tx) (store.Customer, int, error) {
	c, err := tx.Tenant(tenantA).Customers().Get(bg, "ctr")
	if err != nil {
		return c, 0, err
	}
	n, err := strconv.Atoi(c.Name)
	return c, n, err
}

// updateRetry runs fn in Update until it does not fail with ErrConflict.
func updateRetry(s store.Store, fn func(tx store.Tx) error) error {
	for range 100000 {
		err := s.Update(bg, fn)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("still conflicting after 100000 attempts")
}

func txCases() []Case {
	return []Case{
		{"Transactions/RollbackOnError", func(t *testing.T, b Backend) {
			s := open(t, b)
			f := newFixture(tenantA, 1)
			f.write(t, s)
			ops := writeOps(f)
			err := s.Update(bg, func(tx store.Tx) error {
				for _, o := range ops {
					require.NoError(t, o.fn(bg, tx), o.name)
				}
				return errSentinel
			})
			require.ErrorIs(t, err, errSentinel)
			require.Equal(t, errSentinel, err, "Update returns fn's error unchanged")
			requireSame(t, f.expect(), dumpTenant(t, s, f), "a failed Update kept some of its writes")
			require.Equal(t, []string{tenantA}, tenantIDs(t, s))
			_, err = read(t, s, tokenByID(tenantA+"-token9"))
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = read(t, s, byDigest(digest("writeOps", tenantA)))
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"Transactions/RollbackOfEachWrite", func(t *testing.T, b Backend) {
			s := open(t, b)
			f := newFixture(tenantA, 1)
			f.write(t, s)
			for _, o := range writeOps(f) {
				t.Run(o.name, func(t *testing.T) {
					wrapped := fmt.Errorf("wrapped: %w", errSentinel)
					err := s.Update(bg, func(tx store.Tx) error {
						require.NoError(t, o.fn(bg, tx))
						return wrapped
					})
					require.Equal(t, wrapped, err, "Update returns fn's error unchanged")
					requireSame(t, f.expect(), dumpTenant(t, s, f))
				})
			}
		}},
		{"Transactions/ViewReturnsFnError", func(t *testing.T, b Backend) {
			s := open(t, b)
			err := s.View(bg, func(tx store.Tx) error { return errSentinel })
			require.ErrorIs(t, err, errSentinel)
			require.NoError(t, s.View(bg, func(tx store.Tx) error { return nil }))
			require.NoError(t, s.Update(bg, func(tx store.Tx) error { return nil }))
		}},
		{"Transactions/ReadOnlyView", func(t *testing.T, b Backend) {
			s := open(t, b)
			f := newFixture(tenantA, 1)
			f.write(t, s)
			for _, o := range writeOps(f) {
				t.Run(o.name, func(t *testing.T) {
					var opErr error
					require.NoError(t, s.View(bg, func(tx store.Tx) error {
						opErr = o.fn(bg, tx)
						return nil
					}))
					require.ErrorIs(t, opErr, store.ErrReadOnly)
					// View returns what fn returns.
					err := s.View(bg, func(tx store.Tx) error { return o.fn(bg, tx) })
					require.ErrorIs(t, err, store.ErrReadOnly)
				})
			}
			requireSame(t, f.expect(), dumpTenant(t, s, f), "a write inside View changed the store")
			require.Equal(t, []string{tenantA}, tenantIDs(t, s))
		}},
		{"Transactions/SeesOwnWrites", func(t *testing.T, b Backend) {
			s := open(t, b)
			fa := newFixture(tenantA, 1)
			fa.write(t, s)
			fb := newFixture(tenantB, 2)
			update(t, s, func(tx store.Tx) error {
				// Everything created in this transaction, through every read method.
				require.NoError(t, fb.writeTx(tx))
				requireSame(t, fb.expect(), dumpTx(t, tx, fb), "reads inside the transaction that wrote")
				// Updates and deletes of committed records.
				cs := tx.Tenant(tenantA).Customers()
				c1 := fa.Customers[0]
				c1.Name = "renamed"
				require.NoError(t, cs.Update(bg, c1))
				require.NoError(t, cs.Delete(bg, "c2"))
				got, err := cs.Get(bg, "c1")
				require.NoError(t, err)
				require.Equal(t, "renamed", got.Name)
				_, err = cs.Get(bg, "c2")
				require.ErrorIs(t, err, store.ErrNotFound)
				list, _, err := cs.List(bg, store.Page{})
				require.NoError(t, err)
				require.Len(t, list, 1)
				require.Equal(t, "renamed", list[0].Name)
				require.NoError(t, tx.Tenant(tenantA).Users().Delete(bg, "u1"))
				_, err = tx.Tenant(tenantA).Users().GetByEmail(bg, fa.Users[0].Email)
				require.ErrorIs(t, err, store.ErrNotFound)
				tns, _, err := tx.Tenants().List(bg, store.Page{})
				require.NoError(t, err)
				require.Len(t, tns, 2)
				return nil
			})
			requireSame(t, fb.expect(), dumpTenant(t, s, fb))
			require.Equal(t, "renamed", mustRead(t, s, customerKind.get(tenantA, "c1")).Name)
			customerKind.requireMissing(t, s, tenantA, "c2")
		}},
		{"Transactions/ViewIsASnapshot", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, customerKind.create(tenantA, newCustomer("c1", 1)))
			update(t, s, customerKind.create(tenantA, newCustomer("c2", 1)))
			want := []store.Customer{customerKind.want(tenantA, "c1", 1), customerKind.want(tenantA, "c2", 1)}
			done := make(chan error, 1)
			check := func(tx store.Tx) {
				got, _, err := tx.Tenant(tenantA).Customers().List(bg, store.Page{})
				require.NoError(t, err)
				requireSame(t, want, got, "a View saw a change committed after it started")
				c, err := tx.Tenant(tenantA).Customers().Get(bg, "c1")
				require.NoError(t, err)
				requireSame(t, want[0], c)
				_, err = tx.Tenant(tenantA).Customers().Get(bg, "c3")
				require.ErrorIs(t, err, store.ErrNotFound)
			}
			view(t, s, func(tx store.Tx) error {
				check(tx)
				go func() {
					done <- updateRetry(s, func(tx store.Tx) error {
						cs := tx.Tenant(tenantA).Customers()
						if err := cs.Update(bg, newCustomer("c1", 3)); err != nil {
							return err
						}
						if err := cs.Delete(bg, "c2"); err != nil {
							return err
						}
						return cs.Create(bg, newCustomer("c3", 1))
					})
				}()
				// A backend may make the writer wait for this View, or let
				// it commit now; either way this View must not see it. No
				// timer: the loop is bounded, and ends early once the
				// writer committed.
			loop:
				for range 1000 {
					select {
					case err := <-done:
						require.NoError(t, err)
						done <- nil
						break loop
					default:
						runtime.Gosched()
						check(tx)
					}
				}
				check(tx)
				return nil
			})
			require.NoError(t, <-done)
			requireSame(t, []store.Customer{customerKind.want(tenantA, "c1", 3), customerKind.want(tenantA, "c3", 1)},
				customerKind.all(t, s, tenantA))
		}},
		{"Transactions/ConflictingUpdates", func(t *testing.T, b Backend) {
			s := open(t, b)
			c := newCustomer("ctr", 1)
			c.Name = "0"
			update(t, s, customerKind.create(tenantA, c))
			errStale := errors.New("stale")
			const n = 32
			errs := make([]error, n)
			calls := make([]int, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					errs[i] = s.Update(bg, func(tx store.Tx) error {
						calls[i]++
						c, v, err := getCounter(tx)
						if err != nil {
							return err
						}
						if v != 0 {
							return errStale
						}
						c.Name = "1"
						return tx.Tenant(tenantA).Customers().Update(bg, c)
					})
				})
			}
			close(start)
			wg.Wait()
			wins := 0
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
				case errors.Is(err, errStale), errors.Is(err, store.ErrConflict):
				default:
					t.Errorf("goroutine %d: %v; want nil, the closure's error or ErrConflict", i, err)
				}
			}
			require.Equal(t, 1, wins, "exactly one Update may commit on the basis of the value all read")
			for i, c := range calls {
				require.LessOrEqual(t, c, 1, "goroutine %d: Update ran fn %d times; Update never retries", i, c)
			}
			_, v, err := read3(t, s, getCounter)
			require.NoError(t, err)
			require.Equal(t, 1, v)
		}},
		{"Transactions/NoLostUpdate", func(t *testing.T, b Backend) {
			s := open(t, b)
			c := newCustomer("ctr", 1)
			c.Name = "0"
			update(t, s, customerKind.create(tenantA, c))
			const workers, each = 16, 20
			errs := make(chan error, workers*each)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					<-start
					for range each {
						errs <- updateRetry(s, func(tx store.Tx) error {
							c, v, err := getCounter(tx)
							if err != nil {
								return err
							}
							c.Name = strconv.Itoa(v + 1)
							return tx.Tenant(tenantA).Customers().Update(bg, c)
						})
					}
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			_, v, err := read3(t, s, getCounter)
			require.NoError(t, err)
			require.Equal(t, workers*each, v, "lost updates")
		}},
		{"Transactions/ConcurrentUniqueAttributes", func(t *testing.T, b Backend) {
			s := open(t, b)
			const n = 16
			type race struct {
				name   string
				create func(tx store.Tx, i int) error
				check  func(t *testing.T, winner int)
			}
			races := []race{
				{"email", func(tx store.Tx, i int) error {
					return tx.Tenant(tenantA).Users().Create(bg, userWithEmail(fmt.Sprintf("u%02d", i), "same@example.com", 1))
				}, func(t *testing.T, w int) {
					requireEmail(t, s, tenantA, "same@example.com", fmt.Sprintf("u%02d", w))
					require.Equal(t, []string{fmt.Sprintf("u%02d", w)}, userKind.ids(t, s, tenantA))
				}},
				{"digest", func(tx store.Tx, i int) error {
					return tx.Tenant(fmt.Sprintf("t%02d", i)).Licenses().Create(bg, licenseWithDigest("l1", digest("same"), 1))
				}, func(t *testing.T, w int) {
					requireDigest(t, s, digest("same"), fmt.Sprintf("t%02d", w), "l1")
				}},
				{"token", func(tx store.Tx, i int) error {
					return tx.Tenant(fmt.Sprintf("t%02d", i)).UserTokens().Create(bg, newToken(tokenID1, 1))
				}, func(t *testing.T, w int) {
					tk := mustRead(t, s, tokenByID(tokenID1))
					require.Equal(t, fmt.Sprintf("t%02d", w), tk.TenantID)
				}},
				{"family", func(tx store.Tx, i int) error {
					return tx.Tenant(fmt.Sprintf("t%02d", i)).RefreshFamilies().Create(bg, newFamily("fam", 1))
				}, func(t *testing.T, w int) {
					fam := mustRead(t, s, familyByID("fam"))
					require.Equal(t, fmt.Sprintf("t%02d", w), fam.TenantID)
				}},
			}
			for _, r := range races {
				t.Run(r.name, func(t *testing.T) {
					errs := make([]error, n)
					start := make(chan struct{})
					var wg sync.WaitGroup
					for i := range n {
						wg.Go(func() {
							<-start
							errs[i] = s.Update(bg, func(tx store.Tx) error { return r.create(tx, i) })
						})
					}
					close(start)
					wg.Wait()
					winner := -1
					for i, err := range errs {
						switch {
						case err == nil:
							require.Equal(t, -1, winner, "two creates of one unique attribute committed: %d and %d", winner, i)
							winner = i
						case errors.Is(err, store.ErrAlreadyExists), errors.Is(err, store.ErrConflict):
						default:
							t.Errorf("goroutine %d: %v", i, err)
						}
					}
					require.NotEqual(t, -1, winner, "no create committed")
					r.check(t, winner)
				})
			}
		}},
		{"Transactions/ConcurrentUse", func(t *testing.T, b Backend) {
			s := open(t, b)
			const writers, each, readers = 8, 25, 4
			start := make(chan struct{})
			stop := make(chan struct{})
			errs := make(chan error, writers*each+readers)
			var wg, rwg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					<-start
					for i := range each {
						errs <- updateRetry(s, customerKind.create(tenantA, newCustomer(fmt.Sprintf("c%02d-%03d", w, i), 1)))
					}
				})
			}
			for range readers {
				rwg.Go(func() {
					<-start
					prev := 0
					for {
						select {
						case <-stop:
							errs <- nil
							return
						default:
						}
						var n int
						err := s.View(bg, func(tx store.Tx) error {
							all, _, err := tx.Tenant(tenantA).Customers().List(bg, store.Page{Limit: store.MaxPageLimit})
							n = len(all)
							return err
						})
						if err != nil {
							errs <- err
							return
						}
						if n < prev {
							errs <- fmt.Errorf("a later View saw fewer customers: %d after %d", n, prev)
							return
						}
						prev = n
					}
				})
			}
			close(start)
			wg.Wait()
			close(stop)
			rwg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			require.Len(t, customerKind.ids(t, s, tenantA), writers*each)
		}},
		{"Transactions/CancelledBefore", func(t *testing.T, b Backend) {
			s := open(t, b)
			ctx, cancel := context.WithCancel(bg)
			cancel()
			err := s.Update(ctx, customerKind.create(tenantA, newCustomer("c1", 1)))
			require.ErrorIs(t, err, context.Canceled, "Update")
			err = s.Update(ctx, func(tx store.Tx) error { return nil })
			require.ErrorIs(t, err, context.Canceled, "Update of an empty closure")
			err = s.View(ctx, func(tx store.Tx) error {
				_, err := tx.Tenant(tenantA).Customers().Get(ctx, "c1")
				return err
			})
			require.ErrorIs(t, err, context.Canceled, "View")
			err = s.View(ctx, func(tx store.Tx) error { return nil })
			require.ErrorIs(t, err, context.Canceled, "View of an empty closure")
			customerKind.requireMissing(t, s, tenantA, "c1")
		}},
		{"Transactions/CancelledInside", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, customerKind.create(tenantA, newCustomer("c0", 1)))
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			err := s.Update(ctx, func(tx store.Tx) error {
				cs := tx.Tenant(tenantA).Customers()
				if err := cs.Create(ctx, newCustomer("c1", 1)); err != nil {
					return err
				}
				if err := cs.Update(ctx, newCustomer("c0", 3)); err != nil {
					return err
				}
				cancel()
				return nil
			})
			require.ErrorIs(t, err, context.Canceled)
			customerKind.requireMissing(t, s, tenantA, "c1")
			requireSame(t, customerKind.want(tenantA, "c0", 1), mustRead(t, s, customerKind.get(tenantA, "c0")))
		}},
		{"Transactions/DeadlineExceeded", func(t *testing.T, b Backend) {
			s := open(t, b)
			ctx, cancel := context.WithDeadline(bg, time.Unix(0, 0))
			defer cancel()
			err := s.Update(ctx, customerKind.create(tenantA, newCustomer("c1", 1)))
			require.ErrorIs(t, err, context.DeadlineExceeded)
			customerKind.requireMissing(t, s, tenantA, "c1")
		}},
		{"Transactions/MethodsCheckCtx", func(t *testing.T, b Backend) {
			s := open(t, b)
			f := newFixture(tenantA, 1)
			f.write(t, s)
			cctx, cancel := context.WithCancel(bg)
			cancel()
			ops := append(readOps(f), writeOps(f)...)
			for _, o := range ops {
				t.Run(o.name, func(t *testing.T) {
					// Sanity: the call succeeds with a live ctx.
					err := s.Update(bg, func(tx store.Tx) error {
						require.NoError(t, o.fn(bg, tx))
						return errSentinel
					})
					require.ErrorIs(t, err, errSentinel)
					// With a cancelled ctx it fails, and writes nothing even
					// though the transaction commits.
					var opErr error
					update(t, s, func(tx store.Tx) error {
						opErr = o.fn(cctx, tx)
						return nil
					})
					require.ErrorIs(t, opErr, context.Canceled)
				})
			}
			requireSame(t, f.expect(), dumpTenant(t, s, f), "a call with a cancelled ctx wrote")
			require.Equal(t, []string{tenantA}, tenantIDs(t, s))
		}},
		{"Transactions/Closed", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, customerKind.create(tenantA, newCustomer("c1", 1)))
			require.NoError(t, s.Close())
			called := false
			err := s.View(bg, func(tx store.Tx) error { called = true; return nil })
			require.ErrorIs(t, err, store.ErrClosed, "View after Close")
			err = s.Update(bg, func(tx store.Tx) error { called = true; return nil })
			require.ErrorIs(t, err, store.ErrClosed, "Update after Close")
			require.False(t, called, "fn ran after Close")
			require.NoError(t, s.Close(), "Close twice")
		}},
	}
}

// read3 is read for a function with three results.
func read3[A, B any](t tb, s store.Store, fn func(tx store.Tx) (A, B, error)) (A, B, error) {
	t.Helper()
	var (
		a    A
		b    B
		ferr error
	)
	require.NoError(t, s.View(bg, func(tx store.Tx) error {
		a, b, ferr = fn(tx)
		return nil
	}))
	return a, b, ferr
}
