// Command ebsp is the single binary of ebsp: a national biometric node, the
// partnership exchange between nodes, and the tools around them (evaluation,
// interchange formats, synthetic data, the Proof-of-Concept report).
//
// Each subcommand lives in its own file and registers itself in commands, so
// that this file stays wiring only.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: run gets the arguments after the subcommand's
// name and returns the process exit code.
type command struct {
	summary string
	run     func(args []string) int
}

var commands = map[string]command{}

// register adds a subcommand; it is called from init functions.
func register(name, summary string, run func(args []string) int) {
	if _, dup := commands[name]; dup {
		panic("ebsp: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ebsp <command> [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\n'ebsp <command> -h' explains a command.")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "ebsp: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	os.Exit(c.run(os.Args[2:]))
}

// fail prints an error for a command and returns exit code 1.
func fail(cmd string, err error) int {
	fmt.Fprintf(os.Stderr, "ebsp %s: %s\n", cmd, strings.TrimSpace(err.Error()))
	return 1
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments (flag.Parse alone stops at the first one) and
// returns the positional ones.
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

// parseArgs parses flags and positional arguments in any order
// (parseInterspersed) and checks the positional ones with valid. When it
// returns ok false the command should exit with code: 0 after -h, 2 after a
// flag error or unwanted arguments (the usage is printed then).
func parseArgs(fs *flag.FlagSet, args []string, valid func(pos []string) bool) (pos []string, ok bool, code int) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, false, flagExit(err)
	}
	if !valid(pos) {
		fs.Usage()
		return nil, false, 2
	}
	return pos, true, 0
}

// nArgs accepts exactly n positional arguments.
func nArgs(n int) func([]string) bool { return func(pos []string) bool { return len(pos) == n } }

// printJSON writes v to standard output as indented JSON.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// emitJSON prints v as a command's JSON answer and returns the exit code:
// 0, or 1 when standard output cannot take it.
func emitJSON(cmd string, v any) int {
	if err := printJSON(v); err != nil {
		return fail(cmd, err)
	}
	return 0
}

// flagExit is the exit code for a flag parsing error: 0 after -h.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// dispatch runs the sub-subcommand named by args[0] (e.g. "verify" of
// `ebsp audit verify`), printing usage for none, -h, or an unknown name.
func dispatch(cmd string, usage func(), args []string, subs map[string]func([]string) int) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if run, ok := subs[args[0]]; ok {
		return run(args[1:])
	}
	fmt.Fprintf(os.Stderr, "ebsp %s: unknown subcommand %q\n", cmd, args[0])
	usage()
	return 2
}

// parseFlags parses a command's flags; when it returns false the command
// exits with code (0 after -h, 2 for a bad flag).
func parseFlags(fs *flag.FlagSet, args []string) (ok bool, code int) {
	if err := fs.Parse(args); err != nil {
		return false, flagExit(err)
	}
	return true, 0
}
