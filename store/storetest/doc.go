// Package storetest is the conformance suite of the store contract: the one
// set of tests that every backend (store/memstore, store/badgerstore,
// store/pgstore, and any a host writes) runs, so that backends cannot
// differ. The contract itself is the documentation of package store; this
// suite checks it, case by case.
//
// # Where to start
//
// A backend's test file needs one line:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Backend{
//			Open: func(t *testing.T, dir string) store.Store {
//				s, err := mybackend.Open(dir)
//				require.NoError(t, err)
//				return s
//			},
//			Durable: true,
//		})
//	}
//
// Run runs every Case of Cases as a subtest, grouped by the first element
// of the case name ("Users/GetByEmail" runs as Users → GetByEmail), and
// logs how many cases ran. Cases lists them, for a backend that wants to
// report or select them itself.
//
// Every case opens its own store in a fresh t.TempDir() and closes it when
// the case ends (Close is idempotent, so a case may close it earlier). The
// cases of the Durability group, which close a store and open the same
// directory again, are included only when Backend.Durable is set.
//
// # What is checked
//
//   - every method of store.Tx, Tenants, TenantTx and each collection:
//     round-trip of every field, not-found, overwrite, duplicates, invalid
//     IDs, records of another tenant, TenantID filled in, records are values;
//   - the unique attributes and their indexes: users' emails per tenant,
//     license key digests, user-token and refresh-family IDs across tenants;
//   - group memberships, plans by product, the audit log's filters and
//     Prune, usage records and quota states;
//   - times come back with microsecond precision, in UTC;
//   - pagination: default and maximum page sizes, byte order of IDs, cursors,
//     and that nothing is lost or repeated while records are added;
//   - transactions: rollback, read-only View, own writes, a consistent
//     snapshot, conflicts between concurrent Updates (exactly one winner, no
//     lost update, no retry inside Update), races for unique attributes,
//     ctx cancellation (of Update, View and every method), Close;
//   - tenant isolation, including a randomized model-based property test;
//   - durability across Close and Open (Durable backends).
//
// # Choices where the contract is silent
//
// The suite compares records after treating a nil and an empty map or slice
// as equal (the contract does not say which one a backend returns). It
// does not assume that the cursor after the last page is empty: a listing
// ends at an empty cursor or an empty page. A method that fails with a
// sentinel error (ErrNotFound, ErrAlreadyExists, …) must leave the
// transaction usable and must have written nothing: several cases go on
// and commit after such an error, as the engine does when it handles it.
// A View whose ctx is already done returns an error matching ctx.Err(),
// like Update.
//
// The property test (Isolation/Property) uses pgregory.net/rapid: flags
// such as -rapid.checks and -rapid.seed apply, and a failure writes rapid's
// fail file under testdata/rapid of the package that runs the suite unless
// -rapid.nofailfile is given.
package storetest
