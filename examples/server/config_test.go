package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var testEnv = env(map[string]string{
	"API_TOKEN": "api-token-1234", "NB_TOKEN": "nb-token", "WUG_PW": "wug-password", "HOOK": "hook-secret",
	"WUGSYNC_API_TOKEN": "a", "NETBOX_TOKEN": "b", "WUG_PASSWORD": "c", "WUGSYNC_WEBHOOK_SECRET": "d",
})

const minimalConfig = `
api_token: {env: API_TOKEN}
netbox: {url: "http://127.0.0.1:1", token: {env: NB_TOKEN}}
store: {sqlite_path: x.db}
connections:
  - name: main
    wug: {url: "https://127.0.0.1:2", username: admin, password: {env: WUG_PW}}
`

func TestExampleConfigLoads(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig("wugsync.example.yaml", testEnv)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.Connections[0]
	if cc.ID != "1" || cc.Name != "wug-main" || cc.Interval() != 180*time.Minute || !*cc.AutoScanExportedIPs {
		t.Errorf("connection = %+v", cc)
	}
	want := netbox.Selector{Sites: []string{"dc1", "dc2"}, Roles: []string{"router", "switch", "server"},
		Statuses: []string{"active"}, IncludeVMs: true, IPPolicy: netbox.PrimaryIPv4}
	if diff := cmp.Diff(want, cc.Selector()); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	if cfg.APIToken.Value() != "a" || cfg.WebhookSecret.Value() != "d" || cc.WUG.Password.Value() != "c" {
		t.Error("secrets were not read from the environment")
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(minimalConfig), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.Connections[0]
	got := []any{cfg.Listen, cc.ID, *cc.EnableNetBoxExport, cc.Interval(), *cc.AutoScanExportedIPs, *cc.NetBoxWebhooks,
		cc.Settings().ScanFallback, cfg.WebhookSecret.IsSet()}
	want := []any{"127.0.0.1:8080", "main", true, 180 * time.Minute, true, true, true, false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestConfigSecretFromFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(minimalConfig, "api_token: {env: API_TOKEN}", "api_token: {file: "+path+"}", 1)
	cfg, err := ParseConfig([]byte(text), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIToken.Value() != "from-file" {
		t.Errorf("api token = %q, want the file's content trimmed", cfg.APIToken.Value())
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, from, to, want string
	}{
		{"unknown key", "store:", "stor:", "field stor not found"},
		{"no api token", "api_token: {env: API_TOKEN}", "", "api_token: required"},
		{"empty env", "{env: API_TOKEN}", "{env: NOT_SET}", "api_token: environment variable NOT_SET is empty"},
		{"env and file", "{env: API_TOKEN}", "{env: API_TOKEN, file: /x}", "api_token: set env or file, not both"},
		{"missing file", "{env: API_TOKEN}", "{file: /nonexistent/token}", "api_token: reading the secret file"},
		{"netbox url", `"http://127.0.0.1:1"`, `"ftp://x"`, "netbox.url: \"ftp://x\" is not an http or https URL"},
		{"url with credentials", `"http://127.0.0.1:1"`, `"http://u:p@127.0.0.1:1"`, "netbox.url: credentials do not belong in the URL"},
		{"no store", "store: {sqlite_path: x.db}", "", "store: required"},
		{"two stores", "{sqlite_path: x.db}", "{sqlite_path: x.db, postgres_dsn: {env: NB_TOKEN}}", "store: set sqlite_path or postgres_dsn, not both"},
		{"wug url", `"https://127.0.0.1:2"`, `""`, "connections[0] (main).wug.url: required"},
		{"wug password", "password: {env: WUG_PW}", "password: {}", "connections[0] (main).wug.password: required"},
		{"no name", "name: main", "id: x", "connections[0].name: required"},
		{"interval", "name: main", "name: main\n    export_interval_minutes: 0", "connections[0] (main).export_interval_minutes: 0 must be positive"},
		{"mode", "name: main", "name: main\n    mode: copy", `connections[0] (main): mode "copy": want "add" or "scan"`},
		{"scan mode", "name: main", "name: main\n    scan_mode: subnet", `connections[0] (main): scan_mode "subnet": want "individual", "batch" or "range"`},
		{"removal", "name: main", "name: main\n    removal: purge", `connections[0] (main): removal "purge"`},
		{"ip policy", "name: main", "name: main\n    selection: {ip_policy: every}", "connections[0] (main).selection:"},
		{"mapping", "name: main", "name: main\n    mapping: {poll_interval_seconds: 5}", "connections[0] (main).mapping:"},
		{"tls", "username: admin", "username: admin, ca_file: a.pem, insecure_skip_verify: true", "connections[0] (main).wug: set at most one"},
		{"listen", "store:", "listen: nowhere\nstore:", `listen: "nowhere" is not host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := strings.Replace(minimalConfig, tt.from, tt.to, 1)
			if text == minimalConfig {
				t.Fatalf("%q is not in the configuration", tt.from)
			}
			_, err := ParseConfig([]byte(text), testEnv)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestConfigDuplicateConnections(t *testing.T) {
	t.Parallel()
	tests := []struct{ firstID, second, want string }{
		{"", "name: main", `connections[1].name: "main" is also the name of connections[0]`},
		{"", "name: other\n    id: main", `connections[1].id: "main" is also the id of connections[0]`},
		{"x", "name: other\n    id: main", `connections[1].id: "main" is the name of connections[0]`},
	}
	for _, tt := range tests {
		text := minimalConfig
		if tt.firstID != "" {
			text = strings.Replace(text, "name: main", "name: main\n    id: "+tt.firstID, 1)
		}
		text += "  - " + tt.second +
			"\n    wug: {url: \"https://127.0.0.1:2\", username: admin, password: {env: WUG_PW}}\n"
		_, err := ParseConfig([]byte(text), testEnv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("second connection %s: error = %v, want %q", tt.second, err, tt.want)
		}
	}
}

func TestConfigConnectionMapsToExport(t *testing.T) {
	t.Parallel()
	text := strings.Replace(minimalConfig, "name: main", `name: main
    auto_scan_exported_ips: false
    mode: scan
    scan_mode: range
    removal: maintenance
    batch_size: 20
    export_interval_minutes: 0.5
    mapping: {group_path: "NetBox/<region>/<site>", credentials: [{type: SNMP v2, name: public-ro}], active_monitors: [],
      os_roles: {ios: Cisco IOS}, brand_roles: {cisco: Cisco}, maintenance: {planned: false, retired: true}}`, 1)
	cfg, err := ParseConfig([]byte(text), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.Connections[0]
	want := export.Settings{Scan: true, ScanRanges: true, Removal: export.RemoveMaintenance, BatchSize: 20}
	if diff := cmp.Diff(want, cc.Settings()); diff != "" {
		t.Errorf("connection (-want +got):\n%s", diff)
	}
	if cc.Interval() != 30*time.Second {
		t.Errorf("interval = %v, want 30s", cc.Interval())
	}
	cc.ScanMode = "individual"
	if got := cc.Settings(); got.ScanRanges || got.ScanOptions.BatchSize != 1 {
		t.Errorf("scan_mode individual: ScanRanges %v, ScanOptions %+v; want lists of one address", got.ScanRanges, got.ScanOptions)
	}
	m := cc.Mapping.mapping()
	if m.ActiveMonitors == nil || len(m.ActiveMonitors) != 0 || m.Credentials[0].Credential != "public-ro" {
		t.Errorf("mapping = %+v", m)
	}
	roles := []any{m.OSRoles, m.BrandRoles, m.Maintenance}
	if diff := cmp.Diff([]any{map[string]string{"ios": "Cisco IOS"}, map[string]string{"cisco": "Cisco"},
		map[string]bool{"planned": false, "retired": true}}, roles); diff != "" {
		t.Errorf("mapping's roles and maintenance (-want +got):\n%s", diff)
	}
}

func TestConfigJSONAndNumericID(t *testing.T) {
	t.Parallel()
	text := `{
  "api_token": {"env": "API_TOKEN"},
  "netbox": {"url": "http://127.0.0.1:1", "token": {"file": "/dev/null"}},
  "store": {"postgres_dsn": {"env": "NB_TOKEN"}, "postgres_schema": "wugsync"},
  "connections": [{"id": 12, "name": "main", "export_interval_minutes": 60,
    "wug": {"url": "https://127.0.0.1:2", "username": "admin", "password": {"env": "WUG_PW"}}}]
}`
	_, err := ParseConfig([]byte(text), testEnv)
	if err == nil || !strings.Contains(err.Error(), "netbox.token: file /dev/null is empty") {
		t.Fatalf("error = %v, want the empty token file named", err)
	}
	cfg, err := ParseConfig([]byte(strings.Replace(text, `{"file": "/dev/null"}`, `{"env": "NB_TOKEN"}`, 1)), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.Connections[0]
	if cc.ID != "12" || cc.Interval() != time.Hour || cfg.Store.PostgresDSN.Value() != "nb-token" {
		t.Errorf("id %q, interval %v, dsn set %v", cc.ID, cc.Interval(), cfg.Store.PostgresDSN.Value() != "")
	}
}

// TestConfigErrorsHideValues: a secret written in the configuration by
// mistake, where a secret reference or any other value belongs, never
// shows in the error, not even in part.
func TestConfigErrorsHideValues(t *testing.T) {
	t.Parallel()
	const secret = "sk-live-9f8e7d6c5b4a3210"
	tests := []struct{ name, yaml string }{
		{"api token written in", strings.Replace(minimalConfig, "api_token: {env: API_TOKEN}", "api_token: "+secret, 1)},
		{"wug password written in", strings.Replace(minimalConfig, "password: {env: WUG_PW}", "password: \""+secret+"\"", 1)},
		{"netbox token written in", strings.Replace(minimalConfig, "token: {env: NB_TOKEN}", "token: '"+secret+"'", 1)},
		{"postgres dsn written in", strings.Replace(minimalConfig, "store: {sqlite_path: x.db}", "store: {postgres_dsn: \"postgres://u:"+secret+"@db/x\"}", 1)},
		{"secret in a number's place", minimalConfig + "lease_ttl_seconds: " + secret + "\n"},
		{"secret in a list's place", strings.Replace(minimalConfig, "    wug:", "    selection: {custom_fields: "+secret+"}\n    wug:", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig([]byte(tt.yaml), testEnv)
			if err == nil {
				t.Fatal("config with a secret written in was accepted")
			}
			for i := 0; i+4 <= len(secret); i++ {
				if strings.Contains(err.Error(), secret[i:i+4]) {
					t.Fatalf("error %q shows part of the secret (%q)", err, secret[i:i+4])
				}
			}
		})
	}
}
