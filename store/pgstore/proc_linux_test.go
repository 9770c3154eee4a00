//go:build linux

package pgstore_test

import "syscall"

// procAttr runs a child as cred (nil: as this process). The server gets
// SIGQUIT (immediate shutdown) if the test binary dies without stopping
// it, so that a killed test run leaves no server behind.
func procAttr(cred *syscall.Credential, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Credential: cred}
	if server {
		a.Pdeathsig = syscall.SIGQUIT
	}
	return a
}
