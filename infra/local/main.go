// Command local runs the whole product on one machine: DynamoDB Local (data
// kept under the cache folder), aws-ses-v2-local (its page shows the mail),
// and an HTTP server that plays API Gateway for the same handlers the
// Lambdas use. Ctrl-C stops everything.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/leadnurture/nurture/infra/local/server"
	"github.com/leadnurture/nurture/infra/local/sestrack"
	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/delay"
	"github.com/leadnurture/nurture/infra/localstack/streams"
	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/crm"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/report"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/sales/slack"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func envPort(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("%s=%q: want a port number", name, v)
	}
	return n, nil
}

func run(ctx context.Context) error {
	apiPort, err := envPort("PORT", 3000)
	if err != nil {
		return err
	}
	dynamoPort, err := envPort("DYNAMODB_PORT", 8000)
	if err != nil {
		return err
	}
	sesPort, err := envPort("SES_PORT", 8005)
	if err != nil {
		return err
	}
	start, err := localClock()
	if err != nil {
		return err
	}
	// The website's origins, as the SiteOrigins parameter lists them in AWS.
	origins, err := config.ParseOrigins(os.Getenv("SITE_ORIGINS"))
	if err != nil {
		return err
	}
	prog, err := program.Default()
	if err != nil {
		return err
	}
	cache, err := localstack.CacheDir()
	if err != nil {
		return err
	}
	dataDir := os.Getenv("LOCAL_DATA_DIR")
	if dataDir == "" {
		dataDir = filepath.Join(cache, "data")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))

	// Bind the API port first: a port in use should fail before the
	// emulators start.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort)))
	if err != nil {
		return fmt.Errorf("listen on PORT %d: %w", apiPort, err)
	}
	defer ln.Close()

	// LOCAL_DYNAMODB=memory keeps the table in memory, gone at Ctrl-C:
	// several times faster than the file, for make drill and throw-away
	// runs.
	dynamoDir := dataDir
	if os.Getenv("LOCAL_DYNAMODB") == "memory" {
		dynamoDir = ""
	}
	dynamo, err := localstack.StartDynamoDB(ctx, localstack.DynamoOptions{Port: dynamoPort, DataDir: dynamoDir, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer dynamo.Stop()
	sesServer, err := localstack.StartSES(ctx, localstack.SESOptions{Port: sesPort, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer sesServer.Stop()

	clk := &clock.Offset{}
	if start != nil {
		clk.Set(*start)
	}
	apiURL := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	cfg := config.Config{
		TableName:        envOr("TABLE_NAME", "nurture-local"),
		DynamoDBEndpoint: dynamo.Endpoint(),
		SESEndpoint:      sesServer.Endpoint(),
		DueShards:        store.DefaultDueShards,
		MinFillTime:      lead.DefaultMinFillTime,
		PublicBaseURL:    apiURL,
		ConfigurationSet: "nurture-local",
		SiteOrigins:      origins,
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return err
	}
	db := cfg.DynamoDB(awsCfg)
	if err := store.EnsureTable(ctx, db, cfg.TableName); err != nil {
		return err
	}
	// The CRM's webhook, as the events function reads it (EVENTS_URL and
	// EVENTS_SECRET here); without it no lifecycle events are recorded.
	eventsURL, eventsSecret, err := config.LoadEventsWebhook(ctx, cfg)
	if err != nil {
		return err
	}
	var receiver *crm.Receiver
	if eventsURL != "" {
		if receiver, err = crm.NewReceiver(eventsURL, eventsSecret); err != nil {
			return err
		}
	}
	keys, err := localKeys(dataDir)
	if err != nil {
		return err
	}
	signer := keys.Signer
	mailer := ses.New(cfg.SES(awsCfg), cfg.ConfigurationSet)
	rate, err := mailer.MaxSendRate(ctx)
	if err != nil {
		return err
	}
	// What the configuration set does in AWS: tracked links and the open
	// pixel, and Send, Delivery, Click and Open events for the engagement
	// handler (Publish, set once the product is built).
	// The business metrics' EMF lines go to standard output with the log,
	// as in Lambda; GET /_local/metrics sums them up.
	rec := metrics.New(os.Stdout)
	tracker := &sestrack.Tracker{Mailer: mailer, BaseURL: apiURL, ConfigurationSet: cfg.ConfigurationSet, Clock: clk, Log: log}
	parts := app.Parts{
		Config:  cfg,
		Program: prog,
		Store: store.New(db, cfg.TableName, store.Options{
			DueShards: cfg.DueShards, ActivityRetention: prog.ActivityRetention(), LifecycleEvents: receiver != nil,
		}),
		Mailer: tracker,
		// Sales alerts go straight to SES local, not through the tracking
		// stand-in: sales reading an alert is not the lead's engagement.
		AlertMailer: ses.New(cfg.SES(awsCfg), ""),
		Events:      receiver,
		Signer:      signer,
		LeadIDs:     keys.LeadIDs,
		Rate:        rate,
		Clock:       clk,
		Log:         log,
		Metrics:     rec,
	}
	if u := os.Getenv("WEBHOOK_URL"); u != "" {
		parts.Webhook = slack.Outbox(u)
	}
	// The settle time's delay queue (SQS in AWS), on the local clock: a
	// click-caused alert goes out when its settle time ends, also when
	// the clock jumps past it (POST /_local/clock, /_local/next).
	settle := &delay.Queue{Clock: clk, Log: log}
	parts.Delayer = settle
	a, err := app.New(parts)
	if err != nil {
		return err
	}
	settle.Handler = a.Wakeups.Handle
	go func() {
		if err := settle.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("settle delay queue stopped", "error", err.Error())
		}
	}()
	tracker.Publish = a.HandleSESEvent
	// The alerts function behind the table's stream, polled as Lambda's
	// event source mapping polls it.
	streamsClient, err := localstack.StreamsClient(ctx, dynamo.Endpoint())
	if err != nil {
		return err
	}
	go func() {
		if err := streams.Outbox(db, streamsClient, cfg.TableName, a.Outbox, log).Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("alerts stream stopped", "error", err.Error())
		}
	}()
	// And the events function behind the same stream, with a CRM.
	if receiver != nil {
		go func() {
			if err := streams.Outbox(db, streamsClient, cfg.TableName, a.EventsOutbox, log).Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("events stream stopped", "error", err.Error())
			}
		}()
	}
	handler := server.New(server.Options{
		Program:     prog,
		Clock:       clk,
		Tick:        func(ctx context.Context, at time.Time) (nurture.Report, error) { return tickAll(ctx, a, at, log) },
		NextDue:     a.Store.NextDue,
		SESEvent:    a.HandleSESEvent,
		Tracking:    tracker.Handler(),
		Functions:   map[string]server.Handler{"capture": a.Forms.Handle, "links": a.LinkRoutes.Handle},
		SiteOrigins: origins,
		Links: []server.Link{
			{Name: "Sent mail (aws-ses-v2-local)", URL: sesServer.Endpoint()},
			{Name: "DynamoDB Local endpoint", URL: dynamo.Endpoint()},
			{Name: "Business metrics (the CloudWatch EMF lines in the log, summed up)", URL: apiURL + "/_local/metrics"},
		},
		Metrics: rec.Totals,
		Results: func(base string) string { return report.LinkURL(signer, base, clk.Now()) },
		Inboxes: func(base string) []server.Link {
			var links []server.Link
			for _, o := range prog.Owners() {
				links = append(links, server.Link{Name: o.Address, URL: sales.InboxURL(signer, base, o.Address, clk.Now())})
			}
			return links
		},
		Log: log,
	})
	if every := tickInterval(); every > 0 {
		go tickEvery(ctx, every, clk, a, log)
	}
	httpServer := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()

	fmt.Printf("\nLead nurturing runs locally. Ctrl-C stops it.\n"+
		"  Demo page (website forms):  %s/\n"+
		"  Sent mail (SES local):      %s\n"+
		"  DynamoDB Local:             %s  (table %s, data in %s)\n"+
		"  Local routes:               POST %s/_local/next (send the next email), POST %s/_local/tick, POST %s/_local/clock {\"advance\":\"168h\"}, POST %s/_local/ses-events\n"+
		"  Clicks and opens in mail:   %s/_local/click, %s/_local/open (tracked as SES would)\n"+
		"  Sales inboxes:              on the demo page, under Sales (signed links, one per routing address)\n"+
		"  Program results:            on the demo page, under Results (a signed link); make report prints them\n"+
		"  Business metrics:           %s/_local/metrics (from the EMF lines with \"_aws\" in the log below)\n"+
		"  Hosted form pages:          %s/forms/{formId} (?embed=1 for an iframe); the forms' script %s/forms.js\n"+
		"  Website origins (CORS):     %s\n"+
		"  CRM lifecycle events:       %s\n\n",
		apiURL, sesServer.Endpoint(), dynamo.Endpoint(), cfg.TableName, dataDir, apiURL, apiURL, apiURL, apiURL, apiURL, apiURL,
		apiURL, apiURL, apiURL, siteOrigins(origins), crmEvents(eventsURL))

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	fmt.Println("\nstopping ...")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		// Shutdown waits for every connection to go idle, and a browser's
		// spare connections (opened ahead, never used) only count as idle
		// after 5s: close whatever is left once the grace period is over.
		if err := httpServer.Close(); err != nil {
			return fmt.Errorf("stop http server: %w", err)
		}
	}
	return nil
}

// localClock is where the local clock starts (LOCAL_CLOCK, RFC 3339, e.g.
// 2026-12-05T03:00:00+01:00 for a Saturday night in Berlin); unset, it
// starts at the real time. Time flows on from there either way.
func localClock() (*time.Time, error) {
	v := os.Getenv("LOCAL_CLOCK")
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("LOCAL_CLOCK=%q: want an RFC 3339 time such as 2026-12-05T03:00:00+01:00", v)
	}
	return &t, nil
}

// tickInterval is how often make run ticks the scheduler by itself
// (TICK_INTERVAL, default 1m; 0 turns it off, for tests that tick by hand).
func tickInterval() time.Duration {
	d, err := time.ParseDuration(envOr("TICK_INTERVAL", "1m"))
	if err != nil {
		return time.Minute
	}
	return d
}

func tickEvery(ctx context.Context, every time.Duration, clk clock.Clock, a *app.App, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := tickAll(ctx, a, clk.Now(), log); err != nil && ctx.Err() == nil {
				log.Error("scheduled tick failed", "error", err.Error())
			}
		}
	}
}

// localKeys keeps a random signing key and a random lead id key in the data
// folder (the file token-key, as the parameter holds them in AWS), so
// links in mail sent by an earlier make run keep working and the stored
// leads keep their ids. A folder from before lead ids were keyed gets a
// lead id key added; its leads are not migrated (README: wipe the data).
func localKeys(dataDir string) (app.Keys, error) {
	path := filepath.Join(dataDir, "token-key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b, err = []byte("local:"+randomSecret()), nil
	}
	if err != nil {
		return app.Keys{}, fmt.Errorf("read token key: %w", err)
	}
	setting := strings.TrimSpace(string(b))
	k, err := token.Parse(setting)
	if err != nil {
		return app.Keys{}, fmt.Errorf("%s: %w", path, err)
	}
	if k.LeadID == nil {
		setting += "," + token.LeadIDKeyID + ":" + randomSecret()
	}
	if setting != strings.TrimSpace(string(b)) {
		if err := os.WriteFile(path, []byte(setting), 0o600); err != nil {
			return app.Keys{}, fmt.Errorf("save token key: %w", err)
		}
	}
	return app.LoadKeys(config.Config{TokenKeys: setting})
}

// randomSecret is 256 random bits in base64.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.StdEncoding.EncodeToString(b)
}

// crmEvents says where the lifecycle events go, without the URL's path,
// which may carry the receiver's token.
func crmEvents(rawURL string) string {
	if rawURL == "" {
		return "off; EVENTS_URL=https://... EVENTS_SECRET=... sends them, signed (docs/crm.md)"
	}
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Scheme + "://" + u.Host + "/..."
	}
	return "to " + host + " (EVENTS_URL), signed with EVENTS_SECRET"
}

// siteOrigins says which website origins SITE_ORIGINS lists.
func siteOrigins(o config.Origins) string {
	if len(o) == 0 {
		return "none; SITE_ORIGINS=http://127.0.0.1:8080,... lets pages there fetch the forms' answers and frame the hosted pages"
	}
	return strings.Join(o, ", ") + " (SITE_ORIGINS)"
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// tickAll is what the scheduler and the report functions do at at, one
// after the other: the nurture tick, then the results' rollup and the
// weekly digest (which lands in the mail viewer on Monday mornings).
func tickAll(ctx context.Context, a *app.App, at time.Time, log *slog.Logger) (nurture.Report, error) {
	rep, err := a.Tick(ctx, at)
	if rerr := a.RunReport(ctx, at); rerr != nil && ctx.Err() == nil {
		log.Error("results rollup failed", "error", rerr.Error())
	}
	return rep, err
}
