// Package testenv gives a test package real DynamoDB Local and SES local
// servers:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Main starts both (DynamoDB in memory) on free ports for the package's
// tests and stops them afterwards. Set DYNAMODB_ENDPOINT and/or
// SES_ENDPOINT to use servers that are already running instead.
//
// The servers are shared by every test of the package, and possibly by other
// packages: name tables with UniqueName and pick mail by recipient.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/token"
)

// The environment variables that name servers already running.
const (
	DynamoEndpointEnv = "DYNAMODB_ENDPOINT"
	SESEndpointEnv    = "SES_ENDPOINT"
)

// Set once by Main, before any test runs, and only read afterwards.
var (
	dynamoEndpoint string
	sesEndpoint    string
	dynamoClient   *dynamodb.Client
	streamsClient  *dynamodbstreams.Client
	sesClient      *sesv2.Client
)

// Main starts the servers, runs the tests, stops the servers and exits with
// the tests' code. If the servers cannot start (for one, `make deps` was not
// run) it exits 1 with the reason: tests against real servers never skip.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	stop, err := setup(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 1
	}
	defer stop()
	return m.Run()
}

// setup starts whatever is not given by the environment, both at once: the
// JVM's start dominates, and SES local's overlaps it.
func setup(ctx context.Context) (stop func(), err error) {
	dynamoEndpoint = os.Getenv(DynamoEndpointEnv)
	sesEndpoint = os.Getenv(SESEndpointEnv)

	var dynamo *localstack.DynamoOptions
	var ses *localstack.SESOptions
	if dynamoEndpoint == "" {
		dynamo = &localstack.DynamoOptions{}
	}
	if sesEndpoint == "" {
		ses = &localstack.SESOptions{}
	}
	servers, err := localstack.StartPair(ctx, dynamo, ses)
	if err != nil {
		return nil, err
	}
	stop = func() {
		if err := servers.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		}
	}
	if servers.DynamoDB != nil {
		dynamoEndpoint = servers.DynamoDB.Endpoint()
	}
	if servers.SES != nil {
		sesEndpoint = servers.SES.Endpoint()
	}

	if dynamoClient, err = localstack.DynamoClient(ctx, dynamoEndpoint); err != nil {
		stop()
		return nil, fmt.Errorf("%s: %w", DynamoEndpointEnv, err)
	}
	if streamsClient, err = localstack.StreamsClient(ctx, dynamoEndpoint); err != nil {
		stop()
		return nil, fmt.Errorf("%s: %w", DynamoEndpointEnv, err)
	}
	if sesClient, err = localstack.SESClient(ctx, sesEndpoint); err != nil {
		stop()
		return nil, fmt.Errorf("%s: %w", SESEndpointEnv, err)
	}
	return stop, nil
}

func mustMain(t testing.TB) {
	t.Helper()
	if dynamoClient == nil || sesClient == nil {
		t.Fatal("testenv: servers not started; add func TestMain(m *testing.M) { testenv.Main(m) } to the package")
	}
}

// Dynamo returns a client for the package's DynamoDB Local.
func Dynamo(t testing.TB) *dynamodb.Client {
	t.Helper()
	mustMain(t)
	return dynamoClient
}

// Streams returns a DynamoDB Streams client for the package's DynamoDB
// Local.
func Streams(t testing.TB) *dynamodbstreams.Client {
	t.Helper()
	mustMain(t)
	return streamsClient
}

// SES returns a client for the package's SES local.
func SES(t testing.TB) *sesv2.Client {
	t.Helper()
	mustMain(t)
	return sesClient
}

// DynamoEndpoint is DynamoDB Local's URL ("" before Main).
func DynamoEndpoint() string { return dynamoEndpoint }

// SESEndpoint is SES local's URL ("" before Main).
func SESEndpoint() string { return sesEndpoint }

var (
	// runID tells apart test binaries that share servers (DYNAMODB_ENDPOINT,
	// or several runs against one persistent DynamoDB Local).
	runID   = newRunID()
	counter atomic.Int64
)

func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// UniqueName returns prefix plus a suffix unique to this call, valid as a
// DynamoDB table name, so parallel tests and packages never share a table.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s-%s-%d", prefix, runID, counter.Add(1))
}

// SentMail returns every email SES local holds, from all tests: pick yours
// by recipient.
func SentMail(t testing.TB) []localstack.SentEmail {
	t.Helper()
	mustMain(t)
	// Not t.Context(): SentMail may be called from a cleanup, after it ends.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mail, err := localstack.SentMail(ctx, sesEndpoint)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return mail
}

// Tuesday is the instant test clocks stand at: Tuesday 1 December 2026,
// 10:00 in Berlin, inside the default program's send window, so no test
// depends on the hour or weekday it runs.
var Tuesday = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// TestTokenKeys is a fixed keys setting for tests, as the keys parameter
// holds it in AWS: a signing key and the lead-id key. Never use it deployed.
const TestTokenKeys = "test:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=,lead-id:bGVhZC1pZC10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGU="

// LeadIDs is TestTokenKeys' lead id key: the ids the product gives leads in
// tests are LeadIDs.ID(normalised address).
var LeadIDs = func() lead.IDKey {
	k, err := token.Parse(TestTokenKeys)
	if err != nil {
		panic(err)
	}
	ids, err := lead.NewIDKey(k.LeadID)
	if err != nil {
		panic(err)
	}
	return ids
}()

// LeadID is the lead id of a test address, normalised first when it is
// an address capture would accept (others, as tests store them, as given).
func LeadID(email string) string {
	if n, err := lead.NormaliseEmail(email); err == nil {
		email = n
	}
	return LeadIDs.ID(email)
}
