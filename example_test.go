package wugsync_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// exportSite is the library example of README.md, line for line: export one
// NetBox site to WhatsUp Gold, recording each address in a SQLite file.
func exportSite(ctx context.Context, netboxURL, token, wugURL, user, password, dbPath string) (*export.Result, error) {
	nb, err := netbox.NewClient(netboxURL, token)
	if err != nil {
		return nil, err
	}
	w, err := wug.NewClient(wugURL, wug.WithCredentials(user, password))
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	conn, err := export.New(nb, w, st, export.WithName("wug1"),
		export.WithSelector(netbox.Selector{Sites: []string{"ams1"}})) // no WithMapping: the defaults
	if err != nil {
		return nil, err
	}
	return conn.Run(ctx, export.RunOptions{})
}

// The README's library example, run against the fake NetBox and the fake
// WUG: every exportable address of site ams1 becomes a WUG device.
func Example() {
	nbFake, err := netboxtest.NewHandler(netboxtest.WithDevices(60))
	if err != nil {
		panic(err)
	}
	nbSrv := httptest.NewServer(nbFake)
	defer nbSrv.Close()
	wugSrv := wugtest.Start(wugtest.WithPlainHTTP())
	defer wugSrv.Close()
	dir, err := os.MkdirTemp("", "wugsync-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	res, err := exportSite(context.Background(), nbSrv.URL, netboxtest.DefaultToken,
		wugSrv.URL, wugtest.DefaultUser, wugtest.DefaultPassword, filepath.Join(dir, "wugsync.db"))
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.Counts.Added > 0, res.Counts.Added == wugSrv.DeviceCount(), res.Counts.Failed)
	// Output: succeeded true true 0
}

// TestREADMEExample keeps README.md's library example the same code as
// exportSite, which Example compiles and runs.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```go\n")
	block, _, ok2 := strings.Cut(block, "```")
	_, fn, ok3 := strings.Cut(string(src), "\nfunc exportSite(")
	fn, _, ok4 := strings.Cut(fn, "\n}\n")
	if !ok || !ok2 || !ok3 || !ok4 {
		t.Fatal("README.md's go block or exportSite not found")
	}
	if want := "func exportSite(" + fn + "\n}\n"; block != want {
		t.Errorf("README.md's example differs from exportSite in example_test.go:\n%s\nwant:\n%s", block, want)
	}
	if n := strings.Count(block, "\n"); n > 30 {
		t.Errorf("README.md's example has %d lines, want at most 30", n)
	}
}
