package testenv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestDynamo_tablesWithUniqueNames(t *testing.T) {
	db := testenv.Dynamo(t)
	a, b := testenv.UniqueName("t"), testenv.UniqueName("t")
	if a == b {
		t.Fatalf("UniqueName gave %q twice", a)
	}
	for _, name := range []string{a, b} {
		_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		})
		if err != nil {
			t.Fatalf("create table %q: %v", name, err)
		}
	}
	if !strings.HasPrefix(testenv.DynamoEndpoint(), "http://") {
		t.Errorf("DynamoEndpoint() = %q", testenv.DynamoEndpoint())
	}
}

func TestSES_sentMailIsVisible(t *testing.T) {
	to := testenv.UniqueName("lead") + "@example.com"
	_, err := testenv.SES(t).SendEmail(t.Context(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("news@example.com"),
		Destination:      &sestypes.Destination{ToAddresses: []string{to}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Hi")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("Hello")}},
		}},
	})
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	var mine []localstack.SentEmail
	for _, m := range testenv.SentMail(t) {
		if len(m.To) == 1 && m.To[0] == to {
			mine = append(mine, m)
		}
	}
	if len(mine) != 1 || mine[0].Text != "Hello" {
		t.Fatalf("mail to %s = %+v, want the one sent", to, mine)
	}
}

// Main must fail the run, not skip it, when the servers are not installed.
func TestMain_withoutDeps_exitsOneSayingRunMakeDeps(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		localstack.CacheEnv+"="+t.TempDir(),
		testenv.DynamoEndpointEnv+"=", testenv.SESEndpointEnv+"=")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "run make deps") {
		t.Fatalf("exit code %d (%v), output:\n%s\nwant exit code 1 saying to run make deps", code, err, out)
	}
}
