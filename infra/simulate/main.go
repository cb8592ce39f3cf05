// Command simulate plays the personas of a persona file through a nurture
// program for months, on the real product (DynamoDB Local and SES local,
// started here in memory on free ports, and stopped at the end), and
// prints per persona the emails it got, what it did with them, its score
// month by month and when it crossed each threshold, then who reached each
// threshold and when. Try a scoring or track change with it before you
// deploy it.
//
//	go run ./infra/simulate                                  # program.yaml and personas.yaml
//	go run ./infra/simulate -program my.yaml -personas p.yaml -format csv
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/simulate/simulation"
	"github.com/leadnurture/nurture/shared/program"
)

func main() {
	programPath := flag.String("program", "", "the program file (default: shared/program/program.yaml as compiled in)")
	personasPath := flag.String("personas", "shared/program/personas.yaml", "the persona file")
	format := flag.String("format", "text", "text, or csv for a spreadsheet")
	months := flag.Int("months", 0, "how many months to simulate (default: the persona file's)")
	flag.Parse()
	if flag.NArg() > 0 || (*format != "text" && *format != "csv") {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *programPath, *personasPath, *format, *months, os.Stdout); err != nil {
		var verr *program.ValidationError
		if errors.As(err, &verr) {
			fmt.Fprintln(os.Stderr, verr.Error())
			fmt.Fprintf(os.Stderr, "%d problem(s); nothing was simulated\n", len(verr.Problems))
		} else {
			fmt.Fprintln(os.Stderr, "simulate:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, programPath, personasPath, format string, months int, out io.Writer) error {
	prog, err := loadProgram(programPath)
	if err != nil {
		return err
	}
	personas, err := program.LoadPersonas(personasPath, prog)
	if err != nil {
		return err
	}
	if months > 0 {
		personas.Months = months
	}
	began := time.Now()
	setup, stopServers, err := servers(ctx)
	if err != nil {
		return err
	}
	defer stopServers()
	setup.Program, setup.Personas, setup.Table = prog, personas, "nurture-simulation"
	res, err := simulation.Run(ctx, setup)
	if err != nil {
		return err
	}
	if format == "csv" {
		err = res.WriteCSV(out)
	} else {
		err = res.WriteText(out)
	}
	fmt.Fprintf(os.Stderr, "simulated %d months of %d personas in %s (%d scheduler ticks)\n",
		personas.RunMonths(), len(personas.Personas), time.Since(began).Round(100*time.Millisecond), res.Ticks)
	return err
}

// loadProgram reads the program file, or the one compiled in.
func loadProgram(path string) (*program.Program, error) {
	if path == "" {
		return program.Default()
	}
	return program.Load(path)
}

// servers starts DynamoDB Local (in memory) and SES local on free ports.
func servers(ctx context.Context) (simulation.Setup, func(), error) {
	var s simulation.Setup
	pair, err := localstack.StartPair(ctx, &localstack.DynamoOptions{}, &localstack.SESOptions{})
	if err != nil {
		return s, nil, fmt.Errorf("%w (make simulate installs them; or run make deps)", err)
	}
	stop := func() {
		if err := pair.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "simulate:", err)
		}
	}
	if s.DynamoDB, err = localstack.DynamoClient(ctx, pair.DynamoDB.Endpoint()); err != nil {
		stop()
		return s, nil, err
	}
	if s.Streams, err = localstack.StreamsClient(ctx, pair.DynamoDB.Endpoint()); err != nil {
		stop()
		return s, nil, err
	}
	if s.SES, err = localstack.SESClient(ctx, pair.SES.Endpoint()); err != nil {
		stop()
		return s, nil, err
	}
	return s, stop, nil
}
