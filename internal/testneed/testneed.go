// Package testneed decides what a test does when something it needs from
// outside the repository is missing: the shared data folder, a PostgreSQL
// server, Chromium, NATS, model weights.
//
// On a developer's machine such a test skips with a message. When the
// environment variable EBSP_REQUIRE_ALL is set (./test.sh sets it, and CI
// runs ./test.sh), it fails instead: a CI run whose tests skipped for want of
// their data or servers would say "ok" while proving nothing.
package testneed

import (
	"fmt"
	"os"
	"testing"
)

// Required reports whether missing test prerequisites are failures
// (EBSP_REQUIRE_ALL is set to anything but "" or "0").
func Required() bool {
	v := os.Getenv("EBSP_REQUIRE_ALL")
	return v != "" && v != "0"
}

// Missing stops the test because a prerequisite is missing: it skips, or fails
// when Required. The message should say what is missing and how to get it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("required for this test and missing (EBSP_REQUIRE_ALL is set): %s", msg)
	}
	t.Skipf("SKIP: %s", msg)
}
