package console

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ebsp/ebsp/internal/chromium"
	"github.com/ebsp/ebsp/internal/testneed"
)

// axeVersion is the axe-core release test.sh installs with npm.
const axeVersion = "4.10.3"

// axeScript returns axe-core's browser bundle: $EBSP_AXE_JS, or where
// test.sh installs it.
func axeScript(t *testing.T) string {
	path := os.Getenv("EBSP_AXE_JS")
	if path == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		path = filepath.Join(cache, "ebsp", "axe-core-"+axeVersion, "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		testneed.Missing(t, "no axe-core at %s (./test.sh installs it: npm install --prefix ~/.cache/ebsp/axe-core-%s axe-core@%s): %v", path, axeVersion, axeVersion, err)
	}
	return string(b)
}

// browser starts headless Chromium for one test.
func browser(t *testing.T) context.Context { return chromium.Start(t, 60*time.Second) }

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %q: %v", js, err)
	}
	return v
}

// signin fills the sign-in form with the mouse-free path: the token typed
// into the labelled field and the form submitted.
func signin(t *testing.T, ctx context.Context, base, token string) {
	do(t, ctx, "sign in", chromedp.Navigate(base+"/console/signin"), chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS(".signout")))
}

// axeResult is what the page reports of an axe-core run.
type axeResult struct {
	Passes     int `json:"passes"`
	Violations []struct {
		ID     string   `json:"id"`
		Impact string   `json:"impact"`
		Help   string   `json:"help"`
		Nodes  []string `json:"nodes"`
	} `json:"violations"`
}

// checkAxe runs axe-core's WCAG 2.1 A and AA rules and best practices in
// the page and fails the test on any violation. The script is evaluated
// through the DevTools protocol: the console's CSP lets no script in.
func checkAxe(t *testing.T, ctx context.Context, src, page string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
		t.Fatalf("loading axe-core: %v", err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
		.then(r => ({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	t.Logf("axe-core %s on %s: %d rules passed, %d violations", axeVersion, page, res.Passes, len(res.Violations))
	for _, v := range res.Violations {
		t.Errorf("axe-core on %s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

// screenshot saves the page as a test artefact (go test -artifacts).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", out, len(shot))
}

// An examiner signs in, finds the case in the queue, sees the probe and
// the candidate with the paired minutiae drawn on both, reaches every
// control with the Tab key, and confirms with the keyboard; the
// requesting node then receives exactly the fields it asked for that the
// agreement allows.
func TestBrowserExaminerConfirms(t *testing.T) {
	axe := axeScript(t)
	ctx := browser(t)
	x := newPair(t, false)
	id := x.openCase(t, 7)
	base := x.gb.URL

	signin(t, ctx, base, x.gb.Tokens["GB-examiner"])
	do(t, ctx, "queue", chromedp.Navigate(base+"/console/examiner"), chromedp.WaitVisible(chromedp.CSS("table")))
	checkAxe(t, ctx, axe, "the examiner queue")
	screenshot(t, ctx, "examiner-queue")

	do(t, ctx, "open the case", chromedp.Click(chromedp.CSS(`a[href="/console/examiner/cases/`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("svg.print")))
	type drawn struct {
		Panels, ProbePaired, GalleryPaired, Minutiae int
		Candidate                                    string
	}
	d := eval[drawn](t, ctx, `(() => {
		const s = document.querySelector(".candidate .sides");
		const svgs = s.querySelectorAll("svg.print");
		return {panels: svgs.length, probePaired: svgs[0].querySelectorAll("g.paired").length,
			galleryPaired: svgs[1] ? svgs[1].querySelectorAll("g.paired").length : 0,
			minutiae: document.querySelectorAll("svg.print g.m").length,
			candidate: document.querySelector(".candidate h2").textContent};
	})()`)
	t.Logf("case view: %+v", d)
	if d.Panels != 2 || d.ProbePaired < 3 || d.ProbePaired != d.GalleryPaired || !strings.Contains(d.Candidate, "GB-007") {
		t.Errorf("case view drew %+v: want probe and gallery side by side with the same pairs on both, candidate GB-007", d)
	}
	checkAxe(t, ctx, axe, "the case view")
	screenshot(t, ctx, "examiner-case")

	// Keyboard only: Tab through the page, then Enter on the confirm button.
	var reached []string
	confirmAt := -1
	for i := range 80 {
		do(t, ctx, "tab", chromedp.KeyEvent("\t"))
		el := eval[string](t, ctx, `(() => { const e = document.activeElement; return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""); })()`)
		reached = append(reached, el)
		if el == "button.confirm" && confirmAt < 0 {
			confirmAt = i
		}
		if el == "button.reject" {
			break
		}
	}
	for _, want := range []string{"a.skip", "button.confirm", "select#reason", "button.reject"} {
		if !slices.Contains(reached, want) {
			t.Errorf("Tab never reached %s; reached %v", want, reached)
		}
	}
	do(t, ctx, "focus confirm", chromedp.Focus(chromedp.CSS("button.confirm")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))
	notice := eval[string](t, ctx, `document.querySelector("p.notice").textContent`)
	if !strings.Contains(notice, "confirmed GB-007") {
		t.Errorf("after confirming: %q", notice)
	}
	screenshot(t, ctx, "examiner-confirmed")

	ds, err := x.us.Operator.Disclosure(context.Background(), "GB", id)
	if err != nil || ds.Release == nil {
		t.Fatalf("the US node's status of case %s: %+v %v", id, ds, err)
	}
	if got := slices.Sorted(maps.Keys(ds.Release.Fields)); !slices.Equal(got, slices.Sorted(slices.Values(asked))) {
		t.Errorf("the US received %v, want exactly %v", got, asked)
	}
	t.Logf("the US node received %v with handling %+v", slices.Sorted(maps.Keys(ds.Release.Fields)), ds.Release.Handling)
}

// An auditor sees the statistics change after an exchange, verifies the
// log, and reads no personal data on the way.
func TestBrowserAuditorSeesStatisticsChange(t *testing.T) {
	axe := axeScript(t)
	ctx := browser(t)
	x := newPair(t, false)
	base := x.gb.URL
	signin(t, ctx, base, x.gb.Tokens["GB-auditor"])
	type counts struct{ Requests, Confirmed, Bars int }
	read := func() counts {
		do(t, ctx, "oversight", chromedp.Navigate(base+"/console/auditor"), chromedp.WaitVisible(chromedp.CSS("#log-size")))
		return eval[counts](t, ctx, `(() => {
			let req = 0, conf = 0;
			const sec = document.querySelector("section.partner[aria-labelledby='p-US']");
			if (sec) for (const tr of sec.querySelectorAll("tbody tr")) {
				req += +tr.children[1].textContent; conf += +tr.children[4].textContent;
			}
			const bars = sec ? Array.from(sec.querySelectorAll("rect.bar")).filter(r => +r.getAttribute("height") > 0).length : 0;
			return {requests: req, confirmed: conf, bars: bars};
		})()`)
	}
	before := read()
	screenshot(t, ctx, "auditor-before")

	id := x.openCase(t, 3)
	if err := x.gb.Examiner.Decide(context.Background(), id, true, "GB-003"); err != nil {
		t.Fatal(err)
	}
	after := read()
	t.Logf("statistics for partner US: before %+v, after %+v", before, after)
	if after.Requests != before.Requests+1 || after.Confirmed != before.Confirmed+1 || after.Bars == 0 {
		t.Errorf("statistics did not follow one request and one confirmation: before %+v, after %+v", before, after)
	}
	text := eval[string](t, ctx, `document.body.innerText`)
	for _, personal := range []string{"Gbperson", "GB-003", "GB-CASE", id, "officer-1", "GB-examiner"} {
		if strings.Contains(text, personal) {
			t.Errorf("the oversight screen shows %q", personal)
		}
	}
	checkAxe(t, ctx, axe, "the oversight screen")
	screenshot(t, ctx, "auditor-after")

	do(t, ctx, "verify now", chromedp.Click(chromedp.CSS(`form[action^="/console/auditor/verify"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#verify-h")))
	verdict := eval[string](t, ctx, `document.querySelector("#verify-h").textContent`)
	report := eval[string](t, ctx, `document.querySelector("section.verify").textContent`)
	size := x.gb.Log.Size()
	if verdict != "Verified" || !strings.Contains(report, fmt.Sprintf("ok: the latest checkpoint, size %d", size)) {
		t.Errorf("verify now: %q, %q; want the latest checkpoint of all %d leaves verified", verdict, report, size)
	}
	checkAxe(t, ctx, axe, "the oversight screen after verify now")
	screenshot(t, ctx, "auditor-verified")
}

// An operator signs in with the keyboard alone, searches the node with an
// uploaded template and gets the hit, and cannot open the examiner's
// pages (403).
func TestBrowserOperatorSearchesAndIsKeptOut(t *testing.T) {
	axe := axeScript(t)
	ctx := browser(t)
	x := newPair(t, false)
	base := x.gb.URL

	do(t, ctx, "sign-in page", chromedp.Navigate(base+"/console/signin"), chromedp.WaitVisible(chromedp.CSS("#token")))
	checkAxe(t, ctx, axe, "the sign-in page")
	// Keyboard only: the skip link first, then the token field.
	do(t, ctx, "tab", chromedp.KeyEvent("\t"))
	if el := eval[string](t, ctx, `document.activeElement.className`); el != "skip" {
		t.Errorf("first Tab stop %q, want the skip link", el)
	}
	do(t, ctx, "tab", chromedp.KeyEvent("\t"))
	if el := eval[string](t, ctx, `document.activeElement.id`); el != "token" {
		t.Fatalf("second Tab stop %q, want the token field", el)
	}
	do(t, ctx, "type the token", chromedp.KeyEvent(x.gb.Tokens["GB-operator"]), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(".signout")))

	sample := filepath.Join(t.TempDir(), "right-index.iso")
	if err := os.WriteFile(sample, personSamples(t, 7, 2)[0].Data, 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "search", chromedp.Navigate(base+"/console/operator"), chromedp.WaitVisible(chromedp.CSS("#id-sample")),
		chromedp.SetUploadFiles(chromedp.CSS("#id-sample"), []string{sample}),
		chromedp.SetValue(chromedp.CSS("#id-format"), "iso19794-2"), chromedp.SetValue(chromedp.CSS("#id-position"), "2"),
		chromedp.Click(chromedp.CSS(`form[action="/console/operator/identify"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#id-result")))
	answer := eval[string](t, ctx, `document.querySelector("#id-result").textContent + " " + (document.querySelector(".result td:nth-child(2)") || {}).textContent`)
	if !strings.Contains(answer, "hit") || !strings.Contains(answer, "GB-007") {
		t.Errorf("search answer %q: want a hit on GB-007", answer)
	}
	checkAxe(t, ctx, axe, "the operator's search screen")
	screenshot(t, ctx, "operator-search")

	for _, path := range []string{"/console/examiner", "/console/auditor"} {
		resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(base+path))
		if err != nil {
			t.Fatal(err)
		}
		h1 := eval[string](t, ctx, `document.querySelector("h1").textContent`)
		if resp.Status != 403 || h1 != "Forbidden" {
			t.Errorf("operator opened %s: status %d, heading %q", path, resp.Status, h1)
		}
	}
	checkAxe(t, ctx, axe, "the 403 page")
	screenshot(t, ctx, "operator-forbidden")
}
