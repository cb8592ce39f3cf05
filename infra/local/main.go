// Command local runs the whole product on one machine: DynamoDB Local (data
// kept under the cache folder), aws-ses-v2-local (its page shows the mail),
// and an HTTP server that plays API Gateway for the same handlers the
// Lambdas use. Ctrl-C stops everything.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/leadnurture/nurture/infra/local/server"
	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
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

	dynamo, err := localstack.StartDynamoDB(ctx, localstack.DynamoOptions{Port: dynamoPort, DataDir: dataDir, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer dynamo.Stop()
	ses, err := localstack.StartSES(ctx, localstack.SESOptions{Port: sesPort, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer ses.Stop()

	cfg := config.Config{
		TableName:        envOr("TABLE_NAME", "nurture-local"),
		DynamoDBEndpoint: dynamo.Endpoint(),
		SESEndpoint:      ses.Endpoint(),
		DueShards:        8,
		MinFillTime:      lead.DefaultMinFillTime,
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return err
	}
	db := cfg.DynamoDB(awsCfg)
	if err := store.EnsureTable(ctx, db, cfg.TableName); err != nil {
		return err
	}
	clk := &clock.Offset{}
	st := store.New(db, cfg.TableName, store.Options{DueShards: cfg.DueShards, ActivityRetention: time.Duration(prog.Retention.ActivityDays) * 24 * time.Hour})
	capture := &httpapi.Capture{
		Capturer: &lead.Capturer{Program: prog, Store: st, Clock: clk, MinFillTime: cfg.MinFillTime},
		Log:      log,
	}
	apiURL := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	handler := server.New(server.Options{
		Program:   prog,
		Clock:     clk,
		Functions: map[string]server.Handler{"capture": capture.Handle},
		Links: []server.Link{
			{Name: "Sent mail (aws-ses-v2-local)", URL: ses.Endpoint()},
			{Name: "DynamoDB Local endpoint", URL: dynamo.Endpoint()},
		},
		Log: log,
	})
	httpServer := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()

	fmt.Printf("\nLead nurturing runs locally. Ctrl-C stops it.\n"+
		"  Demo page (website forms):  %s/\n"+
		"  Sent mail (SES local):      %s\n"+
		"  DynamoDB Local:             %s  (table %s, data in %s)\n"+
		"  Local routes:               POST %s/_local/tick, POST %s/_local/clock {\"advance\":\"168h\"}, POST %s/_local/ses-events\n\n",
		apiURL, ses.Endpoint(), dynamo.Endpoint(), cfg.TableName, dataDir, apiURL, apiURL, apiURL)

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
		return fmt.Errorf("stop http server: %w", err)
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
