package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// stopGrace is how long a server gets to exit after SIGTERM before it is
	// killed. DynamoDB Local flushes its SQLite file on shutdown.
	stopGrace = 5 * time.Second
	// tailSize is how much of a server's output is kept for error messages.
	tailSize = 8 << 10
	// probeEvery is the pause between readiness probes.
	probeEvery = 100 * time.Millisecond
)

// Server is one running local server. Stop it when done; if the parent dies
// first, the kernel kills it (Linux).
type Server struct {
	name     string
	port     int
	endpoint string
	cmd      *exec.Cmd
	out      *tail

	done     chan struct{} // closed once the process has exited and been reaped
	waitErr  error         // cmd.Wait's result, valid after done is closed
	stopping atomic.Bool

	stopOnce sync.Once
	stopErr  error
}

// Endpoint is the base URL to point an SDK client at, e.g. http://127.0.0.1:8000.
func (s *Server) Endpoint() string { return s.endpoint }

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// Stop ends the server: SIGTERM to its process group, SIGKILL if it has not
// exited after a few seconds, then waits for it, so no zombie or stray child
// is left. It is safe to call more than once; later calls return the first
// call's result. It reports an error only if the server had died on its own.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	pid := s.cmd.Process.Pid
	// Whatever happens, sweep the group at the end: the leader may be gone
	// while something it started is not. The pgid cannot have been reused
	// while any member is alive.
	defer func() { _ = signalGroup(pid, syscall.SIGKILL) }()

	select {
	case <-s.done:
		return fmt.Errorf("%s had already exited: %s", s.name, s.exitReport())
	default:
	}
	s.stopping.Store(true)
	_ = signalGroup(pid, syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(stopGrace):
	}
	_ = signalGroup(pid, syscall.SIGKILL)
	<-s.done
	return nil
}

// exitReport describes how the process ended, with the tail of its output.
func (s *Server) exitReport() string {
	status := "exit status 0"
	if s.waitErr != nil {
		status = s.waitErr.Error()
	}
	out := strings.TrimSpace(s.out.String())
	if out == "" {
		return status + " (no output)"
	}
	return status + "; last output:\n" + out
}

// spec says how to run one server and how to tell it is ready.
type spec struct {
	name     string
	path     string
	args     []string
	env      []string // added to ours
	dir      string
	port     int
	endpoint string
	log      io.Writer
	timeout  time.Duration
	// ready probes once; nil means the server answers.
	ready func(ctx context.Context) error
}

// start runs the server and waits until ready answers, the process dies,
// the timeout passes or ctx is done. ctx bounds only the start: the server
// then runs until Stop.
func start(ctx context.Context, sp spec) (*Server, error) {
	out := &tail{max: tailSize}
	var w io.Writer = out
	if sp.log != nil {
		w = io.MultiWriter(out, ignoreErrors{sp.log})
	}
	cmd := exec.Command(sp.path, sp.args...)
	cmd.Dir = sp.dir
	cmd.Env = append(os.Environ(), sp.env...)
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	// Don't let Wait hang on an output pipe some orphan still holds open.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", sp.path, err)
	}
	s := &Server{name: sp.name, port: sp.port, endpoint: sp.endpoint, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	wctx, cancel := context.WithTimeout(ctx, sp.timeout)
	defer cancel()
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	var lastErr error
	for {
		pctx, pcancel := context.WithTimeout(wctx, 2*time.Second)
		lastErr = sp.ready(pctx)
		pcancel()
		if lastErr == nil {
			listens, known := groupListensOn(cmd.Process.Pid, sp.port)
			if !known || listens {
				return s, nil
			}
			lastErr = fmt.Errorf("port %d answers, but %s does not listen on it", sp.port, sp.name)
		}
		if bindFailed(out.String()) {
			// Taken by another process: DynamoDB Local says so and stays up.
			_ = s.Stop()
			return nil, &exitError{report: s.exitReport()}
		}
		select {
		case <-s.done:
			_ = s.Stop() // reap the group
			return nil, &exitError{report: s.exitReport()}
		case <-wctx.Done():
			_ = s.Stop()
			why := fmt.Sprintf("not ready after %s", sp.timeout)
			if ctx.Err() != nil {
				why = ctx.Err().Error()
			}
			return nil, fmt.Errorf("%s (last probe: %v); last output:\n%s", why, lastErr, strings.TrimSpace(out.String()))
		case <-tick.C:
		}
	}
}

// exitError is a server that died before it was ready.
type exitError struct{ report string }

func (e *exitError) Error() string { return "exited before it was ready: " + e.report }

// portTaken tells whether the server died because its port was taken, which
// with a picked port means another process got there first: worth a retry.
func portTaken(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && bindFailed(ee.report)
}

// bindFailed tells whether a server's output says its port was taken.
func bindFailed(output string) bool {
	r := strings.ToLower(output)
	return strings.Contains(r, "address already in use") || strings.Contains(r, "eaddrinuse") || strings.Contains(r, "bindexception")
}

// startOnPort starts the server on port, or on a free port when port is 0.
// host is the address the server binds ("" = all interfaces), used to check
// the port is free: an explicit port already in use would otherwise make us
// probe, and trust, whatever else listens there.
func startOnPort(ctx context.Context, host string, port int, mk func(port int) spec) (*Server, error) {
	if port != 0 {
		if err := checkFree(host, port); err != nil {
			return nil, err
		}
		return start(ctx, mk(port))
	}
	const attempts = 3
	for i := 1; ; i++ {
		p, err := freePort(host)
		if err != nil {
			return nil, err
		}
		s, err := start(ctx, mk(p))
		if err == nil || i == attempts || !portTaken(err) {
			return s, err
		}
	}
}

func checkFree(host string, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d is not free: %w", port, err)
	}
	return ln.Close()
}

// freePort asks the kernel for a free port. Another process may take it
// before the server binds it; startOnPort retries then.
func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// ignoreErrors keeps a failing log writer from stopping the copy of the
// server's output: the server would then block on a full pipe.
type ignoreErrors struct{ w io.Writer }

func (i ignoreErrors) Write(p []byte) (int, error) {
	_, _ = i.w.Write(p)
	return len(p), nil
}
