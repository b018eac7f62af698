package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func init() {
	register("version", "print the version of this binary (also ebsp --version)", func(args []string) int {
		fs := newFlagSet("version", "usage: ebsp version\n       ebsp --version\n\nPrints the version, the source revision it was built from, the Go version\nand the platform.")
		if _, ok, code := parseArgs(fs, args, nArgs(0)); !ok {
			return code
		}
		return printVersion()
	})
}

func printVersion() int {
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = " " + s.Value
			}
		}
	}
	fmt.Printf("ebsp %s%s %s %s/%s\n", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}
