// Package kv maps the typed store interfaces onto an ordered key-value
// store with transactions. The embedded backends (memstore, badgerstore)
// provide only a DB; this package owns the key layout, the encodings, the
// indexes and the tenant scoping, so that the backends cannot disagree.
package kv
