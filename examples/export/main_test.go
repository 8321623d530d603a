package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// TestMain lets the test binary act as the command, so one test runs it
// as a real process and checks its exit status.
func TestMain(m *testing.M) {
	if os.Getenv("WUGSYNC_EXPORT_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// fixture is a fake NetBox, a fake WUG over TLS and a store path.
type fixture struct {
	nb     *netboxtest.Server
	wug    *wugtest.Server
	caFile string
	env    map[string]string
}

func newFixture(t *testing.T, nbOpts ...netboxtest.Option) *fixture {
	t.Helper()
	f := &fixture{nb: netboxtest.NewServer(t, nbOpts...), wug: wugtest.NewServer(t)}
	dir := t.TempDir()
	f.caFile = filepath.Join(dir, "wug-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.wug.Certificate().Raw})
	if err := os.WriteFile(f.caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	f.env = map[string]string{
		"NETBOX_URL": f.nb.URL, "NETBOX_TOKEN": f.nb.Token,
		"WUG_URL": f.wug.URL, "WUG_USERNAME": wugtest.DefaultUser, "WUG_PASSWORD": wugtest.DefaultPassword,
		"XDG_STATE_HOME": filepath.Join(dir, "state"),
	}
	return f
}

// run runs the command in-process with the fixture's environment, the
// WUG CA and a quick retry pace; args come after.
func (f *fixture) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := environment{
		args:   append([]string{"--wug-ca-file", f.caFile}, args...),
		getenv: func(k string) string { return f.env[k] },
		stdout: &out, stderr: &errb,
	}
	code = run(context.Background(), env)
	for _, secret := range []string{f.env["WUG_PASSWORD"], f.env["NETBOX_TOKEN"]} {
		if secret != "" && strings.Contains(out.String()+errb.String(), secret) {
			t.Errorf("output holds a secret:\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
		}
	}
	return code, out.String(), errb.String()
}

// wugWrites counts the requests that could change WUG, logins excepted.
func (f *fixture) wugWrites() int {
	return f.wug.Counts().Writes - f.wug.Count("POST /api/v1/token")
}

var countRE = regexp.MustCompile(`\b(selected|added|adopted|updated|scanned|removed|unchanged|skipped|invalid|failed) (\d+)`)

// textCounts reads the counts line of a run's text output.
func textCounts(t *testing.T, out string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "selected ") {
			continue
		}
		for _, sub := range countRE.FindAllStringSubmatch(line, -1) {
			m[sub[1]], _ = strconv.Atoi(sub[2])
		}
		return m
	}
	t.Fatalf("no counts line in:\n%s", out)
	return nil
}

func TestDryRunPrintsThePlanAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, netboxtest.WithDevices(30))
	code, out, errOut := f.run(t, "--dry-run")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"Dry run for connection", "ACTION  ADDRESS", "decisions: add "} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if n := f.wugWrites(); n != 0 || f.wug.DeviceCount() != 0 {
		t.Errorf("dry run sent %d writes to WUG and left %d devices", n, f.wug.DeviceCount())
	}
}

func TestRunExportsThenChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, netboxtest.WithDevices(30))
	code, out, errOut := f.run(t)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	first := textCounts(t, out)
	if first["added"] == 0 || first["added"] != f.wug.DeviceCount() || first["failed"] != 0 {
		t.Errorf("counts %v; WUG holds %d devices", first, f.wug.DeviceCount())
	}
	if !strings.Contains(errOut, "progress: ") {
		t.Errorf("stderr (not a terminal) lacks progress lines:\n%s", errOut)
	}
	if _, err := os.Stat(filepath.Join(f.env["XDG_STATE_HOME"], "wugsync", "wugsync.db")); err != nil {
		t.Errorf("default store: %v", err)
	}

	f.wug.ResetRequests()
	code, out, _ = f.run(t)
	second := textCounts(t, out)
	if code != exitOK || second["added"] != 0 || second["updated"] != 0 || second["unchanged"] != first["added"] {
		t.Errorf("second run: exit %d, counts %v, want %d unchanged", code, second, first["added"])
	}
	if n := f.wugWrites(); n != 0 {
		t.Errorf("second run sent %d writes to WUG, want 0", n)
	}
}

func TestJSONOutput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, netboxtest.WithDevices(20))
	code, out, errOut := f.run(t, "--json", "--connection", "lab")
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	var got struct {
		RunID      string          `json:"run_id"`
		Connection string          `json:"connection"`
		Status     store.RunStatus `json:"status"`
		Counts     export.Counts   `json:"counts"`
		Outcomes   []export.Outcome
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if got.RunID == "" || got.Connection != "lab" || got.Status != store.RunSucceeded {
		t.Errorf("run %q connection %q status %q", got.RunID, got.Connection, got.Status)
	}
	if got.Counts.Added == 0 || got.Counts.Added != f.wug.DeviceCount() {
		t.Errorf("JSON says %d added; WUG holds %d", got.Counts.Added, f.wug.DeviceCount())
	}
	added := 0
	for _, o := range got.Outcomes {
		if o.Action == export.ActionAdd && o.DeviceID != "" {
			added++
		}
	}
	if added != got.Counts.Added {
		t.Errorf("%d add outcomes with a WUG device, counts say %d", added, got.Counts.Added)
	}
}

func TestDryRunJSONHoldsThePlan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code, out, _ := f.run(t, "--dry-run", "--json")
	var got struct {
		DryRun bool `json:"dry_run"`
		Plan   *struct {
			Decisions []struct {
				Action export.Action `json:"action"`
			} `json:"decisions"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if !got.DryRun || got.Plan == nil || len(got.Plan.Decisions) == 0 {
		t.Errorf("dry run JSON: %s", out)
	}
}

func TestBulkExportOfGivenAddresses(t *testing.T) {
	t.Parallel()
	f := newFixture(t, netboxtest.WithDevices(20))
	var addr string
	for _, d := range f.nb.Devices() {
		if ip, ok := f.nb.IPAddress(d.PrimaryIP4); ok && d.Quirks == 0 && d.Status == "active" && ip.VRF == "" {
			addr = ip.Address.Addr().String()
			break
		}
	}
	code, out, errOut := f.run(t, "--ip", addr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if c := textCounts(t, out); c["added"] != 1 || len(f.wug.DevicesByAddress(addr)) != 1 || f.wug.DeviceCount() != 1 {
		t.Errorf("bulk export of %s: counts %v, WUG holds %d devices", addr, c, f.wug.DeviceCount())
	}
}

func TestFailedItemsExitOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t, netboxtest.WithDevices(10))
	// Every template apply fails: each add fails after its attempts.
	f.wug.FailNext(wugtest.Fault{Route: "PATCH /api/v1/devices/-/config/template", Status: 500, Times: 1000})
	code, out, errOut := f.run(t)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	c := textCounts(t, out)
	if c["failed"] == 0 || c["added"] != 0 {
		t.Errorf("counts %v: want failures and no adds", c)
	}
	_, failed, ok := strings.Cut(out, "\nFailed:\n")
	if !ok || strings.Count(failed, "\n  ") != c["failed"]-1 {
		t.Errorf("the %d failed items are not listed:\n%s", c["failed"], out)
	}
}

// Configuration and connection problems exit 2 with one sentence on
// standard error and nothing on standard output.
func TestConfigurationErrorsExitTwo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	closed := closedPort(t)
	tests := []struct {
		name string
		env  map[string]string // overrides
		args []string
		want string
	}{
		{"missing URL", map[string]string{"NETBOX_URL": ""}, nil, "--netbox-url is required (or set NETBOX_URL)"},
		{"unknown flag", nil, []string{"--colour"}, "flag provided but not defined: -colour"},
		{"bad address", nil, []string{"--ip", "10.0.0.300"}, `--ip "10.0.0.300" is not an IP address`},
		{"bad custom field", nil, []string{"--cf", "owner"}, `--cf "owner": want name=value`},
		{"bad group path", nil, []string{"--group-path", "My Network/<nope>"}, "nope"},
		{"two trust choices", nil, []string{"--insecure-skip-verify"}, "--insecure-skip-verify turns certificate checks off"},
		{"bad since", nil, []string{"--changed-since", "yesterday"}, `--changed-since "yesterday"`},
		{"refused password", map[string]string{"WUG_PASSWORD": "not-the-password-42"}, nil,
			`refused the user name "admin" and its password; check WUG_USERNAME and WUG_PASSWORD`},
		{"refused token", map[string]string{"NETBOX_TOKEN": "fedcba9876543210fedcba9876543210fedcba98"}, nil,
			"NetBox at " + f.nb.URL + " refused the API token"},
		{"untrusted certificate", nil, []string{"--wug-ca-file", ""},
			"the TLS certificate of WhatsUp Gold at " + f.wug.URL + " is not trusted (signed by an unknown authority)"},
		{"unreachable WUG", map[string]string{"WUG_URL": "https://" + closed}, nil,
			"cannot reach WhatsUp Gold at https://" + closed + " (connection refused)"},
		{"unreachable NetBox", map[string]string{"NETBOX_URL": "http://" + closed}, nil,
			"cannot reach NetBox at http://" + closed + " (connection refused)"},
		{"unreachable store", nil, []string{"--store", "postgres://wugsync:pg-secret-77@" + closed + "/wugsync?sslmode=disable"},
			"cannot open the PostgreSQL store postgres://wugsync:xxxxx@" + closed + "/wugsync?sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := &fixture{nb: f.nb, wug: f.wug, caFile: f.caFile, env: map[string]string{}}
			for k, v := range f.env {
				g.env[k] = v
			}
			for k, v := range tt.env {
				g.env[k] = v
			}
			code, out, errOut := g.run(t, tt.args...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d (want 2), stdout %q, stderr:\n%s\nwant it to say %q", code, out, errOut, tt.want)
			}
			if strings.Contains(tt.want, " at ") && strings.Count(errOut, "\n") != 1 {
				t.Errorf("a connection problem takes more than one line:\n%s", errOut)
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Errorf("stderr holds a stack trace:\n%s", errOut)
			}
			for _, secret := range []string{tt.env["WUG_PASSWORD"], "pg-secret-77"} {
				if secret != "" && strings.Contains(errOut, secret) {
					t.Errorf("stderr holds the secret %q", secret)
				}
			}
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// The command as a process: its exit status and streams.
func TestProcessExitStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t, netboxtest.WithDevices(10))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want int
	}{
		{"usage", []string{"--batch-size", "0"}, exitUsage},
		{"export", []string{"--wug-ca-file", f.caFile, "--json"}, exitOK},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, exe, tt.args...)
		cmd.Env = []string{"WUGSYNC_EXPORT_AS_MAIN=1", "HOME=" + t.TempDir()}
		for k, v := range f.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cancel()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.want {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.name, code, tt.want, out.String(), errb.String())
		}
	}
	if got, want := f.wug.DeviceCount() > 0, true; got != want {
		t.Errorf("the process run added no device")
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"24h", now.Add(-24 * time.Hour)},
		{"2026-02-01", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-02-01T10:00:00+02:00", time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseSince("-1h", now); err == nil {
		t.Errorf("parseSince(-1h) accepted a negative duration")
	}
}

func TestDefaultStorePath(t *testing.T) {
	t.Parallel()
	got, err := defaultStorePath(func(k string) string { return map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}[k] })
	if diff := cmp.Diff(filepath.Join("/s", "wugsync", "wugsync.db"), got); diff != "" || err != nil {
		t.Errorf("defaultStorePath (-want +got):\n%s%v", diff, err)
	}
}

// --scan hands new addresses to WUG discovery scans; --scan-wait follows
// them until WUG has found and linked every one.
func TestScanModeFollowsScansToCompletion(t *testing.T) {
	t.Parallel()
	f := newFixture(t, netboxtest.WithDevices(10))
	for _, d := range f.nb.Devices() {
		if ip, ok := f.nb.IPAddress(d.PrimaryIP4); ok {
			f.wug.SetReachable(ip.Address.Addr().String())
		}
	}
	code, out, errOut := f.run(t, "--scan", "--scan-wait", "1m")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	c := textCounts(t, out)
	if c["scanned"] == 0 || c["added"] != 0 {
		t.Errorf("counts %v: want scans and no template adds", c)
	}
	want := "scans: " // followed by the counts of the last check
	_, line, _ := strings.Cut(out, want)
	if !strings.Contains(line, strconv.Itoa(c["scanned"])+" addresses linked, 0 not found, 0 still running") {
		t.Errorf("scan follow-up line: %q; want %d linked", want+line, c["scanned"])
	}
	if f.wug.DeviceCount() != c["scanned"] {
		t.Errorf("WUG holds %d devices, %d addresses were scanned", f.wug.DeviceCount(), c["scanned"])
	}
}

// On a terminal the progress is a bar, and nothing else is written to
// standard error by the progress reporter.
func TestProgressBarOnATerminal(t *testing.T) {
	t.Parallel()
	var errb bytes.Buffer
	p := newProgress(environment{stderr: &errb, terminal: true})
	p.logf("not shown with a bar")
	for i := 1; i <= 3; i++ {
		p.update(i, export.Counts{Selected: 3})
	}
	p.finish(&export.Result{})
	if strings.Contains(errb.String(), "not shown") || strings.Contains(errb.String(), "progress:") {
		t.Errorf("a terminal got log lines:\n%q", errb.String())
	}
	if !strings.Contains(errb.String(), "exporting") {
		t.Errorf("no bar drawn:\n%q", errb.String())
	}
}

// With WUGSYNC_TEST_POSTGRES_DSN set, the CLI runs on the PostgreSQL store.
func TestPostgresStore(t *testing.T) {
	dsn := os.Getenv("WUGSYNC_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("WUGSYNC_TEST_POSTGRES_DSN is not set")
	}
	t.Parallel()
	f := newFixture(t, netboxtest.WithDevices(10))
	conn := "cli-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	code, out, errOut := f.run(t, "--store", dsn, "--connection", conn)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if c := textCounts(t, out); c["added"] == 0 || c["added"] != f.wug.DeviceCount() {
		t.Errorf("counts %v; WUG holds %d devices", c, f.wug.DeviceCount())
	}
}
