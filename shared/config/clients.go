package config

// The AWS side of the settings: the SDK configuration, the clients built
// from it, and the signing keys read from Parameter Store.

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
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
