// Package config reads the functions' settings from the environment, once,
// at start-up.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/store"
)

// Config holds every setting a function reads from its environment.
type Config struct {
	TableName string
	// DynamoDBEndpoint, SESEndpoint and SQSEndpoint point the SDK at the
	// local stack or a test's emulator; empty in AWS.
	DynamoDBEndpoint string
	SESEndpoint      string
	SQSEndpoint      string
	// DueShards is how many partitions the due index is spread over.
	DueShards int
	// MinFillTime is the least time a human takes to fill in a form.
	MinFillTime time.Duration
	LogLevel    slog.Level
	// PublicBaseURL is the API's public URL; links in emails point at it.
	PublicBaseURL string
	// ConfigurationSet is the SES configuration set that publishes events.
	ConfigurationSet string
	// TokenKeys signs and verifies links ("id:base64,id:base64", newest
	// first) and holds the lead id key ("lead-id:base64", app.LoadKeys).
	TokenKeys string
	// TokenKeysParameter names the SSM Parameter Store SecureString that
	// holds TokenKeys in AWS; LoadTokenKeys reads it when TokenKeys is empty.
	TokenKeysParameter string
	// BotWindow: opens and clicks this soon after delivery are a scanner's.
	BotWindow time.Duration
	// LifecycleEvents (LIFECYCLE_EVENTS=on) records the lifecycle events
	// for the CRM in the writes that change a lead; on only where the
	// events function has a CRM to deliver them to (EVENTS_PARAMETER).
	LifecycleEvents bool
	// SiteOrigins are the website's origins (SITE_ORIGINS, comma-separated):
	// they may frame the hosted form page. In AWS the same list is the HTTP
	// API's CORS configuration.
	SiteOrigins Origins
}

// Load reads the environment. Missing required settings are reported
// together, so a misconfigured deployment fails at start with one message.
func Load() (Config, error) {
	var errs []error
	c := Config{
		TableName:        os.Getenv("TABLE_NAME"),
		DynamoDBEndpoint: os.Getenv("DYNAMODB_ENDPOINT"),
		SESEndpoint:      os.Getenv("SES_ENDPOINT"),
		SQSEndpoint:      os.Getenv("SQS_ENDPOINT"),
		DueShards:        store.DefaultDueShards,
		MinFillTime:      2 * time.Second,
	}
	c.PublicBaseURL = strings.TrimRight(os.Getenv("PUBLIC_BASE_URL"), "/")
	c.ConfigurationSet = os.Getenv("SES_CONFIGURATION_SET")
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
	if v := os.Getenv("LIFECYCLE_EVENTS"); v != "" {
		if v != "on" && v != "off" {
			errs = append(errs, fmt.Errorf("LIFECYCLE_EVENTS=%q: want on or off", v))
		}
		c.LifecycleEvents = v == "on"
	}
	if v := os.Getenv("SITE_ORIGINS"); v != "" {
		o, err := ParseOrigins(v)
		if err != nil {
			errs = append(errs, err)
		}
		c.SiteOrigins = o
	}
	if v := os.Getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v))
		}
	}
	return c, errors.Join(errs...)
}

// SettleQueueURL returns the settle time's delay queue (SETTLE_QUEUE_URL):
// a click-caused alert's wake-up waits there until its settle time ends.
// Only the alerts function sends there, so it is no Config field every
// function would read; "" leaves settled alerts to the scheduler's tick.
func SettleQueueURL() (string, error) {
	v := os.Getenv("SETTLE_QUEUE_URL")
	if v == "" {
		return "", nil
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("SETTLE_QUEUE_URL=%q: want the queue's URL, e.g. https://sqs.eu-central-1.amazonaws.com/123456789012/settle", v)
	}
	return v, nil
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

// parameterTimeout bounds each Parameter Store read at start: Lambda gives
// a function's whole init phase 10 seconds.
const parameterTimeout = 4 * time.Second

// Logger returns the JSON logger every function uses.
func (c Config) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: c.LogLevel}))
}
