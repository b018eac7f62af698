//go:build ebsp_failpoints

package exchange

import (
	"fmt"
	"os"
)

// failpointAt is the failpoint the process dies at, from EBSP_FAILPOINT:
// "decision-leaf" or "release-leaf". Only builds with the tag
// ebsp_failpoints have it; the node binary as shipped never reads it.
var failpointAt = os.Getenv("EBSP_FAILPOINT")

// failpoint kills the process (SIGKILL on Unix: no deferred function,
// no flush) when name is the configured failpoint.
func failpoint(name string) {
	if name == "" || name != failpointAt {
		return
	}
	fmt.Fprintf(os.Stderr, "failpoint %s: killing the process\n", name)
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		p.Kill()
	}
	select {} // the kill is asynchronous: do nothing more meanwhile
}
