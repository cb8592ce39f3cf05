package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/leadnurture/nurture/infra/localstack"
)

func startDynamo(t *testing.T, o localstack.DynamoOptions) *localstack.Server {
	t.Helper()
	s, err := localstack.StartDynamoDB(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

func startSES(t *testing.T, o localstack.SESOptions) *localstack.Server {
	t.Helper()
	s, err := localstack.StartSES(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

func dynamoClient(t *testing.T, s *localstack.Server) *dynamodb.Client {
	t.Helper()
	c, err := localstack.DynamoClient(t.Context(), s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func createTable(t *testing.T, c *dynamodb.Client, name string) {
	t.Helper()
	_, err := c.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
}

func tableNames(t *testing.T, c *dynamodb.Client) []string {
	t.Helper()
	out, err := c.ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	return out.TableNames
}

// refuses reports whether nothing listens on the server's port any more.
func refuses(s *localstack.Server) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port())), time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

func TestDynamoDB_inMemory_freePort_servesUntilStop_andStopsTwice(t *testing.T) {
	s := startDynamo(t, localstack.DynamoOptions{})
	if s.Port() == 0 {
		t.Fatal("port 0 was not replaced by a free port")
	}
	if want := "http://127.0.0.1:" + strconv.Itoa(s.Port()); s.Endpoint() != want {
		t.Fatalf("Endpoint() = %q, want %q", s.Endpoint(), want)
	}
	c := dynamoClient(t, s)
	createTable(t, c, "memory")
	if got := tableNames(t, c); !reflect.DeepEqual(got, []string{"memory"}) {
		t.Fatalf("tables = %v, want [memory]", got)
	}

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if !refuses(s) {
		t.Fatalf("port %d still answers after Stop", s.Port())
	}
}

func TestDynamoDB_dataDir_keepsTablesAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	first := startDynamo(t, localstack.DynamoOptions{DataDir: dir})
	createTable(t, dynamoClient(t, first), "kept")
	if err := first.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	second := startDynamo(t, localstack.DynamoOptions{DataDir: dir})
	if got := tableNames(t, dynamoClient(t, second)); !reflect.DeepEqual(got, []string{"kept"}) {
		t.Fatalf("tables after restart = %v, want [kept]", got)
	}
}

func TestStart_portInUse_failsAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	if _, err := localstack.StartSES(t.Context(), localstack.SESOptions{Port: port}); err == nil || !strings.Contains(err.Error(), "not free") {
		t.Fatalf("StartSES on a taken port: err = %v, want one saying the port is not free", err)
	}
	if _, err := localstack.StartDynamoDB(t.Context(), localstack.DynamoOptions{Port: port}); err == nil || !strings.Contains(err.Error(), "not free") {
		t.Fatalf("StartDynamoDB on a taken port: err = %v, want one saying the port is not free", err)
	}
}

func TestSES_sentEmail_isReadBack_thenCleared(t *testing.T) {
	s := startSES(t, localstack.SESOptions{MaxSendRate: 3})
	ctx := t.Context()
	c, err := localstack.SESClient(ctx, s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}

	acct, err := c.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if acct.SendQuota == nil || acct.SendQuota.MaxSendRate != 3 {
		t.Fatalf("GetAccount SendQuota = %+v, want MaxSendRate 3", acct.SendQuota)
	}

	before := time.Now().Unix()
	out, err := c.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("news@example.com"),
		Destination:      &sestypes.Destination{ToAddresses: []string{"ada@example.com"}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Your whitepaper")},
			Body: &sestypes.Body{
				Html: &sestypes.Content{Data: aws.String("<p>Hello</p>")},
				Text: &sestypes.Content{Data: aws.String("Hello")},
			},
			Headers: []sestypes.MessageHeader{{Name: aws.String("List-Unsubscribe"), Value: aws.String("<https://example.com/u>")}},
		}},
	})
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}

	mail, err := localstack.SentMail(ctx, s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	if len(mail) != 1 {
		t.Fatalf("SentMail = %d emails, want 1: %+v", len(mail), mail)
	}
	got := mail[0]
	if got.At < before || got.At > time.Now().Unix() {
		t.Errorf("At = %d, want the send time (>= %d)", got.At, before)
	}
	got.At = 0
	want := localstack.SentEmail{
		MessageID: aws.ToString(out.MessageId),
		From:      "news@example.com",
		ReplyTo:   []string{},
		To:        []string{"ada@example.com"},
		CC:        []string{},
		BCC:       []string{},
		Subject:   "Your whitepaper",
		HTML:      "<p>Hello</p>",
		Text:      "Hello",
		Headers:   []localstack.Header{{Name: "List-Unsubscribe", Value: "<https://example.com/u>"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SentMail[0] =\n%+v\nwant\n%+v", got, want)
	}

	if err := localstack.ClearMail(ctx, s.Endpoint()); err != nil {
		t.Fatal(err)
	}
	if mail, err := localstack.SentMail(ctx, s.Endpoint()); err != nil || len(mail) != 0 {
		t.Fatalf("after ClearMail: %d emails, err %v; want none", len(mail), err)
	}

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if !refuses(s) {
		t.Fatalf("port %d still answers after Stop", s.Port())
	}
}

func TestSentEmail_JSON_roundTripsTheStoreShape(t *testing.T) {
	const store = `{"messageId":"ses-1","from":"a@x.test","replyTo":["r@x.test"],` +
		`"destination":{"to":["b@x.test"],"cc":["c@x.test"],"bcc":["d@x.test"]},"subject":"S",` +
		`"body":{"html":"<p>h</p>","text":"t"},"headers":[{"name":"N","value":"V"}],"at":42}`
	var e localstack.SentEmail
	if err := json.Unmarshal([]byte(store), &e); err != nil {
		t.Fatal(err)
	}
	want := localstack.SentEmail{MessageID: "ses-1", From: "a@x.test", ReplyTo: []string{"r@x.test"},
		To: []string{"b@x.test"}, CC: []string{"c@x.test"}, BCC: []string{"d@x.test"}, Subject: "S",
		HTML: "<p>h</p>", Text: "t", Headers: []localstack.Header{{Name: "N", Value: "V"}}, At: 42}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", e, want)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var gotJSON, wantJSON any
	if err := json.Unmarshal(b, &gotJSON); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(store), &wantJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotJSON, wantJSON) {
		t.Fatalf("encoded\n%s\nwant\n%s", b, store)
	}
}

func TestCacheDir_notInstalled_saysRunMakeDeps(t *testing.T) {
	t.Setenv(localstack.CacheEnv, t.TempDir())
	for name, start := range map[string]func() error{
		"CacheDir": func() error { _, err := localstack.CacheDir(); return err },
		"StartDynamoDB": func() error {
			_, err := localstack.StartDynamoDB(t.Context(), localstack.DynamoOptions{})
			return err
		},
		"StartSES": func() error { _, err := localstack.StartSES(t.Context(), localstack.SESOptions{}); return err },
	} {
		if err := start(); err == nil || !strings.Contains(err.Error(), "run make deps") {
			t.Errorf("%s with an empty cache: err = %v, want one saying to run make deps", name, err)
		}
	}
}

// childEnv makes the test binary, run again by TestServer_diesWithParent,
// start SES local, print its port and wait to be killed.
const childEnv = "LOCALSTACK_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		s, err := localstack.StartSES(context.Background(), localstack.SESOptions{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(s.Port())
		select {}
	}
	os.Exit(m.Run())
}
