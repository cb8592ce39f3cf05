package config

// The AWS side of the settings: the SDK configuration, the clients built
// from it, and the signing keys read from Parameter Store.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// LoadTokenKeys reads TokenKeys from SSM Parameter Store (GetParameter with
// decryption) when TOKEN_KEYS is empty and TOKEN_KEYS_PARAMETER names a
// parameter; call it once at start, before Require("TOKEN_KEYS"). Lambda
// environment variables cannot hold ssm-secure references, and a key in a
// plain variable shows in the console and in every GetFunction answer, so
// the deployed functions get only the parameter's name. TOKEN_KEYS set
// directly wins (the local stack, the tests), and then nothing is read.
//
// The parameter must be a SecureString: a key stored in plain text is
// refused rather than used. Errors name the parameter, never its value.
func (c *Config) LoadTokenKeys(ctx context.Context) error {
	if c.TokenKeys != "" || c.TokenKeysParameter == "" {
		return nil
	}
	v, err := c.secureParameter(ctx, "TOKEN_KEYS_PARAMETER", c.TokenKeysParameter, "signing keys")
	c.TokenKeys = v
	return err
}

// LoadWebhookURL returns the URL of the sales alerts' webhook: WEBHOOK_URL
// when set (make run, the tests), else the SSM Parameter Store
// SecureString WEBHOOK_URL_PARAMETER names, read as LoadTokenKeys reads the
// keys; "" for email alerts only. The URL lets anyone post to the channel,
// so it never sits in a function's environment, and it is no Config field:
// only the alerts function posts, so only it reads the secret (the template
// tests hold the others off it). c gives the AWS settings.
func LoadWebhookURL(ctx context.Context, c Config) (string, error) {
	if u := os.Getenv("WEBHOOK_URL"); u != "" {
		return u, nil
	}
	name := os.Getenv("WEBHOOK_URL_PARAMETER")
	if name == "" {
		return "", nil
	}
	v, err := c.secureParameter(ctx, "WEBHOOK_URL_PARAMETER", name, "the webhook URL")
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(v, "https://") {
		return "", fmt.Errorf("WEBHOOK_URL_PARAMETER=%q: the parameter holds no https:// URL", name)
	}
	return v, nil
}

// LoadEventsWebhook returns where the CRM's lifecycle events go and the
// secret they are signed with: EVENTS_URL and EVENTS_SECRET when set (make
// run, the tests), else the SSM Parameter Store SecureString
// EVENTS_PARAMETER names, holding {"url": "https://...", "secret": "..."}
// (make events-webhook writes it), read at start like the signing keys;
// "" for no CRM. Both are secrets (the URL may carry a token, the secret
// forges events), so neither sits in an environment, and only the events
// function reads them. c gives the AWS settings.
func LoadEventsWebhook(ctx context.Context, c Config) (url, secret string, err error) {
	if u := os.Getenv("EVENTS_URL"); u != "" {
		secret = os.Getenv("EVENTS_SECRET")
		if secret == "" {
			return "", "", errors.New("EVENTS_URL is set but EVENTS_SECRET is not: events are always signed")
		}
		return u, secret, nil
	}
	name := os.Getenv("EVENTS_PARAMETER")
	if name == "" {
		return "", "", nil
	}
	v, err := c.secureParameter(ctx, "EVENTS_PARAMETER", name, "the events URL and secret")
	if err != nil {
		return "", "", err
	}
	var p struct {
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil || !strings.HasPrefix(p.URL, "https://") || p.Secret == "" {
		return "", "", fmt.Errorf(`EVENTS_PARAMETER=%q: the parameter holds no {"url": "https://...", "secret": "..."}`, name)
	}
	return p.URL, p.Secret, nil
}

// secureParameter reads one SecureString parameter at start. A parameter
// stored in plain text is refused rather than used; errors name the
// setting and the parameter, never the value.
func (c *Config) secureParameter(ctx context.Context, setting, name, what string) (string, error) {
	awsCfg, err := c.AWS(ctx)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, parameterTimeout)
	defer cancel()
	out, err := ssm.NewFromConfig(awsCfg).GetParameter(ctx, &ssm.GetParameterInput{
		Name:           aws.String(name),
		WithDecryption: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("%s=%q: read the parameter: %w", setting, name, err)
	}
	p := out.Parameter
	if p == nil || strings.TrimSpace(aws.ToString(p.Value)) == "" {
		return "", fmt.Errorf("%s=%q: the parameter is empty", setting, name)
	}
	if p.Type != ssmtypes.ParameterTypeSecureString {
		return "", fmt.Errorf("%s=%q: the parameter is a %s; store %s as a SecureString", setting, name, p.Type, what)
	}
	return strings.TrimSpace(aws.ToString(p.Value)), nil
}

// AWS loads the SDK configuration; with a local endpoint set and no
// credentials in the environment, dummy credentials are used, since the
// local servers accept any.
func (c Config) AWS(ctx context.Context) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	local := c.DynamoDBEndpoint != "" || c.SESEndpoint != "" || c.SQSEndpoint != ""
	if local && os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	if local && os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, awsconfig.WithRegion("us-east-1"))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}

// DynamoDB returns a client for the table, local or in AWS.
func (c Config) DynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if c.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(c.DynamoDBEndpoint)
		}
	})
}

// SES returns an SES v2 client, local or in AWS.
func (c Config) SES(cfg aws.Config) *sesv2.Client {
	return sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
		if c.SESEndpoint != "" {
			o.BaseEndpoint = aws.String(c.SESEndpoint)
		}
	})
}

// SQS returns an SQS client (the settle time's delay queue's), in AWS or
// on an emulator.
func (c Config) SQS(cfg aws.Config) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if c.SQSEndpoint != "" {
			o.BaseEndpoint = aws.String(c.SQSEndpoint)
		}
	})
}
