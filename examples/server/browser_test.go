package main

import (
	"context"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wugsync/wugsync/store"
)

// The status page in a real browser: headless Chromium, driven through the
// DevTools protocol. Run only these tests with
//
//	go test -run Browser ./examples/server/
//
// and refresh the README's screenshot with -update-screenshot (or
// WUGSYNC_UPDATE_SCREENSHOT=1).
var updateScreenshot = flag.Bool("update-screenshot", os.Getenv("WUGSYNC_UPDATE_SCREENSHOT") == "1",
	"write the status page's screenshot to testdata/status-page.png")

// chromiumPath finds Chromium: WUGSYNC_CHROMIUM, else the usual names on
// PATH. Without it the test skips, except in CI (CI=true), which installs
// it and must run these tests.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("WUGSYNC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const where = "no chromium, chromium-browser, google-chrome or headless-shell on PATH and WUGSYNC_CHROMIUM unset"
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is missing in CI (.ci/run installs Debian's chromium): " + where)
	}
	t.Skip("skipping the browser test: Chromium is missing (" + where + "); apt-get install chromium to run it")
	return ""
}

// newBrowser starts headless Chromium (the binary at chromium) with a window of the given size and
// returns a context for its first tab, bounded by timeout.
func newBrowser(t *testing.T, chromium string, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.WindowSize(width, height),
		chromedp.Flag("hide-scrollbars", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run its sandbox as root
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first run starts the browser and must not carry the timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	return ctx
}

// must runs a browser action and fails the test when it fails.
func must[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

func TestBrowserStatusPage(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	f := newFixture(t, 40)
	f.svc.byID["main"].cfg.WUG.DeviceLink = f.wug.URL + "/NmConsole/device/{id}"
	ctx := context.Background()

	// Records to look at: one export of main, through the API.
	status, body := doJSON(t, "POST", f.srv.URL+"/api/plugins/wug-sync/connections/1/export/", testToken, "")
	if status != http.StatusAccepted {
		t.Fatalf("export: %d %v", status, body)
	}
	first := waitRun(t, f.st, body["run_id"].(string))
	if first.Status != store.RunSucceeded || first.Counts.Added == 0 {
		t.Fatalf("first run = %+v, want a succeeded run that added devices", first)
	}
	counts, err := f.st.CountByStatus(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	var rec store.Record
	for r, err := range f.st.Records(ctx, store.Query{Connection: "main", Statuses: []store.Status{store.StatusExported}}) {
		if err != nil {
			t.Fatal(err)
		}
		rec = r // the last exported record in key order
	}

	b := newBrowser(t, chromium, 1200, 900, 2*time.Minute)

	// A stranger is sent to the sign-in.
	must(t, b, "open the page", chromedp.Navigate(f.srv.URL+"/status/"))
	must(t, b, "see the sign-in", chromedp.WaitVisible(chromedp.ID("token")))
	if loc := must(t, b, "location", chromedp.Location()); !strings.Contains(loc, "/status/sign-in?next=") {
		t.Errorf("a browser without a session is at %s, want the sign-in", loc)
	}

	// A wrong token is refused.
	resp := mustResponse(t, b, "sign in with a wrong token",
		chromedp.SendKeys(chromedp.ID("token"), "not-the-token"), chromedp.Submit(chromedp.ID("token")))
	if resp != http.StatusForbidden {
		t.Errorf("sign-in with a wrong token: %d, want 403", resp)
	}
	must(t, b, "see the refusal", chromedp.WaitVisible(chromedp.CSS(".alert")))

	// The API token signs in and leads to the page.
	resp = mustResponse(t, b, "sign in", chromedp.SetValue(chromedp.ID("token"), testToken), chromedp.Submit(chromedp.ID("token")))
	if resp != http.StatusOK {
		t.Fatalf("sign-in: the page answered %d", resp)
	}
	must(t, b, "see connection main", chromedp.WaitVisible(chromedp.ID("conn-1")))

	// The counts are the store's.
	for _, s := range []store.Status{store.StatusExported, store.StatusError, store.StatusPending} {
		text := must(t, b, "read the "+string(s)+" count", chromedp.Text(chromedp.CSS(`#conn-1 li[data-status="`+string(s)+`"] .n`)))
		if n, err := strconv.Atoi(strings.TrimSpace(text)); err != nil || n != counts[s] {
			t.Errorf("the page shows %q %s records, the store counts %d", text, s, counts[s])
		}
	}
	// The script loaded under the page's content policy: it shows the
	// refresh note it unhides.
	if hidden := must(t, b, "refresh note", chromedp.Evaluate[bool](`document.querySelector(".refresh").hidden`)); hidden {
		t.Error("the auto-refresh script did not run")
	}

	// A search for one address lists that record alone, linked to NetBox
	// and WUG.
	mustResponse(t, b, "search", chromedp.SetValue(chromedp.CSS(`input[name="q"]`), rec.Address.String()),
		chromedp.Submit(chromedp.CSS(`input[name="q"]`)))
	rows := must(t, b, "read the rows", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#record-list tbody tr")).map(tr => tr.dataset.address)`))
	if len(rows) != 1 || rows[0] != rec.Address.String() {
		t.Errorf("searching %s lists %v", rec.Address, rows)
	}
	links := must(t, b, "read the links", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#record-list tbody a")).map(a => a.href)`))
	wantLinks := []string{f.nb.URL + "/dcim/devices/" + strconv.FormatInt(rec.ObjectID, 10) + "/", f.wug.URL + "/NmConsole/device/" + rec.WUGDeviceID}
	if strings.Join(links, " ") != strings.Join(wantLinks, " ") {
		t.Errorf("the record links to %v, want %v", links, wantLinks)
	}

	// The button starts a run and the page shows it running; pressed again
	// while it runs, it answers 409 in words.
	// The run is held at its WUG device listing until the second press
	// has been answered, however slow the machine.
	held, release := holdWUGListing(t, f)
	mustResponse(t, b, "press Export now", chromedp.Click(chromedp.CSS(`#conn-1 form.trigger button`)))
	notice := must(t, b, "read the notice", chromedp.Text(chromedp.ID("notice")))
	running := must(t, b, "read the running run", chromedp.AttributeValue(chromedp.CSS(`#conn-1 .running`), "data-run-id"))
	if !running.Exists || !strings.Contains(notice, "Export run "+running.Value+" of main started.") {
		t.Fatalf("after the button: notice %q, running run %+v", notice, running)
	}
	if run, err := f.st.Run(ctx, running.Value); err != nil || run.Status != store.RunRunning || run.Trigger != store.TriggerManual {
		t.Errorf("the store has the page's running run as %+v, %v", run, err)
	}
	shot := must(t, b, "screenshot", chromedp.FullScreenshot(100))
	if resp := mustResponse(t, b, "press Export now again", chromedp.Click(chromedp.CSS(`#conn-1 form.trigger button`))); resp != http.StatusConflict {
		t.Errorf("the second press answered %d, want 409", resp)
	}
	if alert := must(t, b, "read the alert", chromedp.Text(chromedp.ID("alert"))); !strings.Contains(alert, "An export of main is already running (run "+running.Value) {
		t.Errorf("the second press says %q", alert)
	}
	if !held() {
		t.Error("the run was not held at its WUG listing: the 409 did not surely meet a running run")
	}
	release()
	saveScreenshot(t, "status-page.png", shot)
	if run := waitRun(t, f.st, running.Value); run.Status != store.RunSucceeded {
		t.Errorf("the run the page started = %+v, want succeeded", run)
	}

	// On a phone the page fits the screen's width.
	must(t, b, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	mustResponse(t, b, "open the page on a phone", chromedp.Navigate(f.srv.URL+"/status/"))
	if over := must(t, b, "measure", chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`)); over > 0 {
		t.Errorf("on a 390 px wide phone the page is %d px too wide", over)
	}
	saveScreenshot(t, "status-page-phone.png", must(t, b, "phone screenshot", chromedp.CaptureScreenshot()))

	// Signing out ends the session: the page sends the browser back.
	must(t, b, "laptop viewport", chromedp.EmulateViewport(1200, 900))
	mustResponse(t, b, "sign out", chromedp.Click(chromedp.CSS(`form.signout button`)))
	if text := must(t, b, "read the notice", chromedp.Text(chromedp.CSS(".notice"))); text != "You are signed out." {
		t.Errorf("after signing out: %q", text)
	}
	mustResponse(t, b, "open the page signed out", chromedp.Navigate(f.srv.URL+"/status/"))
	must(t, b, "see the sign-in", chromedp.WaitVisible(chromedp.ID("token")))
}

// mustResponse runs actions that load a page and returns its HTTP status.
func mustResponse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return resp.Status
}

// saveScreenshot writes a PNG under the test's temporary directory and, for
// the laptop picture with -update-screenshot, to testdata for the README.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	if *updateScreenshot && name == "status-page.png" {
		if err := os.WriteFile(filepath.Join("testdata", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: testdata/%s updated", name)
	}
}
