package localstack

import (
	"net"
	"net/http"
	"time"
)

// LoopbackClient is an HTTP client whose connections leave from ip, an
// address of the loopback network 127.0.0.0/8 (127.0.0.2, 127.0.0.3 ...):
// to the local stack (which listens on 127.0.0.1) each such address is a
// client of its own, as distinct source IPs are to API Gateway. On Linux
// the whole /8 is the loopback interface's, so any of its addresses can be
// a source without any set-up; the destination stays 127.0.0.1 (a
// connection to 127.0.0.2 would leave from 127.0.0.1 and not reach a
// server listening on 127.0.0.1). curl does the same with
// --interface 127.0.0.2.
func LoopbackClient(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 8,
			IdleConnTimeout:     30 * time.Second,
		},
		Timeout: 60 * time.Second,
		// The answer itself is what is measured: a redirect is not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
