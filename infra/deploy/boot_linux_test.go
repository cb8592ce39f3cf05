//go:build linux

package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/store"
)

// The boot tests start each function's bootstrap the way Lambda's
// provided.al2023 runtime does: the executable alone, with the environment
// Lambda gives it (AWS_LAMBDA_RUNTIME_API and the other reserved variables,
// plus exactly the variables infra/template.yaml sets for that function),
// talking to a test server that speaks the Runtime API. The samples in
// events/ are its invocations; DynamoDB Local, SES local and a fake SSM
// Parameter Store stand in for AWS.
//
// The child gets no other variable of this process on purpose: a variable
// the template forgets must fail the boot here, as it would in AWS.

func TestMain(m *testing.M) { testenv.Main(m) }

// initLimit is how long Lambda lets a function initialise.
const initLimit = 10 * time.Second

// ssmTokenKeys is what the fake Parameter Store holds: the signing keys
// under the template's default TokenKeysParameter, and a webhook URL under
// the name the boot test gives AlertWebhookParameter.
func ssmTokenKeys(tpl *Template) (string, map[string]ssmParam) {
	name := str(tpl.Parameters["TokenKeysParameter"]["Default"])
	return name, map[string]ssmParam{
		name:             {Type: "SecureString", Value: testenv.TestTokenKeys},
		webhookParameter: {Type: "SecureString", Value: "https://hooks.chat.example/services/T0/B0/secret"},
		eventsParameter:  {Type: "SecureString", Value: `{"url":"https://hooks.crm.example/catch/1/secret","secret":"whsec_boot_0123456789abcdefghij"}`},
	}
}

// eventsParameter stands in for LifecycleEventsParameter (empty by default).
const eventsParameter = "/nurture/crm-events"

// webhookParameter stands in for AlertWebhookParameter (empty by default).
const webhookParameter = "/nurture/alert-webhook"

// nothingToSend is what an outbox function answers to stream records of
// leads the table does not hold: no error, no batch item failure.
func nothingToSend(t *testing.T, s sample, res invocationResult) {
	if res.Error != nil {
		t.Errorf("%s: error %s: %s", s.path, res.ErrorType, res.Error.ErrorMessage)
		return
	}
	var r lambdaevents.DynamoDBEventResponse
	if err := json.Unmarshal(res.Response, &r); err != nil || r.BatchItemFailures == nil || len(r.BatchItemFailures) != 0 {
		t.Errorf("%s: response %s, want {\"batchItemFailures\":[]} (%v)", s.path, res.Response, err)
	}
}

// bootCase is what a function must answer to each of its samples.
type bootCase struct {
	samples string // folder under events/
	check   func(t *testing.T, s sample, res invocationResult)
}

func httpStatus(t *testing.T, s sample, res invocationResult, want ...int) {
	t.Helper()
	if res.Error != nil {
		t.Errorf("%s: error %s: %s", s.path, res.ErrorType, res.Error.ErrorMessage)
		return
	}
	var r lambdaevents.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(res.Response, &r); err != nil {
		t.Errorf("%s: response %q is not an API Gateway v2 response: %v", s.path, res.Response, err)
		return
	}
	if !slices.Contains(want, r.StatusCode) {
		t.Errorf("%s: status %d, want one of %v (body %.200q)", s.path, r.StatusCode, want, r.Body)
	}
	if r.Body == "" {
		t.Errorf("%s: empty body", s.path)
	}
}

var bootCases = map[string]bootCase{
	// Browsers get a 303 to the asset, scripts JSON (200); the form
	// script and the hosted page are 200s.
	"capture": {samples: "capture", check: func(t *testing.T, s sample, res invocationResult) {
		httpStatus(t, s, res, 303, 200)
	}},
	// The samples' tokens are signed with keys this deployment does not
	// have: every one is the plain 404 page.
	"links": {samples: "links", check: func(t *testing.T, s sample, res invocationResult) {
		httpStatus(t, s, res, 404)
	}},
	// Stream records of leads this table does not hold: nothing to send,
	// and no batch item failure.
	"alerts": {samples: "alerts", check: nothingToSend},
	"events": {samples: "events", check: nothingToSend},
	// An empty table: a rollup of nothing, and the digest not due or sent.
	"report": {samples: "report", check: func(t *testing.T, s sample, res invocationResult) {
		if res.Error != nil {
			t.Errorf("%s: error %s: %s", s.path, res.ErrorType, res.Error.ErrorMessage)
		}
	}},
	// An empty table: a tick that finds nothing due.
	"scheduler": {samples: "scheduler", check: func(t *testing.T, s sample, res invocationResult) {
		if res.Error != nil {
			t.Errorf("%s: error %s: %s", s.path, res.ErrorType, res.Error.ErrorMessage)
			return
		}
		var rep nurture.Report
		if err := json.Unmarshal(res.Response, &rep); err != nil {
			t.Errorf("%s: response %q is not a nurture.Report: %v", s.path, res.Response, err)
			return
		}
		if rep.Due != 0 || rep.Sent != 0 || rep.Failed != 0 {
			t.Errorf("%s: report %+v on an empty table", s.path, rep)
		}
	}},
	// Well-formed events about mail this table never sent are logged and
	// dropped: success, no payload. A detail-type the rule never forwards is
	// poison: the invocation fails, so Lambda dead-letters it.
	"engagement": {samples: "engagement", check: func(t *testing.T, s sample, res invocationResult) {
		if strings.HasSuffix(s.path, "eventbridge-unknown.json") {
			if res.Error == nil || !strings.Contains(res.Error.ErrorMessage, "poison event") {
				t.Errorf("%s: want a poison-event error, got %+v", s.path, res)
			}
			return
		}
		if res.Error != nil {
			t.Errorf("%s: error %s: %s", s.path, res.ErrorType, res.Error.ErrorMessage)
			return
		}
		if string(res.Response) != "null" {
			t.Errorf("%s: response %q, want null", s.path, res.Response)
		}
	}},
}

func TestBootstrap_answersTheSamplesUnderTheRuntimeAPI(t *testing.T) {
	tpl := loadTemplate(t)
	var (
		mu     sync.Mutex
		report []string
	)
	t.Cleanup(func() { writeBootReport(t, report) })
	for _, name := range functionFolders(t) {
		bc, ok := bootCases[name]
		if !ok {
			t.Errorf("functions/%s: no boot case; add what it must answer to bootCases", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn, ok := tpl.Resources[logicalID(name)]
			if !ok {
				t.Fatalf("no %s in the template", logicalID(name))
			}
			bin := hostBootstrap(t, name)
			rt := newRuntimeAPI(t, name)
			param, params := ssmTokenKeys(tpl)
			ssm := newFakeSSM(t, params)
			env := bootEnv(t, tpl, name, rt, ssm, nil)
			p := startBootstrap(t, bin, env)

			var initTime time.Duration
			select {
			case at := <-rt.nextAt:
				initTime = at.Sub(p.started)
			case <-p.exited:
				t.Fatalf("exited during init (%v); init errors %+v", p.state, rt.InitErrors())
			case <-time.After(initLimit):
				t.Fatalf("no /next call within Lambda's %v init limit", initLimit)
			}
			timeout := time.Duration(fn.Properties["Timeout"].(float64)) * time.Second
			for _, s := range samples(t, bc.samples) {
				res, err := rt.Invoke(s.body, timeout, p.exited)
				if err != nil {
					t.Fatalf("%s: %v", s.path, err)
				}
				bc.check(t, s, res)
			}
			if errs := rt.InitErrors(); len(errs) > 0 {
				t.Errorf("init errors posted by a function that started: %+v", errs)
			}
			// The secrets are read once, at start, and only by the
			// functions that use them: the signing keys by those that sign
			// or verify links, the webhook URL by the one that posts.
			loaders := map[string]bool{} // one parameter may hold two secrets
			for _, s := range secrets {
				if functionUsage(t, name).Calls[s.loader] {
					loaders[s.loader] = true
				}
			}
			wantSSM := int64(len(loaders))
			if got := ssm.calls.Load(); got != wantSSM {
				t.Errorf("%d GetParameter calls for %s, want %d", got, param, wantSSM)
			}
			rss := p.stop(t)

			memory := fn.Properties["MemorySize"].(float64)
			size := fileSize(t, bin)
			line := fmt.Sprintf("%-10s init %6.1f ms  max RSS %5.1f MB (MemorySize %v MB)  bootstrap %4.1f MB host/%s",
				name, float64(initTime.Microseconds())/1000, float64(rss)/(1<<20), memory, float64(size)/(1<<20), runtime.GOARCH)
			if arm := filepath.Join(cacheDir(t), "sam-build", logicalID(name), "bootstrap"); fileExists(arm) {
				line += fmt.Sprintf(", %4.1f MB linux/arm64 (sam build)", float64(fileSize(t, arm))/(1<<20))
			}
			t.Log(line)
			mu.Lock()
			report = append(report, line)
			mu.Unlock()

			// Headroom: the measured peak stays under half the memory the
			// template gives the function, and start-up well inside the
			// init limit (Lambda's arm64 CPUs are slower than a laptop's).
			if float64(rss) > memory*(1<<20)/2 {
				t.Errorf("max RSS %d bytes is over half of MemorySize %v MB: raise MemorySize", rss, memory)
			}
			if initTime > initLimit/4 {
				t.Errorf("init took %v, over a quarter of Lambda's %v limit", initTime, initLimit)
			}
			if size > 50<<20 {
				t.Errorf("bootstrap is %d bytes; keep it well under Lambda's 50 MB zipped limit", size)
			}
		})
	}
}

// A function that cannot start says why through the Runtime API's
// init/error and exits, without ever asking for an event.
func TestBootstrap_withoutWhatItNeeds_postsInitErrorAndExits(t *testing.T) {
	tpl := loadTemplate(t)
	type initCase struct {
		function string
		drop     []string            // template variables left out
		ssm      map[string]ssmParam // nil: the template's parameter, a SecureString
		want     string              // in the error message
	}
	var cases []initCase
	for _, name := range functionFolders(t) {
		cases = append(cases, initCase{function: name, drop: []string{"TABLE_NAME"}, want: "TABLE_NAME is not set"})
	}
	param, _ := ssmTokenKeys(tpl)
	cases = append(cases,
		initCase{function: "links", drop: []string{"TOKEN_KEYS_PARAMETER"}, want: "TOKEN_KEYS is not set"},
		initCase{function: "scheduler", drop: []string{"TOKEN_KEYS_PARAMETER"}, want: "TOKEN_KEYS is not set"},
		initCase{function: "links", ssm: map[string]ssmParam{param: {Type: "String", Value: testenv.TestTokenKeys}}, want: "SecureString"},
		initCase{function: "scheduler", ssm: map[string]ssmParam{}, want: "ParameterNotFound"},
		initCase{function: "alerts", ssm: map[string]ssmParam{param: {Type: "SecureString", Value: testenv.TestTokenKeys},
			webhookParameter: {Type: "String", Value: "https://hooks.chat.example/services/T0/B0/secret"}}, want: "SecureString"},
		initCase{function: "events", ssm: map[string]ssmParam{param: {Type: "SecureString", Value: testenv.TestTokenKeys},
			eventsParameter: {Type: "SecureString", Value: `{"url":"http://hooks.crm.example/catch/1/secret","secret":"whsec_boot_0123456789abcdefghij"}`}}, want: "https://"},
	)
	// A parameter from before lead ids were keyed: no function starts
	// rather than name leads by a plain hash of their address.
	withoutLeadIDKey := strings.Split(testenv.TestTokenKeys, ",")[0]
	for _, name := range []string{"capture", "engagement", "links"} {
		cases = append(cases, initCase{function: name, ssm: map[string]ssmParam{param: {Type: "SecureString", Value: withoutLeadIDKey}}, want: `no "lead-id" key`})
	}
	for _, c := range cases {
		t.Run(c.function+"/"+c.want, func(t *testing.T) {
			t.Parallel()
			bin := hostBootstrap(t, c.function)
			rt := newRuntimeAPI(t, c.function)
			params := c.ssm
			if params == nil {
				_, params = ssmTokenKeys(tpl)
			}
			env := bootEnv(t, tpl, c.function, rt, newFakeSSM(t, params), c.drop)
			p := startBootstrap(t, bin, env)
			select {
			case <-p.exited:
			case <-rt.nextAt:
				t.Fatal("asked for an event although it could not start")
			case <-time.After(initLimit):
				t.Fatalf("still running after %v", initLimit)
			}
			if code := p.state.ExitCode(); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			errs := rt.InitErrors()
			if len(errs) != 1 {
				t.Fatalf("init errors %+v, want one", errs)
			}
			e := errs[0]
			if !strings.Contains(e.ErrorMessage, c.want) || e.ErrorType == "" || e.Header == "" {
				t.Errorf("init error %+v, want a message with %q, an errorType and a Lambda-Runtime-Function-Error-Type header", e, c.want)
			}
			if strings.Contains(e.ErrorMessage, testenv.TestTokenKeys[5:20]) || strings.Contains(e.ErrorMessage, "bGVhZC1pZC10") || strings.Contains(e.ErrorMessage, "hooks.chat.example") ||
				strings.Contains(e.ErrorMessage, "hooks.crm.example") || strings.Contains(e.ErrorMessage, "whsec_") {
				t.Errorf("the init error shows a secret: %q", e.ErrorMessage)
			}
		})
	}
}

// bootEnv is the environment Lambda would give the function: its reserved
// variables and the template's, resolved with the parameters' defaults and
// stand-ins for what only exists once deployed; drop leaves some out. The
// local endpoints (and AWS_ENDPOINT_URL_SSM) are the only additions.
func bootEnv(t *testing.T, tpl *Template, name string, rt *runtimeAPI, ssm *fakeSSM, drop []string) []string {
	t.Helper()
	fn := tpl.Resources[logicalID(name)]
	table := testenv.UniqueName("boot")
	if err := store.EnsureTable(context.Background(), testenv.Dynamo(t), table); err != nil {
		t.Fatal(err)
	}
	standIns := map[string]string{
		"TABLE_NAME":            table,
		"PUBLIC_BASE_URL":       "https://api.acme.example",
		"SES_CONFIGURATION_SET": "nurture-test",
		"SITE_ORIGINS":          "https://www.acme.example",
		"WEBHOOK_URL_PARAMETER": webhookParameter,
		"EVENTS_PARAMETER":      eventsParameter,
		// The samples' wake-ups name leads this table does not hold: the
		// function sends nothing to the queue.
		"SETTLE_QUEUE_URL": "https://sqs.eu-central-1.amazonaws.com/123456789012/nurture-SettleQueue-1A2B3C4D5E6F",
		// As deployed with a CRM (LifecycleEventsParameter set).
		"LIFECYCLE_EVENTS": "on",
	}
	env := map[string]string{}
	for k, v := range tpl.Env(fn) {
		if slices.Contains(drop, k) {
			continue
		}
		switch v := v.(type) {
		case string:
			env[k] = v
			continue
		case float64:
			env[k] = strconv.FormatFloat(v, 'f', -1, 64)
			continue
		}
		if p, ok := ref(v); ok && tpl.Parameters[p] != nil {
			if d, ok := tpl.Parameters[p]["Default"]; ok && fmt.Sprint(d) != "" {
				if f, ok := d.(float64); ok {
					env[k] = strconv.FormatFloat(f, 'f', -1, 64)
				} else {
					env[k] = fmt.Sprint(d)
				}
				continue
			}
		}
		s, ok := standIns[k]
		if !ok {
			t.Fatalf("%s=%s: no stand-in value for the boot test; add one to standIns", k, canon(v))
		}
		env[k] = s
	}
	memory := strconv.FormatFloat(fn.Properties["MemorySize"].(float64), 'f', -1, 64)
	for k, v := range map[string]string{
		// What Lambda sets for every provided.al2023 function.
		"AWS_LAMBDA_RUNTIME_API":          rt.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME":        "nurture-" + name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": memory,
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/nurture-" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2026/12/01/[$LATEST]0123456789abcdef",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_ACCESS_KEY_ID":               "ASIABOOTTESTKEY00000",
		"AWS_SECRET_ACCESS_KEY":           "boot-test-secret",
		"AWS_SESSION_TOKEN":               "boot-test-session",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                "/var/task",
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		// The test's stand-ins for AWS, and no shared AWS config from
		// this machine.
		"DYNAMODB_ENDPOINT":           testenv.DynamoEndpoint(),
		"SES_ENDPOINT":                testenv.SESEndpoint(),
		"AWS_ENDPOINT_URL_SSM":        ssm.srv.URL,
		"AWS_CONFIG_FILE":             filepath.Join(t.TempDir(), "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "no-credentials"),
	} {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}

type bootProcess struct {
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{}
	state   *os.ProcessState
	out     syncBuffer
}

func startBootstrap(t *testing.T, bin string, env []string) *bootProcess {
	t.Helper()
	p := &bootProcess{exited: make(chan struct{})}
	p.cmd = exec.Command(bin)
	p.cmd.Env = env
	p.cmd.Dir = filepath.Dir(bin)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(filepath.Dir(bin)), p.out.String())
		}
	})
	return p
}

// stop ends the runtime as Lambda does when it retires an environment and
// returns its peak resident memory in bytes.
func (p *bootProcess) stop(t *testing.T) int64 {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	ru, ok := p.state.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the process")
	}
	return ru.Maxrss << 10 // kilobytes on Linux
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// hostBootstrap builds functions/<name> as `make build` does for Lambda
// (CGO_ENABLED=0, -tags lambda.norpc, -ldflags "-s -w"), but for this
// machine's architecture: Lambda runs linux/arm64, which cannot execute on
// the amd64 machines the tests run on. Same code, same tags, a static
// binary; only the instruction set differs, and -trimpath is left out so
// the build shares Go's cache with go test (it changes only file names
// inside the binary).
func hostBootstrap(t *testing.T, name string) string {
	t.Helper()
	buildMu.Lock()
	b, ok := builds[name]
	if !ok {
		b = &hostBuild{}
		builds[name] = b
	}
	buildMu.Unlock()
	b.once.Do(func() {
		b.path = filepath.Join(cacheDir(t), "build", "host-"+runtime.GOARCH, name, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", b.path, "./functions/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./functions/%s: %v\n%s", name, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

type hostBuild struct {
	once sync.Once
	path string
	err  error
}

var (
	buildMu sync.Mutex
	builds  = map[string]*hostBuild{}
)

func cacheDir(t testing.TB) string {
	t.Helper()
	dir, err := localstack.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeBootReport keeps the measurements where `make test` prints them
// (go test shows a passing test's log only with -v).
func writeBootReport(t *testing.T, lines []string) {
	if len(lines) == 0 {
		return
	}
	slices.Sort(lines)
	path := filepath.Join(cacheDir(t), "build", "boot-report.txt")
	text := "Lambda boot (Runtime API test server, events/ samples):\n  " + strings.Join(lines, "\n  ") + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Error(err)
	}
}
