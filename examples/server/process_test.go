package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// buildServer builds this command into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the service as a process")
	}
	return goBuild(t, ".", "wugsync-server")
}

// goBuild builds the command in dir into a temporary directory as name,
// with the race detector when the tests run with it (a data race makes the
// process exit 66).
func goBuild(t *testing.T, dir, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, dir)...).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

// killAtEnd kills cmd's process when the test ends unless done (closed once
// Wait has returned) is closed by then.
func killAtEnd(t *testing.T, cmd *exec.Cmd, done <-chan struct{}) {
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})
}

// serverProcess is the service running as a child process.
type serverProcess struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string // host:port it listens on
	done chan struct{}
	err  error // from Wait, once done is closed
	logs syncBuffer
}

// startServer starts bin with the configuration at cfgPath and the given
// environment, and waits until it listens.
func startServer(t *testing.T, bin, cfgPath string, env []string) *serverProcess {
	t.Helper()
	p := &serverProcess{t: t, cmd: exec.Command(bin, "-config", cfgPath), done: make(chan struct{})}
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			fmt.Fprintf(&p.logs, "%s\n", line)
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" {
				listening <- rec.Addr
			}
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	killAtEnd(t, p.cmd, p.done)
	select {
	case p.addr = <-listening:
	case <-p.done:
		t.Fatalf("the service exited before listening: %v\n%s", p.err, p.Logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("the service did not listen within 30s\n%s", p.Logs())
	}
	return p
}

// URL returns the service's URL for path.
func (p *serverProcess) URL(path string) string { return "http://" + p.addr + path }

// Logs returns what the service wrote to standard error so far.
func (p *serverProcess) Logs() string {
	return p.logs.String()
}

// Terminate sends SIGTERM without waiting.
func (p *serverProcess) Terminate() {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
}

// Wait waits for the process to exit and fails the test unless it exited
// cleanly (status 0).
func (p *serverProcess) Wait() {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("the service did not exit within 30s of SIGTERM\n%s", p.Logs())
	}
	if p.err != nil {
		p.t.Fatalf("the service exited with %v\n%s", p.err, p.Logs())
	}
}

// waitIdle polls a connection's export status until no run is in progress
// and returns the status.
func waitIdle(t *testing.T, statusURL string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, st := doJSON(t, "GET", statusURL, testToken, "")
		if code == http.StatusOK && st["in_progress"] == false {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("the export did not finish: %d %v", code, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServerProcess(t *testing.T) {
	t.Parallel()
	bin := buildServer(t)
	dir := t.TempDir()
	nb := netboxtest.NewServer(t, netboxtest.WithDevices(20))
	wg := wugtest.NewServer(t) // TLS with a self-signed certificate
	caFile := filepath.Join(dir, "wug-ca.pem")
	tokenFile := filepath.Join(dir, "api-token")
	dbPath := filepath.Join(dir, "wugsync.db")
	cfgPath := filepath.Join(dir, "wugsync.yaml")
	writeFile(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: wg.Certificate().Raw})))
	writeFile(t, tokenFile, testToken+"\n")
	writeFile(t, cfgPath, fmt.Sprintf(`
listen: 127.0.0.1:0
log_level: debug   # every HTTP attempt is logged: none may show a secret
api_token: {file: %q}
webhook_secret: {env: HOOK}
netbox: {url: %q, token: {env: NB_TOKEN}}
store: {sqlite_path: %q}
connections:
  - id: "7"
    name: main
    wug: {url: %q, username: %s, password: {env: WUG_PW}, ca_file: %q, rate_limit: 1000, burst: 100}
    export_interval_minutes: 100000
`, tokenFile, nb.URL, dbPath, wg.URL, wugtest.DefaultUser, caFile))
	secrets := []string{"HOOK=" + testSecret, "NB_TOKEN=" + netboxtest.DefaultToken, "WUG_PW=" + wugtest.DefaultPassword}

	p := startServer(t, bin, cfgPath, secrets)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := do(t, "GET", p.URL(path), "", ""); code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, code)
		}
	}
	if code, body := do(t, "GET", p.URL(ipExportsPath), "", ""); code != http.StatusUnauthorized {
		t.Errorf("records without a token: %d %s, want 401", code, body)
	}
	if code, body := do(t, "GET", p.URL(ipExportsPath), "wrong", ""); code != http.StatusForbidden {
		t.Errorf("records with a wrong token: %d %s, want 403", code, body)
	}

	// A full export over TLS, trusting WUG's certificate from ca_file.
	code, ans := doJSON(t, "POST", p.URL("/api/plugins/wug-sync/connections/7/export/"), testToken, `{"device_filters": {}}`)
	if code != http.StatusAccepted {
		t.Fatalf("export: %d %v", code, ans)
	}
	st := waitIdle(t, p.URL("/api/plugins/wug-sync/connections/7/export-status/"))
	last := st["last_export"].(map[string]any)
	if last["id"] != ans["run_id"] || last["status"] != "succeeded" || wg.DeviceCount() == 0 {
		t.Fatalf("last export = %v; WUG holds %d devices", last, wg.DeviceCount())
	}
	code, list := doJSON(t, "GET", p.URL(ipExportsPath+"?limit=1"), testToken, "")
	if code != http.StatusOK || list["count"] != st["total"] || len(list["results"].([]any)) != 1 {
		t.Errorf("records: %d %v", code, list)
	}
	_, metrics := do(t, "GET", p.URL("/metrics"), "", "")
	if v, _ := metricValue(metrics, "wugsync_export_runs_total", "connection", "main", "status", "succeeded"); v != 1 {
		t.Errorf("wugsync_export_runs_total = %v, want 1", v)
	}
	if v, _ := metricValue(metrics, "wugsync_http_client_requests_total", "server", "wug"); v < 3 {
		t.Errorf("WUG requests = %v, want at least 3", v)
	}

	// SIGTERM during a run: the service exits cleanly and records the run
	// as interrupted.
	nb.SetLatency(time.Second, time.Second)
	code, ans = doJSON(t, "POST", p.URL("/api/plugins/wug-sync/connections/main/export/"), testToken, "")
	if code != http.StatusAccepted {
		t.Fatalf("second export: %d %v", code, ans)
	}
	code, busy := doJSON(t, "POST", p.URL("/api/plugins/wug-sync/connections/7/export/"), testToken, "")
	if code != http.StatusConflict || busy["run_id"] != ans["run_id"] {
		t.Errorf("export during run %v: %d %v, want 409 naming it", ans["run_id"], code, busy)
	}
	hook := []byte(`{"event": "updated", "model": "device", "data": {"id": 1, "name": "x"}}`)
	req, _ := http.NewRequest("POST", p.URL("/webhooks/netbox"), bytes.NewReader(hook))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(netbox.SignatureHeader, netbox.Sign([]byte("another secret"), hook))
	if resp, err := testClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("webhook with a bad signature: %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}
	p.Terminate()
	p.Wait()
	logs := p.Logs()
	if !strings.Contains(logs, "stopped cleanly") {
		t.Errorf("logs do not say the service stopped cleanly:\n%s", logs)
	}
	if !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Errorf("no debug records were logged, so the secret check below proves little:\n%s", logs)
	}
	for _, secret := range []string{testToken, testSecret, netboxtest.DefaultToken, wugtest.DefaultPassword} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain a secret (%.4s…)", secret)
		}
	}
	st2, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	run, err := st2.Run(context.Background(), ans["run_id"].(string))
	if err != nil || run.Status != store.RunInterrupted || run.FinishedAt.IsZero() {
		t.Errorf("run after SIGTERM = %+v, %v; want interrupted", run, err)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	cfgPath := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, cfgPath, strings.Replace(minimalConfig, "{env: WUG_PW}", "{env: NOT_SET}", 1))
	var out bytes.Buffer
	code := run([]string{"-config", cfgPath}, env(map[string]string{"API_TOKEN": "x", "NB_TOKEN": "y"}), &out)
	if code != 2 || !strings.Contains(out.String(), "connections[0] (main).wug.password: environment variable NOT_SET is empty or not set") {
		t.Errorf("exit %d, output %q; want exit 2 naming the field", code, out.String())
	}
	out.Reset()
	if code := run(nil, env(nil), &out); code != 2 || !strings.Contains(out.String(), "usage:") {
		t.Errorf("no -config: exit %d, output %q; want 2 and the usage", code, out.String())
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
