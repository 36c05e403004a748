package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	os.Exit(exitCode(run(os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// command is one subcommand: its name, a one-line summary, and the function
// that parses its flags and runs it.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "train the runs of sweep files into the database", cmdRun},
		{"plan", "validate sweep files and list the runs they expand to", cmdPlan},
		{"ls", "list recorded sweeps with counts of runs by status", cmdLs},
		{"runs", "table of runs with their final test metrics", cmdRuns},
		{"show", "one run's settings and per-epoch metrics", cmdShow},
		{"export", "write the result views as CSV or JSON", cmdExport},
		{"report", "write a self-contained HTML report with figures", cmdReport},
		{"serve", "live web UI over the database, read-only (localhost)", cmdServe},
		{"gc", "delete stored checkpoints to make the database small", cmdGC},
		{"copy", "copy sweeps, runs, epochs and checkpoints between databases (SQLite, PostgreSQL)", cmdCopy},
		{"train", "train one run and print its metrics, without a database", cmdTrain},
		{"predict", "read pictures of digits and print what a trained model sees", cmdPredict},
	}
}

// run is the whole program: it dispatches to a subcommand. SIGINT and
// SIGTERM cancel the context, which long commands honour.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		if len(args) == 0 {
			return usageError{errors.New("no command given")}
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return usageError{fmt.Errorf("unknown command %q (commands: %s; see sweep --help)", args[0], strings.Join(names, ", "))}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `sweep trains grids of MNIST digit+sum models and compares them.

Usage:
  sweep <command> [flags] [args]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'sweep <command> --help' for a command's flags and an example.

Typical session:
  sweep plan configs/*.toml          # check the files, count the runs
  sweep run configs/*.toml           # train what is not done yet (resumable)
  sweep runs --sort test_r2          # compare
  sweep report -o report.html        # figures in one offline HTML file
  sweep serve                        # watch it live at http://127.0.0.1:8080/
  sqlite3 sweep.db 'select * from config_results'

Exit status: 0 all done, 1 some runs failed or were interrupted (or another
error), 2 bad usage or an invalid sweep file, 3 'sweep run --no-wait' left
runs that other live processes hold.
`)
}

// usageError marks bad command lines and invalid configs: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// runsFailedError marks a finished command some of whose runs failed or
// were interrupted: exit status 1, with the summary already printed.
type runsFailedError struct{ msg string }

func (e runsFailedError) Error() string { return e.msg }

// runsHeldError marks a 'sweep run --no-wait' that left runs other live
// processes hold: exit status 3.
type runsHeldError struct{ msg string }

func (e runsHeldError) Error() string { return e.msg }

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "sweep:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	var he runsHeldError
	if errors.As(err, &he) {
		return 3
	}
	return 1
}

// flagSet is a subcommand's flags with its help text.
type flagSet struct {
	*flag.FlagSet
	usageLine, help string
	db              *string // --db, if the command has it
}

// dbFlag defines --db. Its default, $SWEEP_DB or sweep.db, is filled in
// after parsing, so that --help never prints a URL from the environment
// (it may hold a password).
func (fs *flagSet) dbFlag() *string {
	fs.db = fs.String("db", "", dbHelp)
	return fs.db
}

// newFlags makes a subcommand's flag set. --help prints the usage line, the
// help text (with an example) and the flags to stdout.
func newFlags(name, usageLine, help string) *flagSet {
	fs := flag.NewFlagSet("sweep "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagSet{FlagSet: fs, usageLine: "sweep " + name + " " + usageLine, help: strings.TrimSpace(help)}
}

func (fs *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", fs.usageLine, fs.help)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parse parses args, printing help to stdout for --help and turning flag
// errors into usage errors. Flags may follow positional arguments
// (sweep run configs/*.toml -j 2).
func (fs *flagSet) parse(args []string, stdout io.Writer) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.printUsage(stdout)
				return err
			}
			return usageError{fmt.Errorf("%w (usage: %s; see --help)", err, fs.usageLine)}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if fs.db != nil && *fs.db == "" {
		*fs.db = defaultDB()
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

// wantArgs checks the number of positional arguments.
func (fs *flagSet) wantArgs(min, max int) error {
	if n := fs.NArg(); n < min || (max >= 0 && n > max) {
		return usageError{fmt.Errorf("wrong number of arguments (usage: %s; see --help)", fs.usageLine)}
	}
	return nil
}
