package sqlstore

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/store"
)

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fs      fstest.MapFS
		want    []int
		wantErr string
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A")}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, nil, "0003_c.sql: expected version 2"},
		{"bad name", fstest.MapFS{"m/first.sql": file("A")}, nil, "first.sql: name must be NNNN_description.sql"},
		{"none", fstest.MapFS{}, nil, "no migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ms, err := LoadMigrations(tt.fs, "m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	k := func(a string) store.Key { return store.Key{Connection: "c", Address: netip.MustParseAddr(a)} }
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := []store.Record{
		{Key: k("10.0.0.1"), Attempts: 1, CreatedAt: t0},
		{Key: k("10.0.0.2"), Attempts: 1},
		{Key: k("10.0.0.1"), Attempts: 2},
	}
	want := []store.Record{
		{Key: k("10.0.0.1"), Attempts: 2, CreatedAt: t0},
		{Key: k("10.0.0.2"), Attempts: 1},
	}
	if diff := cmp.Diff(want, Dedupe(in), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("Dedupe (-want +got):\n%s", diff)
	}
}

// TestRecordPageCursor checks the cursor condition for each combination of
// filters: only the key columns the equality filters leave open.
func TestRecordPageCursor(t *testing.T) {
	t.Parallel()
	d := Dialect{Placeholder: func(n int) string { return "$" + strconv.Itoa(n) }, Time: func(t time.Time) any { return t }}
	after := store.Key{Connection: "a", VRF: "red", Address: netip.MustParseAddr("10.0.0.1")}
	red, blue := "red", "blue"
	tests := []struct {
		name string
		q    store.Query
		want string
	}{
		{"no filter", store.Query{After: &after},
			" WHERE (connection, vrf, address) > ($1, $2, $3) ORDER BY connection, vrf, address LIMIT 500"},
		{"connection", store.Query{Connection: "a", After: &after, PageSize: 10},
			" WHERE connection = $1 AND (vrf, address) > ($2, $3) ORDER BY connection, vrf, address LIMIT 10"},
		{"connection and vrf", store.Query{Connection: "a", VRF: &red, After: &after},
			" WHERE connection = $1 AND vrf = $2 AND address > $3 ORDER BY connection, vrf, address LIMIT 500"},
		{"cursor in another vrf", store.Query{Connection: "a", VRF: &blue, After: &after},
			" WHERE connection = $1 AND vrf = $2 AND (vrf, address) > ($3, $4) ORDER BY connection, vrf, address LIMIT 500"},
		{"offset", store.Query{Connection: "a", Offset: 1000, PageSize: 10},
			" WHERE connection = $1 ORDER BY connection, vrf, address LIMIT 10 OFFSET 1000"},
		{"cursor in another connection", store.Query{Connection: "b", Statuses: []store.Status{store.StatusError, store.StatusPending}, After: &after},
			" WHERE connection = $1 AND status IN ($2, $3) AND (connection, vrf, address) > ($4, $5, $6) ORDER BY connection, vrf, address LIMIT 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _ := RecordPage(tt.q, d)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("RecordPage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLowerASCII(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"core-sw", "core-sw"},
		{"Core-SW_01", "core-sw_01"},
		{"2001:DB8::AB", "2001:db8::ab"},
		{"SW-Ünï", "sw-Ünï"}, // letters outside ASCII are kept
	} {
		if got := LowerASCII(tc.in); got != tc.want {
			t.Errorf("LowerASCII(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestContainsFoldASCII(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s, sub string
		want   bool
	}{
		{"Core-SW_01", "", true},
		{"Core-SW_01", "core", true},
		{"Core-SW_01", "sw_01", true},
		{"Core-SW_01", "sw_011", false},
		{"Core-SW_01", "sw%", false},
		{"SW-Ünï", "sw-Ün", true},
		{"SW-Ünï", "sw-ün", false},
		{"", "a", false},
		{"aab", "ab", true},
	} {
		if got := ContainsFoldASCII(tc.s, tc.sub); got != tc.want {
			t.Errorf("ContainsFoldASCII(%q, %q) = %v, want %v", tc.s, tc.sub, got, tc.want)
		}
	}
}

func TestWrittenEncoding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		w    store.Written
		want string
	}{
		{"zero", store.Written{}, ""},
		{"empty attributes are zero", store.Written{Attributes: map[string]string{}}, ""},
		{"maintenance alone", store.Written{Maintenance: true}, `{"maintenance":true}`},
		{"every field", store.Written{DisplayName: "sw-1", Note: "n", GroupPath: "My Network/a", Attributes: map[string]string{"b": "2", "a": ""},
			OSRole: "Linux", BrandRole: "Cisco", Maintenance: true},
			`{"display_name":"sw-1","note":"n","group_path":"My Network/a","attributes":{"a":"","b":"2"},"os_role":"Linux","brand_role":"Cisco","maintenance":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := EncodeWritten(tc.w)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("EncodeWritten = %s, want %s", got, tc.want)
			}
			back, err := DecodeWritten(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.w, back, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("DecodeWritten(EncodeWritten) (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := DecodeWritten(`{"attributes": [1]}`); err == nil || !strings.Contains(err.Error(), "written") {
		t.Errorf("DecodeWritten of a malformed value: err %v, want one naming the written value", err)
	}
}
