package wug_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net/http"
	"reflect"
	"testing"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// TestOptionsMatchNetBox holds the two clients to one option set for what
// they share: the same names taking the same argument types.
func TestOptionsMatchNetBox(t *testing.T) {
	t.Parallel()
	shared := []struct {
		name    string
		wug, nb any
	}{
		{"WithHTTPClient", wug.WithHTTPClient, netbox.WithHTTPClient},
		{"WithBaseTransport", wug.WithBaseTransport, netbox.WithBaseTransport},
		{"WithTLSConfig", wug.WithTLSConfig, netbox.WithTLSConfig},
		{"WithCAFile", wug.WithCAFile, netbox.WithCAFile},
		{"WithCAPEM", wug.WithCAPEM, netbox.WithCAPEM},
		{"WithPinnedCertificate", wug.WithPinnedCertificate, netbox.WithPinnedCertificate},
		{"WithInsecureSkipVerify", wug.WithInsecureSkipVerify, netbox.WithInsecureSkipVerify},
		{"WithRetry", wug.WithRetry, netbox.WithRetry},
		{"WithRateLimit", wug.WithRateLimit, netbox.WithRateLimit},
		{"WithMaxConcurrency", wug.WithMaxConcurrency, netbox.WithMaxConcurrency},
		{"WithLogger", wug.WithLogger, netbox.WithLogger},
		{"WithUserAgent", wug.WithUserAgent, netbox.WithUserAgent},
		{"WithTimeout", wug.WithTimeout, netbox.WithTimeout},
		{"WithHooks", wug.WithHooks, netbox.WithHooks},
	}
	for _, s := range shared {
		w, n := reflect.TypeOf(s.wug), reflect.TypeOf(s.nb)
		if w.NumIn() != n.NumIn() {
			t.Errorf("%s: wug takes %v, netbox %v", s.name, w, n)
			continue
		}
		for i := range w.NumIn() {
			if w.In(i) != n.In(i) {
				t.Errorf("%s: argument %d is %v in wug, %v in netbox", s.name, i, w.In(i), n.In(i))
			}
		}
	}
	for name, pair := range map[string][2]any{
		"ErrUntrustedCertificate": {wug.ErrUntrustedCertificate, netbox.ErrUntrustedCertificate},
		"DefaultRetryPolicy":      {wug.DefaultRetryPolicy(), netbox.DefaultRetryPolicy()},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s differs: wug %v, netbox %v", name, pair[0], pair[1])
		}
	}
}

// A transport of the caller's own (here one with a larger idle pool) takes
// the TLS options: they apply to a copy of it.
func ExampleWithBaseTransport() {
	srv := wugtest.Start()
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().Raw)

	c, err := wug.NewClient(srv.URL,
		wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword),
		wug.WithBaseTransport(&http.Transport{MaxIdleConnsPerHost: 16}),
		wug.WithPinnedCertificate(hex.EncodeToString(sum[:])),
	)
	if err != nil {
		log.Fatal(err)
	}
	who, err := c.Product.WhoAmI(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(who)
	// Output: admin
}

// A server whose certificate is not trusted fails at once, and the failure
// is told apart with errors.Is, not by its text.
func ExampleErrUntrustedCertificate() {
	srv := wugtest.Start()
	defer srv.Close()

	c, err := wug.NewClient(srv.URL, wug.WithCredentials(wugtest.DefaultUser, wugtest.DefaultPassword))
	if err != nil {
		log.Fatal(err)
	}
	err = c.Login(context.Background())
	fmt.Println(errors.Is(err, wug.ErrUntrustedCertificate), c.Retries())
	// Output: true 0
}
