//go:build unix && !linux

package pgstore_test

import "syscall"

// procAttr runs a child as cred (nil: as this process).
func procAttr(cred *syscall.Credential, server bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}
