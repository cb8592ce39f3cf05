package localstack

import "syscall"

// sysProcAttr puts the server in its own process group (Ctrl-C in a terminal
// reaches only our process, which then stops the servers gracefully) and has
// the kernel kill it when we die, even by SIGKILL or a test-timeout panic.
//
// Pdeathsig fires when the forking OS thread exits, not the process. The Go
// runtime only retires threads that a goroutine left locked with
// runtime.LockOSThread, which this package never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
