package main

import (
	"bytes"
	"github.com/ebsp/ebsp/internal/testneed"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// helpTargets lists every command and sub-subcommand, found the way the
// shell completion finds them, so a new command is checked without being
// listed here.
func helpTargets() [][]string {
	var out [][]string
	for _, name := range commandNames() {
		out = append(out, []string{name})
		for _, sub := range shape(name, nil).subs {
			out = append(out, []string{name, sub})
		}
	}
	return out
}

// TestHelpConvention: every command and subcommand answers -h on standard
// output, exits 0 and prints the same shape: "usage: ebsp CMD ..." first,
// "flags:" before its flags; a bad flag exits 2 with the usage on standard
// error.
func TestHelpConvention(t *testing.T) {
	bin := buildEbsp(t)
	targets := helpTargets()
	if len(targets) < 40 {
		t.Fatalf("found only %d commands and subcommands", len(targets))
	}
	for _, args := range targets {
		name := strings.Join(args, " ")
		cmd := exec.Command(bin, append(slices.Clone(args), "-h")...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("ebsp %s -h: %v (stderr %q)", name, err, stderr.String())
			continue
		}
		out := stdout.String()
		if stderr.Len() > 0 {
			t.Errorf("ebsp %s -h wrote to standard error: %q", name, stderr.String())
		}
		if !strings.HasPrefix(out, "usage: ebsp "+args[0]) {
			t.Errorf("ebsp %s -h does not begin with %q: %q", name, "usage: ebsp "+args[0], firstLine(out))
		}
		if strings.Contains(out, "\n  -") && !strings.Contains(out, "\nflags:\n") {
			t.Errorf("ebsp %s -h lists flags without the \"flags:\" heading", name)
		}
		if strings.Contains(out, "Usage of") {
			t.Errorf("ebsp %s -h prints Go's default usage", name)
		}
	}
	for _, bad := range [][]string{{"audit", "verify", "--no-such-flag"}, {"poc", "--no-such-flag"}, {"no-such-command"}, {"audit"}} {
		cmd := exec.Command(bin, bad...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("ebsp %s: %v, want exit status 2", strings.Join(bad, " "), err)
		}
		if stdout.Len() > 0 || !strings.Contains(stderr.String(), "usage: ebsp") {
			t.Errorf("ebsp %s: want the usage on standard error only; stdout %q", strings.Join(bad, " "), stdout.String())
		}
	}
	for _, v := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		out, err := exec.Command(bin, v...).Output()
		if err != nil || !strings.HasPrefix(string(out), "ebsp ") {
			t.Errorf("ebsp %s: %v %q", v[0], err, out)
		}
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// TestCompletion runs the bash completion script as bash would, and the
// candidates the binary gives for each position.
func TestCompletion(t *testing.T) {
	bin := buildEbsp(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		testneed.Missing(t, "bash is not installed (apt-get install bash)")
	}
	script, err := exec.Command(bin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(bin)
	for _, c := range []struct {
		line string // the words, the last one under completion
		want []string
	}{
		{"ebsp au", []string{"audit"}},
		{"ebsp audit ", []string{"stats", "verify"}},
		{"ebsp audit verify --k", []string{"--key"}},
		{"ebsp poc -sc", []string{"-scenario"}},
		{"ebsp poc ", []string{"check-extrapolation"}},
		{"ebsp node --con", []string{"--config"}},
		{"ebsp help sy", []string{"synth"}},
		{"ebsp wsq decode in", nil},
	} {
		words := strings.Split(c.line, " ")
		sh := string(script) + `
COMP_WORDS=(` + quoteWords(words) + `)
COMP_CWORD=` + itoa(len(words)-1) + `
_ebsp
printf '%s\n' "${COMPREPLY[@]}"
`
		cmd := exec.Command(bash, "-c", sh)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v", c.line, err)
		}
		got := strings.Fields(string(out))
		if !slices.Equal(got, c.want) {
			t.Errorf("completing %q: got %q, want %q", c.line, got, c.want)
		}
	}
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		return // the zsh script is checked where zsh is installed
	}
	zscript, _ := exec.Command(bin, "completion", "zsh").Output()
	f := filepath.Join(t.TempDir(), "_ebsp")
	os.WriteFile(f, zscript, 0o644)
	if out, err := exec.Command(zsh, "-n", f).CombinedOutput(); err != nil {
		t.Errorf("zsh -n on the zsh completion: %v\n%s", err, out)
	}
}

func quoteWords(w []string) string {
	q := make([]string, len(w))
	for i, s := range w {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestOneLine: a multi-line error (a driver listing every address it
// tried, errors.Join) prints as one line, each distinct line once.
func TestOneLine(t *testing.T) {
	in := "postgres: failed to connect to `user=u database=x`:\n\t[::1]:5432 (localhost): dial error: connection refused\n\t127.0.0.1:5432 (localhost): dial error: connection refused\n\t127.0.0.1:5432 (localhost): dial error: connection refused\n"
	want := "postgres: failed to connect to `user=u database=x`: [::1]:5432 (localhost): dial error: connection refused; 127.0.0.1:5432 (localhost): dial error: connection refused"
	if got := oneLine(in); got != want {
		t.Errorf("oneLine:\n got %q\nwant %q", got, want)
	}
}
