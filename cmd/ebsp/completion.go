package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"
)

func init() {
	register("completion", "print a shell completion script (bash or zsh)", runCompletion)
}

const completionUsage = `usage: ebsp completion bash|zsh

Prints a script that completes ebsp's commands, subcommands and flags; file
names are completed where no flag or subcommand fits. To use it:

  bash:  source <(ebsp completion bash)          (or save it in
         /etc/bash_completion.d/ebsp)
  zsh:   source <(ebsp completion zsh)           (or save it as _ebsp in a
         folder of $fpath)

The script asks the binary itself what fits ('ebsp __complete WORD...'), so
it stays right as commands change.`

// completeCommand is the hidden command the scripts call.
const completeCommand = "__complete"

// The scripts pass the words after "ebsp" up to the cursor, the last one
// being the word under completion (possibly empty), and take one candidate
// a line; none means "complete file names".
const bashCompletion = `# bash completion for ebsp (ebsp completion bash)
_ebsp() {
	local IFS=$'\n'
	COMPREPLY=($(ebsp __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _ebsp ebsp
`

const zshCompletion = `#compdef ebsp
# zsh completion for ebsp (ebsp completion zsh)
_ebsp() {
	local -a cands
	cands=("${(@f)$(ebsp __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	if (( ${#cands} )) && [[ -n ${cands[1]} ]]; then
		compadd -a cands
	else
		_files
	fi
}
compdef _ebsp ebsp
`

func runCompletion(args []string) int {
	return dispatch("completion", completionUsage, args, map[string]func([]string) int{
		"bash": func(args []string) int { return printScript("bash", bashCompletion, args) },
		"zsh":  func(args []string) int { return printScript("zsh", zshCompletion, args) },
	})
}

func printScript(shell, script string, args []string) int {
	fs := newFlagSet("completion "+shell, "usage: ebsp completion "+shell+"\n\nPrints the "+shell+" completion script.")
	if _, ok, code := parseArgs(fs, args, nArgs(0)); !ok {
		return code
	}
	fmt.Print(script)
	return 0
}

// capture, when set, makes commands record their flag set and
// subcommands instead of running (parseHelp, dispatch).
var capture *captured

type captured struct {
	flags *flag.FlagSet
	subs  []string
}

// shape runs command name with args in capture mode and returns what it
// recorded.
func shape(name string, args []string) captured {
	c, ok := commands[name]
	if !ok {
		return captured{}
	}
	capture = &captured{}
	defer func() { capture = nil }()
	c.run(args)
	return *capture
}

// complete prints the candidates for the last of words (the word under the
// cursor), one a line.
func complete(words []string) int {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	var cands []string
	if len(words) == 1 {
		cands = append(commandNames(), "help", "--version")
	} else {
		name := words[0]
		top := shape(name, nil)
		at := top
		// The subcommand, if the word after the command names one.
		if len(words) > 2 && slices.Contains(top.subs, words[1]) {
			at = shape(name, []string{words[1]})
		}
		switch {
		case name == "help" && len(words) == 2:
			cands = commandNames()
		case strings.HasPrefix(cur, "-") && at.flags != nil:
			// Go's flags take one dash or two; offer the form begun.
			dash := "-"
			if strings.HasPrefix(cur, "--") {
				dash = "--"
			}
			at.flags.VisitAll(func(f *flag.Flag) { cands = append(cands, dash+f.Name) })
			cands = append(cands, dash+"help")
		case len(words) == 2:
			cands = top.subs
		}
	}
	for _, c := range cands {
		if strings.HasPrefix(c, cur) {
			fmt.Println(c)
		}
	}
	return 0
}
