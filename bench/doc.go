// Package bench measures licensekit side by side with what Go developers
// would otherwise use (golang-jwt, x/time/rate, a bare net/http handler)
// and with the physical limit (a raw Badger read). Run ./run.
package bench
