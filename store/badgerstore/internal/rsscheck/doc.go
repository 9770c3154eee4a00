// Command rsscheck measures the memory a badgerstore with default options
// needs for many small records. Run it under /usr/bin/time -v and read
// "Maximum resident set size":
//
//	go build -o /tmp/rsscheck ./store/badgerstore/internal/rsscheck
//	/usr/bin/time -v /tmp/rsscheck -n 1000000
//
// It opens a store (in a temporary directory unless -dir is given), creates
// -n licenses in one tenant in batches of -batch per Update, performs
// -lookups random LicenseByKeyDigest lookups, closes the store and prints
// the counts, with the peaks of anonymous and file-backed resident memory
// (the memory-mapped table files) sampled from /proc on Linux. With -dir
// and -reuse it skips the inserts and looks up the licenses an earlier run
// left there: the steady state of a long-running host.
package main
