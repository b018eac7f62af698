// Package chromium starts Debian's Chromium, headless, for the tests that
// drive a page in a real browser (chromedp over the DevTools protocol).
package chromium

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ebsp/ebsp/internal/testneed"
)

// Path is Debian's Chromium (apt-get install chromium; test.sh installs it).
const Path = "/usr/bin/chromium"

// Need stops the test when Chromium is missing: it skips, or fails under
// EBSP_REQUIRE_ALL (testneed). Tests that prepare for long call it first.
func Need(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(Path); err != nil {
		testneed.Missing(t, "no Chromium at %s (install it with apt-get install -y chromium): %v", Path, err)
	}
}

// Start launches a headless Chromium for the test, with a fresh profile
// and a 1280x1000 window, and returns a chromedp context whose actions are
// bounded by timeout. The browser stops when the test ends. Without
// Chromium the test skips, or fails under EBSP_REQUIRE_ALL (testneed).
func Start(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	Need(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first action starts the browser and must not carry a timeout
	// (that would stop the browser); later ones are bounded.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(tcancel)
	return tctx
}
