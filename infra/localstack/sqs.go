package localstack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// motoServer is moto's server in the venv make deps installs it into.
var motoServer = filepath.Join("venv", "moto", "bin", "moto_server")

// SQSOptions configures StartSQS.
type SQSOptions struct {
	// Port to listen on (127.0.0.1 only); 0 picks a free one.
	Port int
	// Log receives the server's output, if set.
	Log io.Writer
}

const sqsStartTimeout = 90 * time.Second

// StartSQS starts the SQS emulator (moto's server) from the cache and
// returns once it answers. Only the settle queue's adapter needs it, so it
// is started by the tests that use it, not with DynamoDB Local and SES.
func StartSQS(ctx context.Context, o SQSOptions) (*Server, error) {
	dir, err := cacheDir()
	if err != nil {
		return nil, fmt.Errorf("start sqs emulator: %w", err)
	}
	bin := filepath.Join(dir, motoServer)
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("start sqs emulator: not installed in %s (missing %s): run make deps", dir, motoServer)
	}
	s, err := startOnPort(ctx, "127.0.0.1", o.Port, func(port int) spec {
		endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
		return spec{
			name:     "sqs emulator",
			path:     bin,
			args:     []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)},
			dir:      dir,
			port:     port,
			endpoint: endpoint,
			log:      o.Log,
			timeout:  sqsStartTimeout,
			ready:    sqsReady(endpoint),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("start sqs emulator: %w", err)
	}
	return s, nil
}

func sqsReady(endpoint string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/moto-api/", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

// SQSClient returns an SQS client for a local endpoint, signing with dummy
// credentials.
func SQSClient(endpoint string) (*sqs.Client, error) {
	if err := checkEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("sqs client: %w", err)
	}
	return sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}), nil
}
