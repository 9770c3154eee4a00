// Package memstore is the in-memory backend of licensekit's store: a real
// backend that passes the whole conformance suite (package storetest), made
// for tests and for trying the engine out. Start with New.
//
// It keeps nothing across Close or a restart; hosts that need their data
// back use badgerstore (one process) or pgstore (many replicas).
package memstore
