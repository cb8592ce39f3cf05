package testenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leadnurture/nurture/infra/localstack"
)

// Faults stands in front of DynamoDB Local and fails every third request
// the way DynamoDB does under trouble: throttled before doing anything, or
// a 500 after the write was done and its answer lost.
type Faults struct {
	proxy    *httputil.ReverseProxy
	Requests atomic.Int64
	Failures atomic.Int64
}

func (f *Faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.Requests.Add(1)
	if n%3 != 0 {
		f.proxy.ServeHTTP(w, r)
		return
	}
	f.Failures.Add(1)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if n%2 == 0 {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`))
		return
	}
	// The request reaches DynamoDB; only its answer is lost.
	rec := httptest.NewRecorder()
	f.proxy.ServeHTTP(rec, r)
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`))
}

// FaultyDynamo returns a client of the package's DynamoDB Local that goes
// through Faults. maxAttempts is the SDK's attempts per call: 1 lets every
// failure reach the caller, 0 keeps the SDK's default retries.
func FaultyDynamo(t testing.TB, maxAttempts int) (*dynamodb.Client, *Faults) {
	t.Helper()
	mustMain(t)
	target, err := url.Parse(dynamoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	f := &Faults{proxy: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client, err := localstack.DynamoClient(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if maxAttempts > 0 {
		client = dynamodb.New(client.Options(), func(o *dynamodb.Options) { o.RetryMaxAttempts = maxAttempts })
	}
	return client, f
}

// ThrottledDynamo returns a client of a DynamoDB that throttles every
// request, as a table over its capacity does, without retries: for what
// must go on when the table cannot take a write (the limits fail open).
func ThrottledDynamo(t testing.TB) *dynamodb.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`))
	}))
	t.Cleanup(srv.Close)
	client, err := localstack.DynamoClient(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return dynamodb.New(client.Options(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
}
