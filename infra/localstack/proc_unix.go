//go:build unix

package localstack

import "syscall"

// signalGroup signals the server's whole process group, so helpers it may
// have started go down with it.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
