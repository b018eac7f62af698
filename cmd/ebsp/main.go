// Command ebsp is the single binary of ebsp: a national biometric node, the
// partnership exchange between nodes, and the tools around them (evaluation,
// interchange formats, synthetic data, the Proof-of-Concept report).
//
// Each subcommand lives in its own file and registers itself in commands, so
// that this file stays wiring only.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
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

// usage lists the commands; on standard output when asked for (help, -h),
// on standard error after a mistake.
func usage(w io.Writer) {
	fmt.Fprint(w, "usage: ebsp <command> [arguments]\n       ebsp --version\n\ncommands:\n")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\n'ebsp <command> -h' or 'ebsp help <command>' explains a command.")
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func main() { os.Exit(run(os.Args[1:])) }

// run is the whole program: the command named by args[0] with the rest.
func run(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(os.Stdout)
		return 0
	case "help":
		if len(args) > 1 {
			// ebsp help CMD [SUB] is ebsp CMD [SUB] -h.
			return run(append(args[1:], "-h"))
		}
		usage(os.Stdout)
		return 0
	case "-version", "--version":
		return printVersion()
	case completeCommand:
		return complete(args[1:])
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "ebsp: unknown command %q\n\n", args[0])
		usage(os.Stderr)
		return 2
	}
	return c.run(args[1:])
}

// fail prints an error for a command, on one line, and returns exit code 1.
func fail(cmd string, err error) int {
	fmt.Fprintf(os.Stderr, "ebsp %s: %s\n", cmd, oneLine(err.Error()))
	return 1
}

// oneLine joins the lines of a multi-line error (errors.Join, or a driver
// listing each address it tried) with "; ", dropping repeated lines, so
// that every error is one line in a terminal and in a log.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !slices.Contains(parts, l) {
			parts = append(parts, l)
		}
	}
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i == 0:
		case strings.HasSuffix(parts[i-1], ":"):
			b.WriteString(" ") // "failed to connect: addr1 ...; addr2 ..."
		default:
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// newFlagSet makes a command's flag set with the one help shape every
// command shares: text (first line "usage: ebsp ...", then what the command
// does), then "flags:" and the flags. -h prints it on standard output and
// the command exits 0; a flag error prints the error and the help on
// standard error and the command exits 2 (parseFlags, parseArgs).
func newFlagSet(name, text string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, strings.TrimRight(text, "\n"))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseHelp runs parse (a flag set's Parse) with the set's output held, so
// that the help asked for with -h goes to standard output and anything else
// to standard error. ok false means the command should exit with code.
// When a shell completion is being worked out (capture), nothing is parsed:
// the flag set is recorded for it.
func parseHelp(fs *flag.FlagSet, parse func() error) (ok bool, code int) {
	if capture != nil {
		capture.flags = fs
		return false, 0
	}
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := parse()
	fs.SetOutput(nil)
	if err == nil {
		return true, 0
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Stdout.Write(buf.Bytes())
		return false, 0
	}
	os.Stderr.Write(buf.Bytes())
	return false, 2
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
	if ok, code := parseHelp(fs, func() (err error) { pos, err = parseInterspersed(fs, args); return err }); !ok {
		return nil, false, code
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

// dispatch runs the sub-subcommand named by args[0] (e.g. "verify" of
// `ebsp audit verify`). text is the group's help, in the shape of
// newFlagSet's: printed on standard output for -h (exit 0), on standard
// error when no or an unknown subcommand is named (exit 2).
func dispatch(cmd, text string, args []string, subs map[string]func([]string) int) int {
	if capture != nil && len(args) == 0 {
		capture.subs = slices.Sorted(maps.Keys(subs))
		return 0
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		w := os.Stdout
		if len(args) == 0 {
			w = os.Stderr
		}
		fmt.Fprintln(w, strings.TrimRight(text, "\n"))
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if run, ok := subs[args[0]]; ok {
		return run(args[1:])
	}
	fmt.Fprintf(os.Stderr, "ebsp %s: unknown subcommand %q\n\n%s\n", cmd, args[0], strings.TrimRight(text, "\n"))
	return 2
}

// runSub runs the sub-subcommand args[0] names when it is one of subs, for
// commands that also run without one (ebsp node, ebsp node hash-token).
func runSub(args []string, subs map[string]func([]string) int) (code int, ran bool) {
	if capture != nil && len(args) == 0 {
		capture.subs = slices.Sorted(maps.Keys(subs))
	}
	if len(args) > 0 {
		if run, ok := subs[args[0]]; ok {
			return run(args[1:]), true
		}
	}
	return 0, false
}

// parseFlags parses a command's flags; when it returns false the command
// exits with code (0 after -h, 2 for a bad flag).
func parseFlags(fs *flag.FlagSet, args []string) (ok bool, code int) {
	return parseHelp(fs, func() error { return fs.Parse(args) })
}
