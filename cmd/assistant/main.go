//go:build !js

// Command assistant is the developer tool of the assistant component SDK.
//
// Usage:
//
//	assistant sim [--addr 127.0.0.1:8800] [--component URL]
//	assistant validate [--channel web|sdk@5.1.1|miniprogram|NAME] [--json] [FILE|-]
//
// "assistant sim" is a local workspace simulator: it serves a host page that
// frames a component from a second local site (http://localhost:PORT for a
// workspace on 127.0.0.1, so that the browser runs it in its own process,
// as it runs a real workspace's component), receives the component's
// postMessage calls as a strict host would, renders accepted messages as the
// customer would see them and logs every refused one with the rule it
// breaks. Without --component it frames the Go WebAssembly example
// (examples/wasm-component), built on demand with the local Go toolchain.
// Its wsbridge demo (the page's "wsbridge" link, or /?demo=wsbridge)
// frames a page that only loads the wsbridge bridge script and sends from
// a form through a wsbridge.Hub in the sim, so both transports can be tried.
// The sim prints its URL with a secret, as Jupyter does: the first visit
// trades it for a cookie, and without it other programs on the machine get
// 403 (see simsecret.go).
//
// "assistant validate" checks wire strings (one JSON document per line, or
// one document over several lines) and prints each problem with its line
// number, field and rule. It exits 1 when any message is invalid or not
// allowed on the channel, 2 on bad usage or unreadable input, 0 otherwise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitProblem = 1 // a message is invalid or not allowed
	exitUsage   = 2 // bad flags, unreadable input, server failure
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  assistant sim [flags]        run the local workspace simulator
  assistant validate [flags] [FILE|-]
                               check wire strings, one per line
Run "assistant COMMAND -h" for the flags of a command.
`

// run is the whole command, testable in-process: it reads stdin, writes to
// stdout and stderr, stops when ctx is done and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "sim":
		return runSim(ctx, args[1:], stdout, stderr)
	case "validate":
		return runValidate(args[1:], stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "assistant: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, as in "validate msgs.jsonl --json", and returns the
// positional ones. A lone "-" is positional (standard input).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagExit is the exit code for a flag parsing error: the FlagSet
// (ContinueOnError) has already printed it with the usage; -h is no error.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}
