package browsertest

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/detectkit/detect/catalog"
	"github.com/detectkit/detect/rules"
)

var update = flag.Bool("update", false, "rewrite the screenshots under docs/")

// browser returns the path of a Chromium, or skips the test without one.
func browser(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("DETECT_BROWSER_TEST") == "1" {
		t.Fatal("no Chromium on PATH, and DETECT_BROWSER_TEST=1 asks for the browser test")
	}
	t.Skip("no Chromium on PATH (apt-get install chromium)")
	return ""
}

// site writes the built-in pack's catalog as a site and serves it on
// loopback.
func site(t *testing.T) (*catalog.Catalog, string) {
	opts := catalog.Options{Files: rules.FS()}
	if a, err := catalog.LoadAttackFile("../../../shared/attack/enterprise-attack.json"); err == nil {
		opts.Attack = a
	}
	c, err := catalog.Build(rules.All(), opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := c.WriteHTML(dir); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return c, srv.URL
}

func TestCatalogSite(t *testing.T) {
	exe := browser(t)
	c, url := site(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				problems = append(problems, fmt.Sprintf("console %s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// The browser lives as long as the context of its first call, which
	// must have no deadline; the steps after it have one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string) any {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	visible := func() (ids []string) {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tr.rule")).filter(r => !r.hidden && r.offsetParent !== null).map(r => r.dataset.id)`))
		if err != nil {
			t.Fatalf("read the visible rows: %v", err)
		}
		return v
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	// choose sets a control's value as a person picking it would, with
	// the event the page listens to.
	choose := func(id, value string) {
		t.Helper()
		eval("choose "+value+" in "+id, fmt.Sprintf(`(() => { const el = document.getElementById(%q); el.value = %q; el.dispatchEvent(new Event("change")); return true })()`, id, value))
	}

	// The index lists every rule.
	do("open the index", chromedp.Navigate(url+"/index.html"), chromedp.WaitVisible(chromedp.ID("rules")))
	if got := visible(); len(got) != len(c.Rules) {
		t.Fatalf("the index shows %d rules; want %d", len(got), len(c.Rules))
	}
	if got, want := text("#count"), fmt.Sprintf("%d of %d rules", len(c.Rules), len(c.Rules)); got != want {
		t.Errorf("count = %q; want %q", got, want)
	}
	if *update {
		screenshot(t, ctx, "../../docs/catalog-index.png")
	}

	// Filtering by text, severity, tactic and log type.
	do("search", chromedp.SendKeys(chromedp.ID("q"), "revoke user"))
	if got := visible(); len(got) != 1 || got[0] != "Wiz.Revoke.User.Sessions" {
		t.Errorf("searching for 'revoke user' shows %v; want Wiz.Revoke.User.Sessions alone", got)
	}
	if got, want := text("#count"), fmt.Sprintf("1 of %d rules", len(c.Rules)); got != want {
		t.Errorf("count = %q; want %q", got, want)
	}
	choose("q", "")
	count := func(pred func(e *catalog.Entry) bool) int {
		n := 0
		for _, e := range c.Rules {
			if pred(e) {
				n++
			}
		}
		return n
	}
	choose("severity", "High")
	if got, want := len(visible()), count(func(e *catalog.Entry) bool { return e.Severity == "High" }); got != want || want == 0 {
		t.Errorf("severity High shows %d rules; want %d", got, want)
	}
	choose("severity", "")
	choose("tactic", "TA0040")
	impact := func(e *catalog.Entry) bool {
		for _, m := range e.Mitre {
			if m.Tactic == "TA0040" {
				return true
			}
		}
		return false
	}
	if got, want := len(visible()), count(impact); got != want || want == 0 {
		t.Errorf("tactic TA0040 shows %d rules; want %d", got, want)
	}
	choose("tactic", "")
	logType := c.Rules[0].LogTypes[0]
	choose("logtype", logType)
	got := visible()
	if want := count(func(e *catalog.Entry) bool { return slices.Contains(e.LogTypes, logType) }); len(got) != want || want == 0 || want == len(c.Rules) {
		t.Errorf("log type %s shows %v; want %d rules", logType, got, want)
	}
	choose("logtype", "")

	// A rule's page shows the seed's facts.
	do("open the rule", chromedp.Click(chromedp.CSS(`tr[data-id="Wiz.Revoke.User.Sessions"] a`)),
		chromedp.WaitVisible(chromedp.ID("indicators")))
	page := text("main")
	facts := []string{
		"Wiz Revoke User Sessions", "Severity\nMedium", "Group by\nid", "Log types\nWiz.Audit",
		"This rule detects user sessions revoked.", "T1531", `status eq "SUCCESS"`, `action eq "RevokeUserSessions"`,
		"sourceIP", "actionParameters",
	}
	if c.Attack != nil {
		facts = append(facts, "Impact", "Account Access Removal")
	}
	for _, fact := range facts {
		// The labels are upper case on screen.
		if !strings.Contains(strings.ToLower(page), strings.ToLower(fact)) {
			t.Errorf("the rule's page lacks %q:\n%s", fact, page)
		}
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#indicators tbody tr")).map(r => Array.from(r.cells).map(c => c.innerText.trim()).join(" | "))`))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"action | eq | RevokeUserSessions | yes | 0", "status | eq | SUCCESS | yes | "} {
		if !slices.ContainsFunc(rows, func(r string) bool { return strings.HasPrefix(r, row) }) {
			t.Errorf("the indicators table lacks the row %q: %q", row, rows)
		}
	}
	if *update {
		screenshot(t, ctx, "../../docs/catalog-rule.png")
	}

	// The other pages open, and every page fits a phone's width.
	do("open the matrix", chromedp.Navigate(url+"/matrix.html"), chromedp.WaitVisible(chromedp.ID("matrix")))
	if m := text("#matrix"); !strings.Contains(m, "T1531") {
		t.Errorf("the matrix lacks T1531:\n%s", m)
	}
	do("open the indicators", chromedp.Navigate(url+"/indicators.html"), chromedp.WaitVisible(chromedp.ID("shared")))
	for _, path := range []string{"/index.html", "/rules/Wiz.Revoke.User.Sessions.html", "/indicators.html"} {
		do("open "+path+" on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(url+path), chromedp.WaitReady(chromedp.CSS("main")))
		if overflow := eval("measure", `document.documentElement.scrollWidth > window.innerWidth + 1`); overflow != false {
			t.Errorf("%s is wider than a phone's screen", path)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("the site logged: %s", p)
	}
}

// screenshot saves the page as a PNG (quality 100 asks for PNG).
func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Clean(path), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
