// Package config reads the functions' settings from the environment, once,
// at start-up.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/leadnurture/nurture/shared/store"
)

// Config holds every setting a function reads from its environment.
type Config struct {
	TableName string
	// DynamoDBEndpoint and SESEndpoint point the SDK at the local stack; empty in AWS.
	DynamoDBEndpoint string
	SESEndpoint      string
	// DueShards is how many partitions the due index is spread over.
	DueShards int
	// MinFillTime is the least time a human takes to fill in a form.
	MinFillTime time.Duration
	LogLevel    slog.Level
	// PublicBaseURL is the API's public URL; links in emails point at it.
	PublicBaseURL string
	// ConfigurationSet is the SES configuration set that publishes events.
	ConfigurationSet string
	// WebhookURL, when set, receives every sales alert (Slack-compatible).
	WebhookURL string
	// TokenKeys signs and verifies links ("id:base64,id:base64", newest first).
	TokenKeys string
	// TokenKeysParameter names the SSM Parameter Store SecureString that
	// holds TokenKeys in AWS; LoadTokenKeys reads it when TokenKeys is empty.
	TokenKeysParameter string
	// BotWindow: opens and clicks this soon after delivery are a scanner's.
	BotWindow time.Duration
}

// Load reads the environment. Missing required settings are reported
// together, so a misconfigured deployment fails at start with one message.
func Load() (Config, error) {
	var errs []error
	c := Config{
		TableName:        os.Getenv("TABLE_NAME"),
		DynamoDBEndpoint: os.Getenv("DYNAMODB_ENDPOINT"),
		SESEndpoint:      os.Getenv("SES_ENDPOINT"),
		DueShards:        store.DefaultDueShards,
		MinFillTime:      2 * time.Second,
	}
	c.PublicBaseURL = strings.TrimRight(os.Getenv("PUBLIC_BASE_URL"), "/")
	c.ConfigurationSet = os.Getenv("SES_CONFIGURATION_SET")
	c.WebhookURL = os.Getenv("WEBHOOK_URL")
	c.TokenKeys = os.Getenv("TOKEN_KEYS")
	c.TokenKeysParameter = os.Getenv("TOKEN_KEYS_PARAMETER")
	if c.PublicBaseURL != "" {
		if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("PUBLIC_BASE_URL=%q: want an absolute URL such as https://api.example.com", c.PublicBaseURL))
		}
	}
	if c.TableName == "" {
		errs = append(errs, errors.New("TABLE_NAME is not set"))
	}
	if v := os.Getenv("DUE_SHARDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			errs = append(errs, fmt.Errorf("DUE_SHARDS=%q: want a whole number from 1 to 100", v))
		}
		c.DueShards = n
	}
	if v := os.Getenv("MIN_FILL_TIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("MIN_FILL_TIME=%q: want a duration such as 2s", v))
		}
		c.MinFillTime = d
	}
	if v := os.Getenv("BOT_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("BOT_WINDOW=%q: want a duration such as 30s", v))
		}
		c.BotWindow = d
	}
	if v := os.Getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v))
		}
	}
	return c, errors.Join(errs...)
}

// Require reports the settings a function needs that are empty.
func (c Config) Require(names ...string) error {
	values := map[string]string{
		"PUBLIC_BASE_URL": c.PublicBaseURL, "SES_CONFIGURATION_SET": c.ConfigurationSet, "TOKEN_KEYS": c.TokenKeys,
	}
	var errs []error
	for _, n := range names {
		switch {
		case values[n] != "":
		case n == "TOKEN_KEYS":
			errs = append(errs, errors.New("TOKEN_KEYS is not set (in AWS, set TOKEN_KEYS_PARAMETER to the SSM SecureString parameter holding it)"))
		default:
			errs = append(errs, fmt.Errorf("%s is not set", n))
		}
	}
	return errors.Join(errs...)
}

// tokenKeysTimeout bounds the one Parameter Store read at start: Lambda
// gives a function's whole init phase 10 seconds.
const tokenKeysTimeout = 5 * time.Second

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
	awsCfg, err := c.AWS(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, tokenKeysTimeout)
	defer cancel()
	out, err := ssm.NewFromConfig(awsCfg).GetParameter(ctx, &ssm.GetParameterInput{
		Name:           aws.String(c.TokenKeysParameter),
		WithDecryption: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("TOKEN_KEYS_PARAMETER=%q: read the parameter: %w", c.TokenKeysParameter, err)
	}
	p := out.Parameter
	if p == nil || strings.TrimSpace(aws.ToString(p.Value)) == "" {
		return fmt.Errorf("TOKEN_KEYS_PARAMETER=%q: the parameter is empty", c.TokenKeysParameter)
	}
	if p.Type != ssmtypes.ParameterTypeSecureString {
		return fmt.Errorf("TOKEN_KEYS_PARAMETER=%q: the parameter is a %s; store signing keys as a SecureString", c.TokenKeysParameter, p.Type)
	}
	c.TokenKeys = strings.TrimSpace(aws.ToString(p.Value))
	return nil
}

// Logger returns the JSON logger every function uses.
func (c Config) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: c.LogLevel}))
}

// AWS loads the SDK configuration; with a local endpoint set and no
// credentials in the environment, dummy credentials are used, since the
// local servers accept any.
func (c Config) AWS(ctx context.Context) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	local := c.DynamoDBEndpoint != "" || c.SESEndpoint != ""
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
