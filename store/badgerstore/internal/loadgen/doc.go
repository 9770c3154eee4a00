// Package loadgen fills a store with synthetic licenses for the badgerstore
// benchmarks and the rsscheck program. The digests are derived from the
// license number, so callers can look licenses up without keeping them.
package loadgen
