package localstack

import (
	"net"
	"syscall"
	"testing"
)

// The readiness of a server on a picked port counts only if the server's
// own process group listens there, not whoever took the port first.
func TestGroupListensOn_tellsOwnListenerFromAnothers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	if listens, known := groupListensOn(syscall.Getpgrp(), port); !known || !listens {
		t.Errorf("our own listener on %d: listens %v, known %v; want true, true", port, listens, known)
	}
	// PID 1's group does not hold our socket.
	if listens, known := groupListensOn(1, port); !known || listens {
		t.Errorf("another group on %d: listens %v, known %v; want false, true", port, listens, known)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if listens, _ := groupListensOn(syscall.Getpgrp(), port); listens {
		t.Errorf("port %d closed, still reported as listened on", port)
	}
}
