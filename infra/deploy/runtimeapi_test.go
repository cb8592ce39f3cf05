package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runtimeAPI is a test server speaking the Lambda Runtime API as documented
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), version
// 2018-06-01: the runtime polls GET /runtime/invocation/next for an event
// and answers it with POST /runtime/invocation/{id}/response or /error; a
// runtime that cannot start posts /runtime/init/error.
type runtimeAPI struct {
	t      testing.TB
	srv    *httptest.Server
	arn    string
	events chan *invocation
	nextAt chan time.Time // the first /next call, once

	mu       sync.Mutex
	pending  map[string]*invocation
	initErrs []runtimeError
	initErr  chan struct{} // closed at the first init error
	seq      atomic.Int64
	nextOnce sync.Once
	initOnce sync.Once
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan invocationResult
}

// invocationResult is what the runtime answered: a response, or an error.
type invocationResult struct {
	Response  []byte
	Error     *runtimeError
	ErrorType string // Lambda-Runtime-Function-Error-Type
}

type runtimeError struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	StackTrace   []string `json:"stackTrace"`
	Header       string   `json:"-"`
}

const runtimeAPIPrefix = "/2018-06-01/runtime/"

func newRuntimeAPI(t testing.TB, functionName string) *runtimeAPI {
	r := &runtimeAPI{
		t:       t,
		arn:     "arn:aws:lambda:us-east-1:123456789012:function:" + functionName,
		events:  make(chan *invocation),
		nextAt:  make(chan time.Time, 1),
		pending: map[string]*invocation{},
		initErr: make(chan struct{}),
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API: host:port, no scheme.
func (r *runtimeAPI) Addr() string { return strings.TrimPrefix(r.srv.URL, "http://") }

func (r *runtimeAPI) serve(w http.ResponseWriter, req *http.Request) {
	path, ok := strings.CutPrefix(req.URL.Path, runtimeAPIPrefix)
	if !ok {
		http.NotFound(w, req)
		return
	}
	switch {
	case req.Method == http.MethodGet && path == "invocation/next":
		r.nextOnce.Do(func() { r.nextAt <- time.Now() })
		select {
		case inv := <-r.events:
			r.mu.Lock()
			r.pending[inv.id] = inv
			r.mu.Unlock()
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", r.arn)
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0")
			h.Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(inv.payload)
		case <-req.Context().Done():
		}
	case req.Method == http.MethodPost && path == "init/error":
		e := r.readError(w, req)
		r.mu.Lock()
		r.initErrs = append(r.initErrs, e)
		r.mu.Unlock()
		r.initOnce.Do(func() { close(r.initErr) })
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"OK"}`)
	case req.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		id, kind, ok := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		r.mu.Lock()
		inv := r.pending[id]
		delete(r.pending, id)
		r.mu.Unlock()
		if !ok || inv == nil || (kind != "response" && kind != "error") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"errorMessage":"unknown request id or path","errorType":"InvalidRequestID"}`)
			return
		}
		var res invocationResult
		if kind == "response" {
			b, err := io.ReadAll(req.Body)
			if err != nil {
				r.t.Errorf("runtime api: read response: %v", err)
			}
			res.Response = b
		} else {
			e := r.readError(w, req)
			res.Error, res.ErrorType = &e, e.Header
		}
		inv.done <- res
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"OK"}`)
	default:
		http.NotFound(w, req)
	}
}

func (r *runtimeAPI) readError(w http.ResponseWriter, req *http.Request) runtimeError {
	var e runtimeError
	b, err := io.ReadAll(req.Body)
	if err == nil {
		err = json.Unmarshal(b, &e)
	}
	if err != nil {
		r.t.Errorf("runtime api: %s: error body %q is not the documented JSON: %v", req.URL.Path, b, err)
	}
	e.Header = req.Header.Get("Lambda-Runtime-Function-Error-Type")
	return e
}

// Invoke hands the runtime one event and waits for its answer, the
// runtime's exit or the deadline (plus a grace second).
func (r *runtimeAPI) Invoke(payload []byte, timeout time.Duration, exited <-chan struct{}) (invocationResult, error) {
	inv := &invocation{
		id:       fmt.Sprintf("req-%d", r.seq.Add(1)),
		payload:  payload,
		deadline: time.Now().Add(timeout),
		done:     make(chan invocationResult, 1),
	}
	ctx, cancel := context.WithDeadline(context.Background(), inv.deadline.Add(time.Second))
	defer cancel()
	select {
	case r.events <- inv:
	case <-exited:
		return invocationResult{}, fmt.Errorf("the runtime exited before asking for the event")
	case <-ctx.Done():
		return invocationResult{}, fmt.Errorf("the runtime did not ask for the event within %v", timeout)
	}
	select {
	case res := <-inv.done:
		return res, nil
	case <-exited:
		return invocationResult{}, fmt.Errorf("the runtime exited during the invocation")
	case <-ctx.Done():
		return invocationResult{}, fmt.Errorf("no answer within %v", timeout)
	}
}

// InitErrors are the init errors posted so far.
func (r *runtimeAPI) InitErrors() []runtimeError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runtimeError(nil), r.initErrs...)
}

// fakeSSM answers GetParameter (the AWS JSON 1.1 protocol) from a map, as
// Parameter Store would: a SecureString decrypted only WithDecryption.
type fakeSSM struct {
	srv    *httptest.Server
	params map[string]ssmParam
	calls  atomic.Int64
}

type ssmParam struct{ Type, Value string }

func newFakeSSM(t testing.TB, params map[string]ssmParam) *fakeSSM {
	f := &fakeSSM{params: params}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fail := func(code int, typ, msg string) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
		}
		if req.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" {
			fail(400, "InvalidAction", "only GetParameter here, not "+req.Header.Get("X-Amz-Target"))
			return
		}
		if !strings.HasPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			fail(400, "MissingAuthenticationTokenException", "unsigned request")
			return
		}
		f.calls.Add(1)
		var in struct {
			Name           string
			WithDecryption bool
		}
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
			fail(400, "ValidationException", err.Error())
			return
		}
		p, ok := f.params[in.Name]
		if !ok {
			fail(400, "ParameterNotFound", "")
			return
		}
		value := p.Value
		if p.Type == "SecureString" && !in.WithDecryption {
			value = "AQICAHh-encrypted-blob"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
			"Name": in.Name, "Type": p.Type, "Value": value, "Version": 1, "DataType": "text",
			"ARN": "arn:aws:ssm:us-east-1:123456789012:parameter" + in.Name,
		}})
	}))
	t.Cleanup(f.srv.Close)
	return f
}
