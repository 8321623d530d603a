package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

// Config is the service's configuration file. YAML or JSON (JSON is YAML)
// is read strictly: an unknown key is an error naming it.
type Config struct {
	Listen        string    `yaml:"listen"`         // address the API listens on; default 127.0.0.1:8080
	APIToken      SecretRef `yaml:"api_token"`      // required: clients send "Authorization: Token <token>"
	WebhookSecret SecretRef `yaml:"webhook_secret"` // NetBox event rules' secret; unset disables /webhooks/netbox
	// WebhookWindowSeconds coalesces webhook events into one targeted
	// export per connection; default 5.
	WebhookWindowSeconds float64 `yaml:"webhook_window_seconds"`
	// LeaseTTLSeconds is how long a run's store lease lasts without
	// renewal; default 120.
	LeaseTTLSeconds float64 `yaml:"lease_ttl_seconds"`
	LogLevel        string  `yaml:"log_level"` // debug, info (default), warn, error

	NetBox      NetBoxConfig       `yaml:"netbox"`
	Store       StoreConfig        `yaml:"store"`
	Connections []ConnectionConfig `yaml:"connections"`
}

// SecretRef names where a secret is read from: an environment variable or
// a file (its content, surrounding white space trimmed). Secrets are never
// written in the configuration itself.
type SecretRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`

	value string
}

// UnmarshalYAML reads {env: NAME} or {file: PATH}. A secret written in
// the configuration itself is refused without echoing any of it.
func (s *SecretRef) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a secret is given as {env: NAME} or {file: PATH}, never written in the configuration (the value is not shown)", n.Line)
	}
	type plain SecretRef
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = SecretRef(p)
	return nil
}

// Value returns the resolved secret.
func (s SecretRef) Value() string { return s.value }

// IsSet reports whether the configuration names a source.
func (s SecretRef) IsSet() bool { return s.Env != "" || s.File != "" }

// resolve reads the secret; field names it in errors.
func (s *SecretRef) resolve(field string, getenv func(string) string) error {
	switch {
	case s.Env != "" && s.File != "":
		return fmt.Errorf("%s: set env or file, not both", field)
	case s.Env != "":
		s.value = strings.TrimSpace(getenv(s.Env))
		if s.value == "" {
			return fmt.Errorf("%s: environment variable %s is empty or not set", field, s.Env)
		}
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return fmt.Errorf("%s: reading the secret file: %w", field, err)
		}
		s.value = strings.TrimSpace(string(b))
		if s.value == "" {
			return fmt.Errorf("%s: file %s is empty", field, s.File)
		}
	default:
		return fmt.Errorf("%s: required (env or file)", field)
	}
	return nil
}

// TLSConfig says how a server's certificate is trusted: the system roots by
// default, or a CA bundle, or a pinned certificate fingerprint, or (for a
// lab) no check at all.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"`
	PinnedCertificate  string `yaml:"pinned_certificate"` // hex SHA-256 of the server's leaf certificate
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// NetBoxConfig is the NetBox server all connections read from.
type NetBoxConfig struct {
	URL   string    `yaml:"url"`
	Token SecretRef `yaml:"token"`
	TLS   TLSConfig `yaml:",inline"`
	// RateLimit caps requests per second to NetBox; 0 means no cap.
	RateLimit float64 `yaml:"rate_limit"`
}

// StoreConfig chooses the state store: a SQLite file (one replica) or a
// PostgreSQL database (any number of replicas).
type StoreConfig struct {
	SQLitePath     string    `yaml:"sqlite_path"`
	PostgresDSN    SecretRef `yaml:"postgres_dsn"` // a DSN may hold a password, so it is a secret
	PostgresSchema string    `yaml:"postgres_schema"`
}

// ConnectionConfig is one WUG server and what is exported to it.
type ConnectionConfig struct {
	// ID is the connection's id in the API paths; default Name. Names the
	// store's records, so keep Name stable.
	ID   string `yaml:"id"`
	Name string `yaml:"name"`

	WUG WUGConfig `yaml:"wug"`

	EnableNetBoxExport    *bool    `yaml:"enable_netbox_export"`    // default true
	ExportIntervalMinutes *float64 `yaml:"export_interval_minutes"` // default 180
	AutoScanExportedIPs   *bool    `yaml:"auto_scan_exported_ips"`  // default true
	// NetBoxWebhooks lets NetBox webhooks trigger targeted exports of this
	// connection; default true (needs webhook_secret).
	NetBoxWebhooks *bool `yaml:"netbox_webhooks"`
	// ScanIntervalMinutes is how often the scan monitor runs between
	// exports; default 5.
	ScanIntervalMinutes float64 `yaml:"scan_interval_minutes"`

	Mode        string  `yaml:"mode"`      // add (default) or scan
	ScanMode    string  `yaml:"scan_mode"` // individual, batch (default) or range
	Removal     string  `yaml:"removal"`   // keep (default), maintenance or delete
	BatchSize   int     `yaml:"batch_size"`
	Concurrency int     `yaml:"concurrency"`
	Attempts    int     `yaml:"attempts"`
	MaxRemove   float64 `yaml:"max_remove_share"`

	Selection SelectionConfig `yaml:"selection"`
	Mapping   MappingConfig   `yaml:"mapping"`
	WriteBack WriteBackConfig `yaml:"write_back"` // off by default
}

// WUGConfig is how to reach one WUG server.
type WUGConfig struct {
	URL      string    `yaml:"url"`
	Username string    `yaml:"username"`
	Password SecretRef `yaml:"password"`
	TLS      TLSConfig `yaml:",inline"`
	// RateLimit is requests per second (default wug.DefaultRateLimit);
	// Burst the limiter's burst (default wug.DefaultBurst).
	RateLimit float64 `yaml:"rate_limit"`
	Burst     int     `yaml:"burst"`
	// DeviceLink is the URL of a device's page in WUG's web interface,
	// with {id} where the WUG device id goes; the status page links each
	// device there. Unset, devices are shown without a link.
	DeviceLink string `yaml:"device_link"`
}

// SelectionConfig is the NetBox selection of a connection (netbox.Selector).
type SelectionConfig struct {
	Sites         []string            `yaml:"sites"`
	Locations     []string            `yaml:"locations"`
	Roles         []string            `yaml:"roles"`
	Tags          []string            `yaml:"tags"`
	AnyTags       []string            `yaml:"any_tags"`
	ExcludeTags   []string            `yaml:"exclude_tags"`
	Statuses      []string            `yaml:"statuses"`
	Tenants       []string            `yaml:"tenants"`
	Platforms     []string            `yaml:"platforms"`
	Manufacturers []string            `yaml:"manufacturers"`
	CustomFields  map[string][]string `yaml:"custom_fields"`
	IncludeVMs    bool                `yaml:"include_vms"`
	IPPolicy      string              `yaml:"ip_policy"` // primary_ip4 (default), primary_ip6, oob_ip, all
}

// MappingConfig is the part of export.Mapping a file can say.
type MappingConfig struct {
	GroupPath           string            `yaml:"group_path"`
	Placeholder         string            `yaml:"placeholder"`
	AttributePrefix     string            `yaml:"attribute_prefix"`
	CustomFieldPrefix   string            `yaml:"custom_field_prefix"`
	SkipCustomFields    []string          `yaml:"skip_custom_fields"`
	DeviceType          string            `yaml:"device_type"`
	Roles               map[string]string `yaml:"roles"`
	SubRoles            []string          `yaml:"sub_roles"`
	Credentials         []CredentialRef   `yaml:"credentials"`
	ActiveMonitors      *[]string         `yaml:"active_monitors"` // unset: Ping; []: none
	PollIntervalSeconds int               `yaml:"poll_interval_seconds"`
	PollByName          bool              `yaml:"poll_by_name"`
	OSRoles             map[string]string `yaml:"os_roles"`    // platform slug or name to WUG OS role
	BrandRoles          map[string]string `yaml:"brand_roles"` // manufacturer slug or name to WUG brand role
	Maintenance         map[string]bool   `yaml:"maintenance"` // NetBox status to in maintenance, over the default
}

// CredentialRef assigns a WUG credential by its name in WUG.
type CredentialRef struct {
	Type string `yaml:"type"` // e.g. "SNMP v2"
	Name string `yaml:"name"`
}

// LoadConfig reads, checks and completes the configuration file at path,
// resolving secrets with getenv and the file system.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(b, getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig is LoadConfig on the file's content.
func ParseConfig(b []byte, getenv func(string) string) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, withoutValues(err)
	}
	if err := cfg.complete(getenv); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// quotedValue is how yaml.v3 quotes a value in its errors.
var quotedValue = regexp.MustCompile("`[^`]*`")

// withoutValues returns a YAML decoding error with the values it quotes
// left out: a value in the wrong place may be a secret written there by
// mistake, and errors end up in logs.
func withoutValues(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = quotedValue.ReplaceAllString(m, "a value (not shown)")
	}
	return errors.New("yaml: " + strings.Join(msgs, "; "))
}

func (c *Config) complete(getenv func(string) string) error {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %q is not host:port", c.Listen)
	}
	if err := c.APIToken.resolve("api_token", getenv); err != nil {
		return err
	}
	if c.WebhookSecret.IsSet() {
		if err := c.WebhookSecret.resolve("webhook_secret", getenv); err != nil {
			return err
		}
	}
	if c.WebhookWindowSeconds < 0 || c.LeaseTTLSeconds < 0 {
		return errors.New("webhook_window_seconds and lease_ttl_seconds must not be negative")
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel)
	}

	if err := checkURL("netbox.url", c.NetBox.URL); err != nil {
		return err
	}
	if err := c.NetBox.Token.resolve("netbox.token", getenv); err != nil {
		return err
	}
	if err := c.NetBox.TLS.check("netbox"); err != nil {
		return err
	}

	switch {
	case c.Store.SQLitePath != "" && c.Store.PostgresDSN.IsSet():
		return errors.New("store: set sqlite_path or postgres_dsn, not both")
	case c.Store.PostgresDSN.IsSet():
		if err := c.Store.PostgresDSN.resolve("store.postgres_dsn", getenv); err != nil {
			return err
		}
	case c.Store.PostgresSchema != "":
		return errors.New("store.postgres_schema: only with store.postgres_dsn")
	case c.Store.SQLitePath == "":
		return errors.New("store: required (sqlite_path or postgres_dsn)")
	}

	if len(c.Connections) == 0 {
		return errors.New("connections: at least one is required")
	}
	ids, names := map[string]int{}, map[string]int{}
	for i := range c.Connections {
		cc := &c.Connections[i]
		field := fmt.Sprintf("connections[%d]", i)
		if err := cc.complete(field, getenv); err != nil {
			return err
		}
		if j, dup := names[cc.Name]; dup {
			return fmt.Errorf("%s.name: %q is also the name of connections[%d]", field, cc.Name, j)
		}
		names[cc.Name] = i
		if j, dup := ids[cc.ID]; dup {
			return fmt.Errorf("%s.id: %q is also the id of connections[%d]", field, cc.ID, j)
		}
		ids[cc.ID] = i
	}
	// An id may equal a name only when both belong to one connection, so
	// the API's {id} is never ambiguous.
	for i := range c.Connections {
		if j, ok := names[c.Connections[i].ID]; ok && j != i {
			return fmt.Errorf("connections[%d].id: %q is the name of connections[%d]", i, c.Connections[i].ID, j)
		}
	}
	return nil
}

func (cc *ConnectionConfig) complete(field string, getenv func(string) string) error {
	if cc.Name == "" {
		return fmt.Errorf("%s.name: required", field)
	}
	if strings.ContainsAny(cc.Name, "/ ") {
		return fmt.Errorf("%s.name: %q must not contain '/' or spaces", field, cc.Name)
	}
	if cc.ID == "" {
		cc.ID = cc.Name
	}
	if strings.Contains(cc.ID, "/") {
		return fmt.Errorf("%s.id: %q must not contain '/'", field, cc.ID)
	}
	field += fmt.Sprintf(" (%s)", cc.Name)
	if err := checkURL(field+".wug.url", cc.WUG.URL); err != nil {
		return err
	}
	if cc.WUG.Username == "" {
		return fmt.Errorf("%s.wug.username: required", field)
	}
	if err := cc.WUG.Password.resolve(field+".wug.password", getenv); err != nil {
		return err
	}
	if err := cc.WUG.TLS.check(field + ".wug"); err != nil {
		return err
	}
	if l := cc.WUG.DeviceLink; l != "" {
		if !strings.Contains(l, "{id}") {
			return fmt.Errorf("%s.wug.device_link: %q has no {id} for the device id", field, l)
		}
		if err := checkURL(field+".wug.device_link", strings.ReplaceAll(l, "{id}", "1")); err != nil {
			return err
		}
	}
	if cc.WUG.RateLimit < 0 || cc.WUG.Burst < 0 {
		return fmt.Errorf("%s.wug: rate_limit and burst must not be negative", field)
	}
	if cc.EnableNetBoxExport == nil {
		cc.EnableNetBoxExport = ptr(true)
	}
	if cc.AutoScanExportedIPs == nil {
		cc.AutoScanExportedIPs = ptr(true)
	}
	if cc.NetBoxWebhooks == nil {
		cc.NetBoxWebhooks = ptr(true)
	}
	if cc.ExportIntervalMinutes == nil {
		cc.ExportIntervalMinutes = ptr(180.0)
	}
	if m := *cc.ExportIntervalMinutes; m <= 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		return fmt.Errorf("%s.export_interval_minutes: %v must be positive", field, m)
	}
	if cc.ScanIntervalMinutes < 0 {
		return fmt.Errorf("%s.scan_interval_minutes: %v must not be negative", field, cc.ScanIntervalMinutes)
	}
	if cc.Attempts < 0 {
		return fmt.Errorf("%s: attempts must not be negative", field)
	}
	switch cc.Mode {
	case "", "add", "scan":
	default:
		return fmt.Errorf("%s: mode %q: want \"add\" or \"scan\"", field, cc.Mode)
	}
	switch cc.ScanMode {
	case "", "individual", "batch", "range":
	default:
		return fmt.Errorf("%s: scan_mode %q: want \"individual\", \"batch\" or \"range\"", field, cc.ScanMode)
	}
	if err := cc.Settings().Validate(); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	sel := cc.Selection.selector()
	if err := sel.Validate(); err != nil {
		return fmt.Errorf("%s.selection: %w", field, err)
	}
	if err := cc.Mapping.mapping().Validate(); err != nil {
		return fmt.Errorf("%s.mapping: %w", field, err)
	}
	return nil
}

func (t TLSConfig) check(field string) error {
	n := 0
	for _, set := range []bool{t.CAFile != "", t.PinnedCertificate != "", t.InsecureSkipVerify} {
		if set {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("%s: set at most one of ca_file, pinned_certificate and insecure_skip_verify", field)
	}
	return nil
}

func checkURL(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s: required", field)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an http or https URL", field, s)
	}
	if u.User != nil {
		return fmt.Errorf("%s: credentials do not belong in the URL", field)
	}
	return nil
}

// Selector returns the NetBox selection the configuration describes.
func (cc *ConnectionConfig) Selector() netbox.Selector { return cc.Selection.selector() }

// Settings returns the export settings the configuration describes.
func (cc *ConnectionConfig) Settings() export.Settings {
	return export.Settings{
		Scan:           cc.Mode == "scan",
		ScanFallback:   *cc.AutoScanExportedIPs,
		ScanRanges:     cc.ScanMode == "range",
		ScanOptions:    cc.scanOptions(),
		Removal:        export.RemovalPolicy(cc.Removal),
		MaxRemoveShare: cc.MaxRemove,
		BatchSize:      cc.BatchSize,
		Concurrency:    cc.Concurrency,
	}
}

// scanOptions bounds scan grouping: scan_mode individual sends one address
// a request; otherwise the zero value keeps the export's defaults.
func (cc *ConnectionConfig) scanOptions() export.ScanOptions {
	if cc.ScanMode == "individual" {
		return export.ScanOptions{BatchSize: 1}
	}
	return export.ScanOptions{}
}

// Interval is the time between scheduled exports.
func (cc *ConnectionConfig) Interval() time.Duration {
	return time.Duration(*cc.ExportIntervalMinutes * float64(time.Minute))
}

func (s SelectionConfig) selector() netbox.Selector {
	return netbox.Selector{
		Sites:         s.Sites,
		Locations:     s.Locations,
		Roles:         s.Roles,
		Tags:          s.Tags,
		AnyTags:       s.AnyTags,
		ExcludeTags:   s.ExcludeTags,
		Statuses:      s.Statuses,
		Tenants:       s.Tenants,
		Platforms:     s.Platforms,
		Manufacturers: s.Manufacturers,
		CustomFields:  s.CustomFields,
		IncludeVMs:    s.IncludeVMs,
		IPPolicy:      netbox.IPPolicy(s.IPPolicy),
	}
}

func (m MappingConfig) mapping() export.Mapping {
	out := export.Mapping{
		GroupPath:         m.GroupPath,
		Placeholder:       m.Placeholder,
		AttributePrefix:   m.AttributePrefix,
		CustomFieldPrefix: m.CustomFieldPrefix,
		SkipCustomFields:  m.SkipCustomFields,
		DeviceType:        m.DeviceType,
		Roles:             m.Roles,
		SubRoles:          m.SubRoles,
		PollInterval:      time.Duration(m.PollIntervalSeconds) * time.Second,
		PollByName:        m.PollByName,
		OSRoles:           m.OSRoles,
		BrandRoles:        m.BrandRoles,
		Maintenance:       m.Maintenance,
	}
	if m.ActiveMonitors != nil {
		out.ActiveMonitors = append([]string{}, *m.ActiveMonitors...)
	}
	for _, c := range m.Credentials {
		out.Credentials = append(out.Credentials, wug.TemplateCredential{CredentialType: c.Type, Credential: c.Name})
	}
	return out
}

func ptr[T any](v T) *T { return &v }
