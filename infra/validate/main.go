// Command validate checks a nurture program file and lists every problem
// with its line, column and what to write instead, so marketing and sales can
// check an edit before it is committed.
//
//	go run ./infra/validate                 # the program compiled into the functions
//	go run ./infra/validate path/to/file.yaml
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/leadnurture/nurture/shared/program"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: validate [program.yaml]\n\nWithout a path it checks shared/program/program.yaml as compiled in.\n")
	}
	flag.Parse()
	if flag.NArg() > 1 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(flag.Arg(0)))
}

func run(path string) int {
	name := path
	var (
		p   *program.Program
		err error
	)
	if path == "" {
		// go run compiles the file on disk into the binary, so the embedded
		// copy is the one being edited.
		name = program.DefaultName
		p, err = program.Default()
	} else {
		p, err = program.Load(path)
	}
	if err != nil {
		var verr *program.ValidationError
		if errors.As(err, &verr) {
			fmt.Fprintln(os.Stderr, verr.Error())
			fmt.Fprintf(os.Stderr, "%s: %d problem(s)\n", name, len(verr.Problems))
		} else {
			fmt.Fprintf(os.Stderr, "validate: %v\n", err)
		}
		return 1
	}
	fmt.Printf("%s: ok (%d assets, %d forms, %d tracks)\n", name, len(p.Assets), len(p.Forms), len(p.Tracks))
	return 0
}
