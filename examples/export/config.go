package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

// environment is what the command reads from and writes to, so tests run
// it in-process.
type environment struct {
	args     []string
	getenv   func(string) string
	stdout   io.Writer
	stderr   io.Writer
	terminal bool // stderr is a terminal: draw a progress bar
}

// config is the parsed command line.
type config struct {
	netboxURL, netboxToken           string
	wugURL, wugUsername, wugPassword string
	connection                       string

	sel           netbox.Selector
	ips           []netip.Addr
	excludeRecent bool

	mapping export.Mapping

	dryRun       bool
	jsonOut      bool
	scan         bool
	scanFallback bool
	scanWait     time.Duration
	batchSize    int
	concurrency  int
	rate         float64

	caFile, netboxCAFile, wugCAFile string
	wugCertSHA256                   string
	insecure                        bool

	store   string
	verbose bool
	wait    bool // wait for the connection's lease instead of failing

	writeBack writeBackFlags
}

// usageError is a bad command line or configuration: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// listFlag collects a repeatable flag; each use may also hold
// comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// parseConfig reads flags, with environment fallbacks for the server
// settings. A usage problem is a *usageError; -h is flag.ErrHelp.
func parseConfig(env environment) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: export [flags]\n\nExports NetBox devices to WhatsUp Gold once and records each address in a state store.\n"+
			"Exit status: 0 all done, 1 some items failed or the run did not finish, 2 usage, configuration or connection error,\n"+
			"3 another run (this command, the service or a program sharing the store) holds the connection and nothing was done.\n\nFlags:\n")
		fs.PrintDefaults()
	}

	fs.StringVar(&c.netboxURL, "netbox-url", "", "NetBox base URL (env NETBOX_URL)")
	fs.StringVar(&c.netboxToken, "netbox-token", "", "NetBox API token (env NETBOX_TOKEN, preferred: flags show in process lists)")
	fs.StringVar(&c.wugURL, "wug-url", "", "WhatsUp Gold base URL, e.g. https://wug.example.com:9644 (env WUG_URL)")
	fs.StringVar(&c.wugUsername, "wug-username", "", "WhatsUp Gold user name (env WUG_USERNAME)")
	fs.StringVar(&c.wugPassword, "wug-password", "", "WhatsUp Gold password (env WUG_PASSWORD, preferred: flags show in process lists)")
	fs.StringVar(&c.connection, "connection", "", "connection name in the state store (default the WhatsUp Gold host)")

	var sites, roles, tags, statuses, tenants, platforms, cfs, ips listFlag
	fs.Var(&sites, "site", "site slug; repeat or separate with commas for any of several")
	fs.Var(&roles, "role", "device role slug (repeatable)")
	fs.Var(&tags, "tag", "tag slug; every tag given must be present (repeatable)")
	fs.Var(&statuses, "status", `status value such as "active" (repeatable; default active; "*" for all)`)
	fs.Var(&tenants, "tenant", "tenant slug (repeatable)")
	fs.Var(&platforms, "platform", "platform slug (repeatable)")
	fs.Var(&cfs, "cf", "custom field filter name=value (repeatable)")
	changedSince := fs.String("changed-since", "", "only objects changed since a time (RFC 3339 or 2006-01-02) or a duration ago (24h)")
	fs.BoolVar(&c.sel.IncludeVMs, "include-vms", false, "also export virtual machines")
	ipPolicy := fs.String("ip-policy", string(netbox.PrimaryIPv4), "addresses to export per object: primary_ip4, primary_ip6, oob_ip or all")
	fs.Var(&ips, "ip", "bulk export: only these addresses (repeatable)")
	fs.BoolVar(&c.excludeRecent, "exclude-recent", false, "skip addresses exported in the last 24 hours")

	fs.StringVar(&c.mapping.GroupPath, "group-path", "", "WUG group path template, e.g. \"My Network/NetBox/<region>/<site>\" (default \"My Network/NetBox/<site>\")")
	fs.StringVar(&c.mapping.AttributePrefix, "attribute-prefix", "", "prefix of the WUG attribute names wugsync owns (default \"NetBox.\")")

	fs.BoolVar(&c.dryRun, "dry-run", false, "print the plan and change nothing")
	fs.BoolVar(&c.jsonOut, "json", false, "print the result (or the plan) as JSON")
	fs.BoolVar(&c.scan, "scan", false, "have WUG discover new addresses by scan instead of adding them")
	fs.BoolVar(&c.scanFallback, "scan-fallback", false, "scan an address whose add failed")
	fs.DurationVar(&c.scanWait, "scan-wait", 0, "after the export, follow the discovery scans this long (0: check them once)")
	fs.IntVar(&c.batchSize, "batch-size", wug.DefaultBatchSize, "templates or scan targets per WUG request")
	fs.IntVar(&c.concurrency, "concurrency", 2, "WUG requests in flight")
	fs.Float64Var(&c.rate, "rate", wug.DefaultRateLimit, "WUG requests per second (0: no limit)")

	fs.StringVar(&c.caFile, "ca-file", "", "PEM CA bundle trusted for both servers")
	fs.StringVar(&c.netboxCAFile, "netbox-ca-file", "", "PEM CA bundle trusted for NetBox (instead of --ca-file)")
	fs.StringVar(&c.wugCAFile, "wug-ca-file", "", "PEM CA bundle trusted for WhatsUp Gold (instead of --ca-file)")
	fs.StringVar(&c.wugCertSHA256, "wug-cert-sha256", "", "trust the WhatsUp Gold certificate with this SHA-256 fingerprint (self-signed)")
	fs.BoolVar(&c.insecure, "insecure-skip-verify", false, "do not verify TLS certificates (labs only)")

	fs.StringVar(&c.store, "store", "", "state store: a SQLite file path or a postgres:// DSN (default wugsync.db in the user's state directory)")
	fs.BoolVar(&c.verbose, "v", false, "log requests and decisions to standard error")
	fs.BoolVar(&c.wait, "wait", false, "when another run holds the connection, wait for it to end instead of exiting with status 3")

	addWriteBackFlags(fs, &c.writeBack)

	if err := fs.Parse(env.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		// Not echoed: it may be a secret given without its flag.
		return nil, usagef("unexpected argument in position %d after the flags (flags only; its value is not shown)", len(env.args)-fs.NArg()+1)
	}

	fromEnv := func(v *string, name string) {
		if *v == "" {
			*v = env.getenv(name)
		}
	}
	fromEnv(&c.netboxURL, "NETBOX_URL")
	fromEnv(&c.netboxToken, "NETBOX_TOKEN")
	fromEnv(&c.wugURL, "WUG_URL")
	fromEnv(&c.wugUsername, "WUG_USERNAME")
	fromEnv(&c.wugPassword, "WUG_PASSWORD")
	for _, req := range []struct{ v, flag, env string }{
		{c.netboxURL, "--netbox-url", "NETBOX_URL"}, {c.netboxToken, "--netbox-token", "NETBOX_TOKEN"},
		{c.wugURL, "--wug-url", "WUG_URL"}, {c.wugUsername, "--wug-username", "WUG_USERNAME"},
		{c.wugPassword, "--wug-password", "WUG_PASSWORD"},
	} {
		if req.v == "" {
			return nil, usagef("%s is required (or set %s)", req.flag, req.env)
		}
	}
	for _, u := range []struct{ name, v string }{{"--netbox-url", c.netboxURL}, {"--wug-url", c.wugURL}} {
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, usagef("%s must be an http or https URL such as https://host:port", u.name)
		}
		if p.User != nil {
			return nil, usagef("%s must not hold credentials; use the token and password settings", u.name)
		}
	}
	if c.connection == "" {
		p, _ := url.Parse(c.wugURL)
		c.connection = p.Host
	}

	c.sel.Sites, c.sel.Roles, c.sel.Tags = sites, roles, tags
	c.sel.Statuses, c.sel.Tenants, c.sel.Platforms = statuses, tenants, platforms
	c.sel.IPPolicy = netbox.IPPolicy(*ipPolicy)
	switch c.sel.IPPolicy {
	case netbox.PrimaryIPv4, netbox.PrimaryIPv6, netbox.OOBIP, netbox.AllIPs:
	default:
		return nil, usagef("--ip-policy %q: want primary_ip4, primary_ip6, oob_ip or all", *ipPolicy)
	}
	for _, kv := range cfs {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, usagef("--cf %q: want name=value", kv)
		}
		if c.sel.CustomFields == nil {
			c.sel.CustomFields = map[string][]string{}
		}
		c.sel.CustomFields[name] = append(c.sel.CustomFields[name], value)
	}
	if *changedSince != "" {
		t, err := parseSince(*changedSince, time.Now())
		if err != nil {
			return nil, err
		}
		c.sel.ChangedSince = t
	}
	if err := c.sel.Validate(); err != nil {
		return nil, usagef("selection: %v", err)
	}
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, usagef("--ip %q is not an IP address", s)
		}
		c.ips = append(c.ips, a)
	}
	if c.insecure && (c.caFile != "" || c.netboxCAFile != "" || c.wugCAFile != "" || c.wugCertSHA256 != "") {
		return nil, usagef("--insecure-skip-verify turns certificate checks off: give it without CA files or a pinned certificate")
	}
	if c.wugCAFile != "" && c.wugCertSHA256 != "" {
		return nil, usagef("choose one of --wug-ca-file and --wug-cert-sha256")
	}
	if c.batchSize < 1 || c.concurrency < 1 || c.rate < 0 || c.scanWait < 0 {
		return nil, usagef("--batch-size and --concurrency must be at least 1, --rate and --scan-wait not negative")
	}
	if err := c.writeBack.check(); err != nil {
		return nil, err
	}
	if c.store == "" {
		path, err := defaultStorePath(env.getenv)
		if err != nil {
			return nil, usagef("no --store given and %v", err)
		}
		c.store = path
	}
	return c, nil
}

// parseSince reads --changed-since: a time, a date, or a duration before
// now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--changed-since %q: want an RFC 3339 time, a date (2006-01-02) or a duration (24h)", s)
}

// defaultStorePath is wugsync.db in the user's state directory:
// $XDG_STATE_HOME/wugsync, else ~/.local/state/wugsync on Unix, else the
// user's configuration directory (os.UserConfigDir) on Windows and macOS.
func defaultStorePath(getenv func(string) string) (string, error) {
	dir := getenv("XDG_STATE_HOME")
	if dir == "" {
		switch runtime.GOOS {
		case "windows", "darwin", "ios", "plan9":
			d, err := os.UserConfigDir()
			if err != nil {
				return "", err
			}
			dir = d
		default:
			home := getenv("HOME")
			if home == "" {
				return "", errors.New("$HOME is not set")
			}
			dir = filepath.Join(home, ".local", "state")
		}
	}
	return filepath.Join(dir, "wugsync", "wugsync.db"), nil
}
