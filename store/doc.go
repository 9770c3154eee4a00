// Package store defines licensekit's storage contract: the record types,
// the transactional interfaces a backend implements, and the sentinel
// errors every backend returns. It holds no backend.
//
// Start with Store: a host opens a backend (memstore for tests, badgerstore
// as the embedded default, pgstore for many replicas) and hands it to the
// engine. Everything else is reached inside a transaction:
//
//	err := st.Update(ctx, func(tx store.Tx) error {
//		return tx.Tenant("acme").Customers().Create(ctx, store.Customer{ID: "c1", Name: "Initech"})
//	})
//
// Tenant isolation is structural: a tenant's records are reached only
// through tx.Tenant(id), which fixes the tenant for every call made through
// it. The only reads that cross tenants are the four lookups that resolve a
// presented credential (a license key digest, a user-token ID, a refresh
// family ID, a console-session ID) to the tenant that owns it.
//
// Revocation is never a delete. User tokens, refresh families and console
// sessions have no Delete method; they end by a status change, because keys deleted from an
// LSM store can reappear, and a credential that comes back is a breach.
//
// Every backend runs the one conformance suite, package storetest; a
// difference between backends is a bug in one of them.
package store
