//go:build unix && !linux

package localstack

import "syscall"

// sysProcAttr puts the server in its own process group. Only Linux can tie
// its life to ours (Pdeathsig); elsewhere Stop is the only way it ends.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// groupListensOn cannot tell outside Linux.
func groupListensOn(pgid, port int) (listens, known bool) { return false, false }
