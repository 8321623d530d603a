package export

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

func TestFiltersNarrow(t *testing.T) {
	t.Parallel()
	ids := func(v ...int64) netbox.Refs { return netbox.Refs{IDs: v} }
	slugs := func(v ...string) netbox.Refs { return netbox.Refs{Slugs: v} }
	for _, tc := range []struct {
		name    string
		conn    netbox.Selector
		f       filters
		want    netbox.Selector
		nothing bool
	}{
		{name: "site ids on an open connection", f: filters{sites: ids(1, 2)},
			want: netbox.Selector{SiteIDs: []int64{1, 2}}},
		{name: "site ids intersect the connection's ids", conn: netbox.Selector{SiteIDs: []int64{2, 3}}, f: filters{sites: ids(1, 2)},
			want: netbox.Selector{SiteIDs: []int64{2}}},
		{name: "site ids beside the connection's slugs, which NetBox ANDs", conn: netbox.Selector{Sites: []string{"ams1"}}, f: filters{sites: ids(1)},
			want: netbox.Selector{Sites: []string{"ams1"}, SiteIDs: []int64{1}}},
		{name: "role slugs intersect the connection's slugs", conn: netbox.Selector{Roles: []string{"core", "edge"}}, f: filters{roles: slugs("edge", "leaf")},
			want: netbox.Selector{Roles: []string{"edge"}}},
		{name: "no site in common selects nothing", conn: netbox.Selector{SiteIDs: []int64{3}}, f: filters{sites: ids(1, 2)},
			want: netbox.Selector{}, nothing: true},
		{name: "no role slug in common selects nothing", conn: netbox.Selector{Roles: []string{"core"}}, f: filters{roles: slugs("edge")},
			want: netbox.Selector{}, nothing: true},
		{name: "tags by id and slug are all required on top", conn: netbox.Selector{Tags: []string{"prod"}},
			f:    filters{tags: netbox.Refs{IDs: []int64{7}, Slugs: []string{"monitored"}}},
			want: netbox.Selector{Tags: []string{"prod", "monitored"}, TagIDs: []int64{7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, any := tc.f.narrow(tc.conn)
			if any == tc.nothing {
				t.Errorf("narrow reports selecting something = %v, want %v", any, !tc.nothing)
			}
			if tc.nothing {
				return
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("narrowed selector (-want +got):\n%s", diff)
			}
		})
	}
}

// resolvingSource is a NetBox source that looks slugs up in a table.
type resolvingSource struct {
	fakeSource
	ids   map[string]int64
	calls int
}

func (s *resolvingSource) ResolveRefs(_ context.Context, kind netbox.RefKind, r netbox.Refs) ([]int64, error) {
	s.calls++
	out := slices.Clone(r.IDs)
	for _, slug := range r.Slugs {
		id, ok := s.ids[string(kind)+":"+slug]
		if !ok {
			return nil, errors.New("no " + string(kind) + " " + slug)
		}
		out = append(out, id)
	}
	return out, nil
}

func TestFiltersResolveMixedLists(t *testing.T) {
	t.Parallel()
	src := &resolvingSource{ids: map[string]int64{"site:ams1": 5, "role:core": 9}}
	f := filters{sites: netbox.Refs{IDs: []int64{1}, Slugs: []string{"ams1"}}, roles: netbox.Refs{Slugs: []string{"core"}},
		tags: netbox.Refs{IDs: []int64{3}, Slugs: []string{"prod"}}}
	if err := f.resolve(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	// Only the mixed sites list is looked up; a list of slugs alone and
	// tags (all required, so ids and slugs AND as NetBox does) stay.
	want := filters{sites: netbox.Refs{IDs: []int64{1, 5}}, roles: netbox.Refs{Slugs: []string{"core"}},
		tags: netbox.Refs{IDs: []int64{3}, Slugs: []string{"prod"}}}
	if diff := cmp.Diff(want, f, cmp.AllowUnexported(filters{})); diff != "" || src.calls != 1 {
		t.Errorf("resolved filters (-want +got), %d lookups:\n%s", src.calls, diff)
	}

	bad := filters{roles: netbox.Refs{IDs: []int64{1}, Slugs: []string{"nowhere"}}}
	if err := bad.resolve(context.Background(), src); err == nil || !errors.Is(err, ErrNetBox) || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("unknown slug: %v, want a NetBox error naming it", err)
	}
	if err := (&filters{sites: netbox.Refs{IDs: []int64{1}, Slugs: []string{"ams1"}}}).resolve(context.Background(), &fakeSource{}); err == nil {
		t.Error("a mixed list without a way to look slugs up was accepted")
	}
}

func TestFiltersRecorded(t *testing.T) {
	t.Parallel()
	f := filters{sites: netbox.Refs{IDs: []int64{1, 2}, Slugs: []string{"ams1"}}, tags: netbox.Refs{Slugs: []string{"prod"}}, excludeRecent: true}
	want := map[string][]string{"sites": {"1", "2", "ams1"}, "tags": {"prod"}, "exclude_recent_exports": {"true"}}
	if diff := cmp.Diff(want, f.asMap()); diff != "" {
		t.Errorf("recorded filters (-want +got):\n%s", diff)
	}
}

// A run filtered by NetBox site ids, or by an id and a slug, exports the
// devices of those sites and no other, through the real NetBox client.
func TestE2EFilterSitesByIDOrSlug(t *testing.T) {
	t.Parallel()
	e := newE2E(t, []netboxtest.Option{netboxtest.WithDevices(60)})
	cat := e.nb.Catalog()
	if len(cat.Sites) < 4 {
		t.Fatalf("the fake has %d sites, want 4", len(cat.Sites))
	}
	siteOf := map[string]string{} // primary address to site slug
	for _, d := range e.nb.Devices() {
		if ip, ok := e.nb.IPAddress(d.PrimaryIP4); ok && d.Quirks == 0 && d.Status == "active" {
			siteOf[ip.Address.Addr().String()] = d.Site
		}
	}
	for _, tc := range []struct {
		name  string
		sites netbox.Refs
		want  []string // site slugs
	}{
		{"ids", netbox.Refs{IDs: []int64{cat.Sites[0].ID, cat.Sites[1].ID}}, []string{cat.Sites[0].Slug, cat.Sites[1].Slug}},
		{"an id and a slug", netbox.Refs{IDs: []int64{cat.Sites[2].ID}, Slugs: []string{cat.Sites[3].Slug}}, []string{cat.Sites[2].Slug, cat.Sites[3].Slug}},
	} {
		before := map[string]bool{}
		for _, d := range e.wug.Devices() {
			before[d.ID] = true
		}
		res := e.run(t, RunOptions{Sites: tc.sites})
		if res.Counts.Failed != 0 || res.Counts.Added == 0 {
			t.Fatalf("%s: %+v", tc.name, res.Counts)
		}
		added := map[string]bool{}
		for _, d := range e.wug.Devices() {
			if before[d.ID] {
				continue
			}
			added[d.Address] = true
			if site, ok := siteOf[d.Address]; ok && !slices.Contains(tc.want, site) {
				t.Errorf("%s: run added %s of site %s, want sites %v", tc.name, d.Address, site, tc.want)
			}
		}
		for addr, site := range siteOf {
			if slices.Contains(tc.want, site) && !added[addr] {
				t.Errorf("%s: %s of site %s was not added", tc.name, addr, site)
			}
		}
		if len(added) != res.Counts.Added {
			t.Errorf("%s: WUG gained %d devices, the run added %d", tc.name, len(added), res.Counts.Added)
		}
	}
}
