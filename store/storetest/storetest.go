package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
)

// Backend describes how the suite opens the backend under test.
type Backend struct {
	// Open opens a store whose files (if any) live in dir. The suite calls
	// it with a fresh t.TempDir() per case, and again with the same dir
	// after Close to check durability when Durable is true.
	Open func(t *testing.T, dir string) store.Store
	// Durable backends keep everything across Close and Open of the same
	// dir.
	Durable bool
}

// Case is one conformance case. Name is "Group/Case" (for example
// "Users/GetByEmail"); Run runs as that subtest, opening its own stores
// through b.
type Case struct {
	Name string
	Run  func(t *testing.T, b Backend)
}

// Cases returns every case the suite runs for b, in order. The cases of the
// Durability group are included only when b.Durable is set.
func Cases(b Backend) []Case {
	var cs []Case
	cs = append(cs, tenantCases()...)
	cs = append(cs, kindCases(userKind)...)
	cs = append(cs, userCases()...)
	cs = append(cs, kindCases(groupKind)...)
	cs = append(cs, groupCases()...)
	cs = append(cs, kindCases(productKind)...)
	cs = append(cs, kindCases(planKind)...)
	cs = append(cs, planCases()...)
	cs = append(cs, kindCases(customerKind)...)
	cs = append(cs, kindCases(licenseKind)...)
	cs = append(cs, licenseCases()...)
	cs = append(cs, kindCases(tokenKind)...)
	cs = append(cs, tokenCases()...)
	cs = append(cs, kindCases(familyKind)...)
	cs = append(cs, familyCases()...)
	cs = append(cs, kindCases(sessionKind)...)
	cs = append(cs, sessionCases()...)
	cs = append(cs, auditCases()...)
	cs = append(cs, usageCases()...)
	cs = append(cs, quotaCases()...)
	cs = append(cs, timeCases()...)
	cs = append(cs, paginationCases()...)
	cs = append(cs, txCases()...)
	cs = append(cs, isolationCases()...)
	if b.Durable {
		cs = append(cs, durabilityCases()...)
	}
	return cs
}

// Run runs every case of Cases(b) as a subtest of t, grouped by the first
// element of the case names, and logs how many cases ran.
func Run(t *testing.T, b Backend) {
	t.Helper()
	require.NotNil(t, b.Open, "storetest: Backend.Open is nil")
	cases := Cases(b)

	var groups []string
	byGroup := map[string][]Case{}
	for _, c := range cases {
		g, _, _ := strings.Cut(c.Name, "/")
		if _, ok := byGroup[g]; !ok {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], c)
	}

	var ran atomic.Int64
	counts := make([]string, 0, len(groups))
	for _, g := range groups {
		counts = append(counts, fmt.Sprintf("%s=%d", g, len(byGroup[g])))
		t.Run(g, func(t *testing.T) {
			for _, c := range byGroup[g] {
				_, sub, _ := strings.Cut(c.Name, "/")
				t.Run(sub, func(t *testing.T) {
					ran.Add(1)
					c.Run(t, b)
				})
			}
		})
	}
	t.Logf("storetest: ran %d of %d cases (durable=%v; %s)",
		ran.Load(), len(cases), b.Durable, strings.Join(counts, " "))
}

// bg is the context of every call that does not test ctx handling.
var bg = context.Background()

// open opens a store in a fresh directory and closes it when the test ends.
func open(t *testing.T, b Backend) store.Store {
	t.Helper()
	return openDir(t, b, t.TempDir())
}

// openDir opens a store in dir and closes it when the test ends.
func openDir(t *testing.T, b Backend, dir string) store.Store {
	t.Helper()
	s := b.Open(t, dir)
	require.NotNil(t, s, "Backend.Open returned nil")
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// update runs fn in a committed transaction and requires success.
func update(t tb, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	require.NoError(t, s.Update(bg, fn))
}

// view runs fn in a read-only transaction and requires success.
func view(t tb, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	require.NoError(t, s.View(bg, fn))
}

// read runs fn in a View and returns what fn returned; the View itself
// must succeed.
func read[T any](t tb, s store.Store, fn func(tx store.Tx) (T, error)) (T, error) {
	t.Helper()
	var (
		out  T
		ferr error
	)
	require.NoError(t, s.View(bg, func(tx store.Tx) error {
		out, ferr = fn(tx)
		return nil
	}))
	return out, ferr
}

// mustRead is read that requires fn to succeed.
func mustRead[T any](t tb, s store.Store, fn func(tx store.Tx) (T, error)) T {
	t.Helper()
	out, err := read(t, s, fn)
	require.NoError(t, err)
	return out
}

// attempt runs op in an Update that commits whatever op did and returns
// op's error. The suite uses it to check that a failing method wrote
// nothing even when the transaction goes on and commits.
func attempt(t tb, s store.Store, op func(tx store.Tx) error) error {
	t.Helper()
	var opErr error
	require.NoError(t, s.Update(bg, func(tx store.Tx) error {
		opErr = op(tx)
		return nil
	}))
	return opErr
}

// lister is one page of some listing.
type lister[T any] func(tx store.Tx, p store.Page) ([]T, string, error)

// listAll pages through a listing with the given limit, in one View, and
// returns every item and the pages. The listing ends at an empty cursor or
// an empty page; it fails the test if it does not end.
func listAll[T any](t tb, s store.Store, limit int, list lister[T]) (all []T, pages [][]T) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		all, pages = listAllTx(t, tx, limit, list)
		return nil
	})
	return all, pages
}

// listAllTx is listAll inside an open transaction.
func listAllTx[T any](t tb, tx store.Tx, limit int, list lister[T]) (all []T, pages [][]T) {
	t.Helper()
	after := ""
	for i := 0; ; i++ {
		require.Less(t, i, 100000, "listing does not end")
		items, next, err := list(tx, store.Page{After: after, Limit: limit})
		require.NoError(t, err)
		if len(items) > 0 {
			pages = append(pages, items)
			all = append(all, items...)
		}
		if next == "" || len(items) == 0 {
			return all, pages
		}
		after = next
	}
}

// requireSame compares records, treating a nil and an empty map or slice
// as equal.
func requireSame(t tb, want, got any, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, normalize(want), normalize(got), msgAndArgs...)
}

// normalize returns a deep copy of v in which every empty map and slice is
// nil. Structs with unexported fields (time.Time, permission.Set) are
// copied as they are.
func normalize(v any) any {
	if v == nil {
		return nil
	}
	return normValue(reflect.ValueOf(v)).Interface()
}

func normValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Map:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out.SetMapIndex(iter.Key(), normValue(iter.Value()))
		}
		return out
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(normValue(v.Index(i)))
		}
		return out
	case reflect.Struct:
		ty := v.Type()
		for i := range ty.NumField() {
			if !ty.Field(i).IsExported() {
				return v
			}
		}
		out := reflect.New(ty).Elem()
		for i := range ty.NumField() {
			out.Field(i).Set(normValue(v.Field(i)))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(normValue(v.Elem()))
		return out
	}
	return v
}

// tb is what the helpers need of a test: *testing.T and *rapid.T both
// have it.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
}
