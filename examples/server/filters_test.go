package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// The seed's own example body names sites by NetBox id; a mix of ids and
// slugs works too. Each run exports the devices of its sites and no other.
func TestExportFiltersBySiteIDOrSlug(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 60)
	cat := f.nb.Catalog()
	if len(cat.Sites) < 4 || cat.Sites[0].ID != 1 || cat.Sites[1].ID != 2 {
		t.Fatalf("the fake's sites are %+v, want ids 1 and 2 among four or more", cat.Sites)
	}
	base := f.srv.URL + "/api/plugins/wug-sync/connections/1/export/"
	for _, tc := range []struct {
		body  string
		sites []netboxtest.Ref
		rec   []string // the run's recorded site filter
	}{
		{`{"device_filters": {"sites": [1, 2]}}`, cat.Sites[:2], []string{"1", "2"}},
		{fmt.Sprintf(`{"device_filters": {"sites": [%d, %q]}}`, cat.Sites[2].ID, cat.Sites[3].Slug), cat.Sites[2:4],
			[]string{fmt.Sprint(cat.Sites[2].ID), cat.Sites[3].Slug}},
	} {
		before := map[string]bool{}
		for _, d := range f.wug.Devices() {
			before[d.ID] = true
		}
		status, body := doJSON(t, "POST", base, testToken, tc.body)
		if status != http.StatusAccepted {
			t.Fatalf("POST %s: %d %v, want 202", tc.body, status, body)
		}
		run := waitRun(t, f.st, body["run_id"].(string))
		if run.Counts.Failed != 0 || run.Counts.Added == 0 {
			t.Fatalf("run of %s: %+v", tc.body, run)
		}
		if diff := cmp.Diff(map[string][]string{"sites": tc.rec}, run.Filters); diff != "" {
			t.Errorf("%s: recorded filters (-want +got):\n%s", tc.body, diff)
		}
		var names, want []string
		for _, s := range tc.sites {
			names = append(names, s.Name)
		}
		for _, d := range plainDevices(f.nb) {
			if slices.ContainsFunc(tc.sites, func(s netboxtest.Ref) bool { return s.Slug == d.Site }) {
				ip, _ := f.nb.IPAddress(d.PrimaryIP4)
				want = append(want, ip.Address.Addr().String())
			}
		}
		added := 0
		for _, d := range f.wug.Devices() {
			if before[d.ID] {
				continue
			}
			added++
			if site := d.Attributes["NetBox.Site"]; !slices.Contains(names, site) {
				t.Errorf("%s: WUG device %s (%s) is at site %q, want one of %v", tc.body, d.ID, d.Address, site, names)
			}
			want = slices.DeleteFunc(want, func(a string) bool { return a == d.Address })
		}
		if len(want) != 0 || added != run.Counts.Added {
			t.Errorf("%s: not added: %v; WUG gained %d devices, the run added %d", tc.body, want, added, run.Counts.Added)
		}
	}
}

func TestExportFiltersRefuseWhatIsNeitherIDNorSlug(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	for _, tc := range []struct{ body, want string }{
		{`{"device_filters": {"sites": [1.5]}}`, "device_filters: sites: item 1: 1.5 is not a NetBox id"},
		{`{"device_filters": {"device_roles": ["core", "no spaces"]}}`, `device_filters: device_roles: item 2: "no spaces" is not a slug`},
		{`{"device_filters": {"tags": {"id": 1}}}`, "device_filters: tags: want a list of NetBox ids and slugs"},
	} {
		status, body := doJSON(t, "POST", f.srv.URL+"/api/plugins/wug-sync/connections/1/export/", testToken, tc.body)
		if reason, _ := body["reason"].(string); status != http.StatusBadRequest || !strings.HasPrefix(reason, tc.want) {
			t.Errorf("POST %s: %d %v, want 400 starting %q", tc.body, status, body, tc.want)
		}
	}
}
