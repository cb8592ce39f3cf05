package localstack

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// DynamoOptions configures StartDynamoDB.
type DynamoOptions struct {
	// Port to listen on; 0 picks a free one.
	Port int
	// DataDir keeps the tables between runs (created if missing); "" keeps
	// them in memory, which is what tests want.
	DataDir string
	// Log receives the server's output, if set. It must be safe for
	// concurrent use if shared with another server.
	Log io.Writer
}

// dynamoStartTimeout is generous: a cold JVM on a busy 2-core machine
// running several test packages at once has taken over a minute to answer,
// and a start that fails for being slow fails every test behind it.
const dynamoStartTimeout = 3 * time.Minute

// StartDynamoDB starts DynamoDB Local from the cache and returns once it
// answers ListTables. Every client sees the same tables (-sharedDb),
// whatever its credentials or region.
func StartDynamoDB(ctx context.Context, o DynamoOptions) (*Server, error) {
	s, err := startDynamoDB(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("start dynamodb local: %w", err)
	}
	return s, nil
}

func startDynamoDB(ctx context.Context, o DynamoOptions) (*Server, error) {
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	java, err := javaPath()
	if err != nil {
		return nil, err
	}
	storage := []string{"-inMemory"}
	if o.DataDir != "" {
		dir, err := filepath.Abs(o.DataDir)
		if err != nil {
			return nil, fmt.Errorf("data folder %q: %w", o.DataDir, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		storage = []string{"-dbPath", dir}
	}
	home := filepath.Join(cache, "dynamodb")
	// DynamoDB Local has no option for its bind address: it listens on all
	// interfaces, so that is where the port must be free.
	return startOnPort(ctx, "", o.Port, func(port int) spec {
		endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
		args := []string{
			// sqlite4java loads its native library from here.
			"-Djava.library.path=" + filepath.Join(cache, dynamoLib),
			// A short-lived dev server: start fast rather than peak later.
			"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
			"-jar", filepath.Join(cache, dynamoJar),
			"-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port),
		}
		return spec{
			name:     "dynamodb local",
			path:     java,
			args:     append(args, storage...),
			dir:      home,
			port:     port,
			endpoint: endpoint,
			log:      o.Log,
			timeout:  dynamoStartTimeout,
			ready:    dynamoReady(endpoint),
		}
	})
}

// dynamoReady is a real request, not just an open port: Jetty accepts
// connections before DynamoDB Local can serve them.
func dynamoReady(endpoint string) func(context.Context) error {
	client := dynamodb.NewFromConfig(awsConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.Retryer = aws.NopRetryer{} // the probe loop retries
	})
	return func(ctx context.Context) error {
		_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		return err
	}
}

// javaPath prefers $JAVA_HOME, as Java tooling does, then PATH.
func javaPath() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("DynamoDB Local needs Java 17 or later: %w", err)
	}
	return p, nil
}

// DynamoClient returns a DynamoDB client for a local endpoint, with dummy
// credentials: DynamoDB Local checks that requests are signed, not by whom.
func DynamoClient(_ context.Context, endpoint string) (*dynamodb.Client, error) {
	if err := checkEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("dynamodb client: %w", err)
	}
	return dynamodb.NewFromConfig(awsConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}), nil
}

// StreamsClient returns a DynamoDB Streams client for a local endpoint:
// DynamoDB Local serves the Streams API on the same port.
func StreamsClient(_ context.Context, endpoint string) (*dynamodbstreams.Client, error) {
	if err := checkEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("dynamodb streams client: %w", err)
	}
	return dynamodbstreams.NewFromConfig(awsConfig(), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}), nil
}

// awsConfig is built by hand rather than with config.LoadDefaultConfig so
// nothing on the machine (AWS_PROFILE, ~/.aws, AWS_ENDPOINT_URL) can point a
// local client elsewhere or make it fail.
func awsConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("local", "local", "")),
	}
}

func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q: want a URL such as http://127.0.0.1:8000", endpoint)
	}
	return nil
}
