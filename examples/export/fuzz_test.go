package main

import (
	"bytes"
	"errors"
	"flag"
	"net/url"
	"strings"
	"testing"
)

// Planted secrets for FuzzParseConfig: one given on the command line, one
// in the environment. Both look like nothing the command's messages could
// say by themselves.
const (
	plantedArgSecret = "Zq8vK3mPw2xR7tLn"
	plantedEnvSecret = "Hb4cJ9sWd6yF1gQe"
)

// FuzzParseConfig parses arbitrary command lines (one argument per line of
// the fuzzed text) with the server settings in the environment. It never
// panics; an accepted configuration is complete and consistent; and neither
// the error nor what the command wrote ever holds a piece of a secret: the
// password and token from the environment, or a planted secret given
// first as --wug-password or --netbox-token, or last as a stray argument
// after "--" (a secret pasted without its flag).
func FuzzParseConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string, form uint8) {
		args := strings.Split(text, "\n")
		if text == "" {
			args = nil
		}
		switch form % 4 {
		case 1:
			args = append([]string{"--wug-password=" + plantedArgSecret}, args...)
		case 2:
			args = append([]string{"--netbox-token", plantedArgSecret}, args...)
		case 3:
			args = append(args, "--", plantedArgSecret)
		}
		envs := map[string]string{
			"NETBOX_URL": "https://netbox.example.com", "NETBOX_TOKEN": plantedEnvSecret,
			"WUG_URL": "https://wug.example.com:9644", "WUG_USERNAME": "admin", "WUG_PASSWORD": plantedEnvSecret,
			"HOME": "/home/user",
		}
		var out bytes.Buffer
		c, err := parseConfig(environment{args: args, getenv: func(k string) string { return envs[k] }, stdout: &out, stderr: &out})
		said := out.String()
		if err != nil {
			said += "\n" + err.Error()
		}
		for _, secret := range []string{plantedEnvSecret, plantedArgSecret} {
			if leak := echoed(said, secret, text); leak != "" {
				t.Fatalf("args %q: the command said %q, which holds %q of a secret", args, said, leak)
			}
		}
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) && !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("args %q: error %v (%T) is not a usage error", args, err, err)
			}
			return
		}
		checkConfig(t, args, c)
	})
}

// echoed returns a piece (five characters or more) of secret that msg
// holds and the fuzzed text does not, or "".
func echoed(msg, secret, text string) string {
	for i := 0; i+5 <= len(secret); i++ {
		if p := secret[i : i+5]; strings.Contains(msg, p) && !strings.Contains(text, p) {
			return p
		}
	}
	return ""
}

// checkConfig checks an accepted command line gave a complete,
// consistent configuration.
func checkConfig(t *testing.T, args []string, c *config) {
	t.Helper()
	if c.netboxToken == "" || c.wugPassword == "" || c.wugUsername == "" || c.connection == "" || c.store == "" {
		t.Fatalf("args %q: accepted with a required setting empty: %+v", args, c)
	}
	for _, s := range []string{c.netboxURL, c.wugURL} {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			t.Fatalf("args %q: accepted server URL %q", args, s)
		}
	}
	if c.batchSize < 1 || c.concurrency < 1 || c.rate < 0 || c.scanWait < 0 {
		t.Fatalf("args %q: accepted batch size %d, concurrency %d, rate %v, scan wait %v", args, c.batchSize, c.concurrency, c.rate, c.scanWait)
	}
	if c.insecure && (c.caFile != "" || c.netboxCAFile != "" || c.wugCAFile != "" || c.wugCertSHA256 != "") {
		t.Fatalf("args %q: accepted skip-verify with a CA or pin", args)
	}
	if err := c.sel.Validate(); err != nil {
		t.Fatalf("args %q: accepted a selection that does not validate: %v", args, err)
	}
	for _, a := range c.ips {
		if !a.IsValid() {
			t.Fatalf("args %q: accepted an invalid address", args)
		}
	}
}
