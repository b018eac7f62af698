package poc

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ebsp/ebsp/internal/chromium"
)

// plotCheck is what the page reports about one inline SVG plot.
type plotCheck struct {
	ID     string  `json:"id"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Drawn  int     `json:"drawn"` // polylines, bars and points actually drawn
	Text   int     `json:"text"`
}

// TestReportInBrowser opens the report of the small run in headless
// Chromium, checks that every plot rendered with a size and drawn marks,
// and saves a screenshot (kept with go test -artifacts).
func TestReportInBrowser(t *testing.T) {
	chromium.Need(t)
	if testing.Short() {
		t.Skip("needs the small run; skipped with -short")
	}
	_, dir := runSmall(t)
	page := "file://" + filepath.Join(dir, "report.html")

	tctx := chromium.Start(t, 45*time.Second)
	if err := chromedp.Do(tctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("chromium: open %s: %v", page, err)
	}
	// Navigate returns after the load event; the page has no script, so
	// everything is laid out by then.
	title, err := chromedp.Run(tctx, chromedp.Title())
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	plots, err := chromedp.Run(tctx, chromedp.Evaluate[[]plotCheck](`Array.from(document.querySelectorAll("figure")).map(f => {
		const s = f.querySelector("svg.plot");
		const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
		return {id: f.id, width: r.width, height: r.height,
			drawn: s ? s.querySelectorAll("polyline.series, rect.bar, circle").length : 0,
			text: s ? s.querySelectorAll("text").length : 0};
	})`))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	// Every table fits the page: none hides columns behind a scrollbar
	// (the models' table was 17 columns wide and did).
	overflow, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table")).filter(t => {
		const box = (t.closest(".wide") || document.body).getBoundingClientRect();
		return t.getBoundingClientRect().right > box.right + 1;
	}).map(t => t.rows[0].textContent.slice(0, 60))`))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	for _, h := range overflow {
		t.Errorf("a table is wider than the page: %q", h)
	}
	shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(80))
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	if len(plots) != 6 {
		t.Errorf("%d figures rendered: want 6", len(plots))
	}
	for _, p := range plots {
		t.Logf("figure %s: %.0fx%.0f px, %d drawn marks, %d labels", p.ID, p.Width, p.Height, p.Drawn, p.Text)
		if p.Width < 100 || p.Height < 100 || p.Drawn == 0 || p.Text < 5 {
			t.Errorf("figure %s did not render: %.0fx%.0f px, %d drawn marks, %d labels", p.ID, p.Width, p.Height, p.Drawn, p.Text)
		}
	}
	if title == "" {
		t.Error("page has no title")
	}
	out := filepath.Join(t.ArtifactDir(), "report.jpg")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the report (%d bytes): %s", len(shot), out)
}
