//go:build drill

package drill

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// The drill's shape, from issue 13.
const (
	totalPosts   = 10000
	clients      = 50
	hostileShare = 0.10
	rounds       = 20 // of simulated time: the stack's clock moves an hour after each
	roundStep    = time.Hour
	unsubscribes = 100
	junkClients  = 20
)

// The stack's clock starts on a Tuesday morning in Berlin, so the drill
// behaves the same whatever the hour it runs.
var tuesdayMorning = time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))

// hostile are the kinds of hostile client, one client each, each sending
// its share of the hostile posts in a burst over two rounds (a script does
// not pace itself like people do).
var hostile = []string{"flood", "pump", "bad-email", "injection", "oversized", "honeypot"}

type stack struct {
	api, dynamo string
	dataDir     string
	cmd         *exec.Cmd
	stderr      *tailBuffer
}

func TestDrill(t *testing.T) {
	s := startStack(t)
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	posts := planPosts(prog)
	res := runPosts(t, s, posts)
	lost := lostLeads(t, s, posts, res)

	legit := res.client("legit")
	t.Logf("form posts: %d from %d clients (%d legitimate, %d hostile), %d rounds of an hour of the stack's clock",
		len(posts), clients, clients-len(hostile), len(hostile), rounds)
	t.Logf("  5xx: %d (target 0); unanswered within 3 minutes: %d", res.status5xx.Load(), res.noAnswer.Load())
	t.Logf("  valid leads lost: %d of %d (target 0); legitimate posts answered 429: %d", lost, legit.count, legit.limited)
	limitedClients := 0
	for _, kind := range hostile {
		c := res.client(kind)
		if c.limited > 0 {
			limitedClients++
		}
		t.Logf("  hostile %-9s %4d posts: %4d answered 429, the rest %v", kind, c.count, c.limited, c.statuses())
	}
	t.Logf("  hostile clients limited: %d of %d (target: all)", limitedClients, len(hostile))
	t.Logf("  legitimate latency: p50 %v, p99 %v, max %v", pct(legit.lat, 0.50), pct(legit.lat, 0.99), pct(legit.lat, 1))

	if n := res.status5xx.Load(); n != 0 {
		t.Errorf("%d form posts answered 5xx, want none", n)
	}
	if lost != 0 || legit.limited != 0 {
		t.Errorf("%d valid leads lost, %d legitimate posts limited; want none", lost, legit.limited)
	}
	if limitedClients != len(hostile) {
		t.Errorf("%d of %d hostile clients limited, want all", limitedClients, len(hostile))
	}

	unsubscribeDrill(t, s, posts)
}

// --- the form posts -----------------------------------------------------------

type post struct {
	client int // 0 .. clients-1; the hostile ones last
	kind   string
	round  int
	email  string // a legitimate post's address
	body   string
	legit  bool
}

func clientIP(c int) string { return fmt.Sprintf("127.0.1.%d", c+1) }

// planPosts lays out the 10,000 posts: the legitimate clients spread theirs
// evenly over the rounds (about ten an hour each, an office's worth), each
// hostile client bursts its share in two rounds.
func planPosts(prog *program.Program) []post {
	form := prog.Forms[0]
	nHostile := int(totalPosts * hostileShare)
	nLegit := totalPosts - nHostile
	legitClients := clients - len(hostile)
	var out []post
	for i := range nLegit {
		c := i % legitClients
		email := fmt.Sprintf("reader%05d@drill.example", i)
		out = append(out, post{client: c, kind: "legit", round: i * rounds / nLegit, email: email, legit: true,
			body: formBody(prog, form, email, "Ada Lovelace", fmt.Sprintf("legit-%d", i))})
	}
	per := nHostile / len(hostile)
	for k, kind := range hostile {
		c := legitClients + k
		n := per
		if k == len(hostile)-1 {
			n = nHostile - per*(len(hostile)-1)
		}
		first := (3*k + 1) % (rounds - 1)
		for i := range n {
			out = append(out, post{client: c, kind: kind, round: first + i*2/n, body: hostileBody(prog, form, kind, i)})
		}
	}
	return out
}

// formBody is a person's post: every field, consent, and the form script's
// times (eight seconds to fill in).
func formBody(prog *program.Program, form program.Form, email, name, nonce string) string {
	v := url.Values{"email": {email}, "consent": {"yes"}, "submission": {nonce}}
	for _, f := range form.Fields {
		if f != "email" {
			v.Set(f, name)
		}
	}
	for _, q := range prog.Questions {
		if q.Field != "" && v.Has(q.Field) {
			v.Set(q.Field, q.Options[0].Value)
		}
	}
	shown := tuesdayMorning.UnixMilli()
	v.Set("_t", strconv.FormatInt(shown, 10))
	v.Set("_s", strconv.FormatInt(shown+8000, 10))
	return v.Encode()
}

func hostileBody(prog *program.Program, form program.Form, kind string, i int) string {
	nonce := fmt.Sprintf("%s-%d", kind, i)
	switch kind {
	case "flood": // made-up addresses, as fast as it can
		return formBody(prog, form, fmt.Sprintf("made-up-%05d@spamtrap.example", i), "Flood", nonce)
	case "pump": // one address, again and again
		return formBody(prog, form, "pumped@victim.example", "Pump", nonce)
	case "bad-email":
		bad := []string{"not-an-address", "a@@b.example", "x@example.com?cc=evil@example.com", "ev\u202eil@example.com", "a b@example.com", strings.Repeat("a", 300) + "@example.com"}
		return formBody(prog, form, bad[i%len(bad)], "Bad", nonce)
	case "injection":
		names := []string{"https://evil.example/reset?acct=1", "<script>alert(1)</script>", "' OR 1=1--", "*bold* <!channel>", "\u202egnp.exe"}
		return formBody(prog, form, fmt.Sprintf("inject%04d@drill.example", i), names[i%len(names)], nonce)
	case "oversized":
		return formBody(prog, form, fmt.Sprintf("big%04d@drill.example", i), strings.Repeat("x", 20<<10), nonce)
	case "honeypot":
		return formBody(prog, form, fmt.Sprintf("bot%04d@drill.example", i), "Bot", nonce) + "&website=https%3A%2F%2Fspam.example"
	}
	panic(kind)
}

type results struct {
	mu        sync.Mutex
	perClient map[string]*tally // by kind, or legit
	status5xx atomic.Int64
	noAnswer  atomic.Int64 // no answer within the client's timeout
}

type tally struct {
	count, limited int
	status         map[int]int
	lat            []time.Duration
}

func (c *tally) statuses() string {
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(c.status)) {
		if code != http.StatusTooManyRequests {
			parts = append(parts, fmt.Sprintf("%d×%d", c.status[code], code))
		}
	}
	return strings.Join(parts, " ")
}

func (r *results) client(kind string) *tally {
	if r.perClient[kind] == nil {
		r.perClient[kind] = &tally{status: map[int]int{}}
	}
	return r.perClient[kind]
}

func (r *results) record(p post, status int, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.client(p.kind)
	c.count++
	c.status[status]++
	if status == http.StatusTooManyRequests {
		c.limited++
	}
	if p.legit {
		c.lat = append(c.lat, took)
	}
	if status >= 500 {
		r.status5xx.Add(1)
	}
}

// runPosts sends the posts round by round, each client on its own loopback
// address and its own goroutine (50 at a time), and moves the stack's
// clock an hour after each round.
func runPosts(t *testing.T, s *stack, posts []post) *results {
	res := &results{perClient: map[string]*tally{}}
	httpClients := make([]*http.Client, clients)
	for c := range httpClients {
		httpClients[c] = localstack.LoopbackClient(clientIP(c))
		// On a busy 2-core machine DynamoDB Local can take long: a post
		// unanswered this long is reported, not retried.
		httpClients[c].Timeout = 3 * time.Minute
	}
	start := time.Now()
	for round := range rounds {
		byClient := make([][]int, clients)
		for i, p := range posts {
			if p.round == round {
				byClient[p.client] = append(byClient[p.client], i)
			}
		}
		var wg sync.WaitGroup
		for c, idx := range byClient {
			wg.Go(func() {
				for _, i := range idx {
					p := posts[i]
					req, _ := http.NewRequest(http.MethodPost, s.api+"/forms/"+formID, strings.NewReader(p.body))
					req.Header.Set("content-type", "application/x-www-form-urlencoded")
					req.Header.Set("accept", "application/json")
					began := time.Now()
					resp, err := httpClients[c].Do(req)
					if err != nil {
						res.noAnswer.Add(1)
						t.Logf("post %d (%s): %v", i, p.kind, err)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					res.record(p, resp.StatusCode, time.Since(began))
					if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("retry-after") == "" {
						t.Errorf("post %d (%s): 429 without Retry-After", i, p.kind)
					}
				}
			})
		}
		wg.Wait()
		advance(t, s, roundStep)
		t.Logf("round %d of %d done after %v", round+1, rounds, time.Since(start).Round(time.Second))
	}
	t.Logf("posted %d forms in %v", len(posts), time.Since(start).Round(time.Second))
	return res
}

var formID string

// lostLeads counts the legitimate posts whose lead is not in the table.
func lostLeads(t *testing.T, s *stack, posts []post, res *results) int {
	db, err := localstack.DynamoClient(context.Background(), s.dynamo)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(db, "nurture-local", store.Options{})
	ids := stackKeys(t, s).LeadIDs
	var lost atomic.Int64
	var wg sync.WaitGroup
	work := make(chan post)
	for range 16 {
		wg.Go(func() {
			for p := range work {
				if _, found, err := st.GetLead(context.Background(), ids.ID(p.email)); err != nil || !found {
					lost.Add(1)
				}
			}
		})
	}
	for _, p := range posts {
		if p.legit {
			work <- p
		}
	}
	close(work)
	wg.Wait()
	return int(lost.Load())
}

// --- junk links and real unsubscribes ------------------------------------------

// unsubscribeDrill floods /u/ with junk tokens (GET and one-click POSTs)
// from 20 clients, while 100 real one-click unsubscribes (tokens signed
// with the stack's own key, as its emails carry them) are posted from the
// readers' own addresses and from the junk clients' too: every real one
// must succeed, and its lead must stop being mailed.
func unsubscribeDrill(t *testing.T, s *stack, posts []post) {
	keys := stackKeys(t, s)
	signer := keys.Signer
	var readers []string
	for _, p := range posts {
		if p.legit && len(readers) < unsubscribes {
			readers = append(readers, keys.LeadIDs.ID(p.email))
		}
	}
	var junkSent, junk404, junk5xx atomic.Int64
	stop := make(chan struct{})
	floodStart := time.Now()
	var flood sync.WaitGroup
	for j := range junkClients {
		client := localstack.LoopbackClient(fmt.Sprintf("127.0.2.%d", j+1))
		flood.Go(func() {
			junk := []string{"x", strings.Repeat("A", 120), "AQVr" + strconv.Itoa(j), "%00%ff", signer.Sign(token.Claims{Purpose: token.PurposeAnswer, LeadID: "x", Expires: tuesdayMorning.Add(time.Hour)})}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				method := http.MethodPost
				if i%4 == 3 {
					method = http.MethodGet
				}
				req, _ := http.NewRequest(method, s.api+"/u/"+junk[i%len(junk)], strings.NewReader("List-Unsubscribe=One-Click"))
				req.Header.Set("content-type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				junkSent.Add(1)
				switch {
				case resp.StatusCode >= 500:
					junk5xx.Add(1)
				case resp.StatusCode == http.StatusNotFound:
					junk404.Add(1)
				}
			}
		})
	}
	time.Sleep(2 * time.Second) // the flood is on before the first real one
	now := tuesdayMorning.Add(rounds * roundStep)
	var ok, failed atomic.Int64
	var latMu sync.Mutex
	var lat []time.Duration
	var real sync.WaitGroup
	for i, id := range readers {
		// Half from readers' own addresses, half from the junk clients'
		// (one NAT, a reader and a script behind it).
		ip := fmt.Sprintf("127.0.3.%d", i+1)
		if i%2 == 1 {
			ip = fmt.Sprintf("127.0.2.%d", i%junkClients+1)
		}
		tok := signer.Sign(token.Claims{Purpose: token.PurposeUnsubscribe, LeadID: id, Track: "cloud-cost", Step: 1, Expires: now.Add(60 * 24 * time.Hour)})
		real.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, s.api+"/u/"+tok, strings.NewReader("List-Unsubscribe=One-Click"))
			req.Header.Set("content-type", "application/x-www-form-urlencoded")
			began := time.Now()
			resp, err := localstack.LoopbackClient(ip).Do(req)
			latMu.Lock()
			lat = append(lat, time.Since(began))
			latMu.Unlock()
			if err != nil {
				failed.Add(1)
				t.Errorf("unsubscribe %d: %v", i, err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "You are unsubscribed") {
				failed.Add(1)
				t.Errorf("unsubscribe %d answered %d", i, resp.StatusCode)
				return
			}
			ok.Add(1)
		})
		time.Sleep(20 * time.Millisecond)
	}
	real.Wait()
	time.Sleep(time.Second) // the flood goes on after the last real one
	close(stop)
	flood.Wait()
	floodTook := time.Since(floodStart)

	db, err := localstack.DynamoClient(context.Background(), s.dynamo)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(db, "nurture-local", store.Options{})
	stillMailed := 0
	for _, id := range readers {
		if l, found, err := st.GetLead(context.Background(), id); err != nil || !found || l.Mailable() {
			stillMailed++
		}
	}
	t.Logf("junk flood on /u/: %d junk requests in %v from %d clients (%d answered the invalid-link page, %d 5xx) during %d real one-click unsubscribes",
		junkSent.Load(), floodTook.Round(100*time.Millisecond), junkClients, junk404.Load(), junk5xx.Load(), len(readers))
	t.Logf("  real unsubscribes: %d succeeded, %d failed, %d leads still mailable (target: %d, 0, 0); latency p50 %v, p99 %v",
		ok.Load(), failed.Load(), stillMailed, len(readers), pct(lat, 0.5), pct(lat, 0.99))
	if ok.Load() != int64(len(readers)) || stillMailed != 0 || junk5xx.Load() != 0 || junk404.Load() != junkSent.Load() {
		t.Errorf("unsubscribes: %d of %d succeeded, %d still mailable; junk: %d 5xx, %d of %d answered 404",
			ok.Load(), len(readers), stillMailed, junk5xx.Load(), junk404.Load(), junkSent.Load())
	}
}

// stackKeys reads the signing key and the lead id key the stack keeps in
// its data folder.
func stackKeys(t *testing.T, s *stack) app.Keys {
	b, err := os.ReadFile(filepath.Join(s.dataDir, "token-key"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := app.LoadKeys(config.Config{TokenKeys: strings.TrimSpace(string(b))})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// --- the stack ----------------------------------------------------------------

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startStack builds `make run`'s binary and starts it on free ports with
// its own data folder, DynamoDB Local in memory (the file is several times
// slower, and the drill's data is thrown away) and the scheduler's own
// ticks off.
func startStack(t *testing.T) *stack {
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	formID = prog.Forms[0].ID
	dir := t.TempDir()
	bin := filepath.Join(dir, "local")
	if out, err := exec.Command("go", "build", "-o", bin, "../local").CombinedOutput(); err != nil {
		t.Fatalf("build the local stack: %v\n%s", err, out)
	}
	api, dyn, ses := freePort(t), freePort(t), freePort(t)
	s := &stack{api: "http://127.0.0.1:" + strconv.Itoa(api), dynamo: "http://127.0.0.1:" + strconv.Itoa(dyn),
		dataDir: filepath.Join(dir, "data"), stderr: &tailBuffer{}}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(api), "DYNAMODB_PORT="+strconv.Itoa(dyn), "SES_PORT="+strconv.Itoa(ses),
		"LOCAL_DATA_DIR="+s.dataDir, "LOCAL_DYNAMODB=memory", "TICK_INTERVAL=0", "LOCAL_CLOCK="+tuesdayMorning.Format(time.RFC3339))
	s.cmd.Stderr = s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.OnceFunc(func() { close(ready) })
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Demo page") {
				once()
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	})
	select {
	case <-ready:
	case <-time.After(120 * time.Second):
		t.Fatalf("the local stack did not start in 2 minutes\n%s", s.stderr)
	}
	return s
}

// advance moves the stack's clock.
func advance(t *testing.T, s *stack, d time.Duration) {
	resp, err := http.Post(s.api+"/_local/clock", "application/json", strings.NewReader(`{"advance":"`+d.String()+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("advance the clock: %d", resp.StatusCode)
	}
}

// tailBuffer keeps the last 8 KB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > 8<<10 {
		w.b = w.b[len(w.b)-8<<10:]
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i].Round(100 * time.Microsecond)
}
