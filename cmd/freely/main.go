// Command freely is the whole platform in one binary. main parses the command line, loads the
// configuration and hands over to internal/app; it holds no other logic.
//
// Each subcommand lives in its own file and registers itself in an init function, so adding
// one is adding one file:
//
//	func init() { register(command{name: "demo", summary: "...", run: runDemo}) }
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/freelylive/freely/internal/config"
	"github.com/freelylive/freely/internal/obs"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, inv invocation) error
}

// invocation is what a subcommand gets from the process, passed in so tests can run
// commands without touching the real environment.
type invocation struct {
	args    []string // arguments after the subcommand name
	stdout  io.Writer
	stderr  io.Writer
	environ []string
}

var commands []command

func register(c command) {
	commands = append(commands, c)
	slices.SortFunc(commands, func(a, b command) int { return strings.Compare(a.name, b.name) })
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "freely:", err)
		os.Exit(1)
	}
}

// run dispatches to the subcommand named by args[0].
func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, invocation{args: args[1:], stdout: stdout, stderr: stderr, environ: environ})
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Freely — self-hosted live streaming.\n\nUsage: freely <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'freely <command> -h' for a command's flags. Configuration: docs/configuration.md.")
}

// newFlagSet returns a flag set for a subcommand that reports errors instead of exiting.
func newFlagSet(name string, inv invocation) *flag.FlagSet {
	fs := flag.NewFlagSet("freely "+name, flag.ContinueOnError)
	fs.SetOutput(inv.stderr)
	return fs
}

// parse parses the flags and refuses stray positional arguments, which are nearly always a
// flag typed without its dashes.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// newLogger builds the process logger (on stderr) from the configuration and reports the
// configuration's warnings through it.
func newLogger(cfg *config.Config, inv invocation) (*slog.Logger, error) {
	logger, err := obs.NewLogger(inv.stderr, obs.LogOptions{Format: cfg.Log.Format, Level: cfg.Log.Level})
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings() {
		logger.Warn("configuration: " + w)
	}
	return logger, nil
}
