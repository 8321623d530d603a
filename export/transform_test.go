package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

// loadDevices reads the representative NetBox objects of testdata/devices.json.
func loadDevices(t testing.TB) []netbox.Device {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "devices.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ds []netbox.Device
	if err := json.Unmarshal(b, &ds); err != nil {
		t.Fatalf("testdata/devices.json: %v", err)
	}
	return ds
}

// equateNetip compares netip values with ==.
var equateNetip = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

// goldenCandidate is what a golden file shows of a Candidate.
type goldenCandidate struct {
	Key         string             `json:"key"`
	Object      string             `json:"object"`
	Verdict     verdict            `json:"verdict"`
	GroupPath   string             `json:"group_path,omitempty"`
	Fingerprint string             `json:"fingerprint,omitempty"`
	Template    wug.DeviceTemplate `json:"template"`
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updatingGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); run go test -update if the change is intended:\n%s", path, diff)
	}
}

// customMapping exercises every knob of Mapping.
func customMapping() Mapping {
	return Mapping{
		GroupPath:         "<region>/<site>/<role>",
		Placeholder:       "(none)",
		AttributePrefix:   "NB:",
		CustomFieldPrefix: "cf_",
		SkipCustomFields:  []string{"extra"},
		DeviceType:        "Network Device",
		Roles:             map[string]string{"core-switch": "Switch", "application server": "Server"},
		SubRoles:          []string{"Resource Attributes", "Resource Monitors"},
		Credentials:       []wug.TemplateCredential{{CredentialType: "SNMP v2", Credential: "public-ro"}},
		ActiveMonitors:    []string{"Ping", "SNMP"},
		PollInterval:      5 * time.Minute,
		PollByName:        true,
		OS: func(s Source) string {
			if s.Device.Platform.IsZero() {
				return "Not Set"
			}
			return s.Device.Platform.Name
		},
		Note: func(s Source) string { return "NetBox " + string(s.Device.Kind) + " " + s.Device.URL },
		Attributes: func(s Source, attrs []wug.NameValue) []wug.NameValue {
			return append(attrs, wug.NameValue{Name: "Source", Value: "wugsync"})
		},
		Customize: func(s Source, t *wug.DeviceTemplate) {
			t.CustomLinks = []wug.NameValue{{Name: "NetBox", Value: s.Device.URL}}
		},
	}
}

func TestPrepareGolden(t *testing.T) {
	t.Parallel()
	devices := loadDevices(t)
	tests := []struct {
		golden  string
		mapping Mapping
		policy  netbox.IPPolicy
	}{
		{"prepare_default.golden.json", Mapping{}, netbox.AllIPs},
		{"prepare_custom.golden.json", customMapping(), netbox.AllIPs},
		{"prepare_primary_ip4.golden.json", Mapping{}, netbox.PrimaryIPv4},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			tr, err := newTransformer(tt.mapping)
			if err != nil {
				t.Fatal(err)
			}
			out := []goldenCandidate{}
			for i := range devices {
				for _, c := range tr.Prepare(&devices[i], tt.policy, "wug-prod") {
					out = append(out, goldenCandidate{
						Key:         c.Key.String(),
						Object:      string(c.ObjectKind()) + "/" + c.Device.Name,
						Verdict:     c.Verdict,
						GroupPath:   c.GroupPath,
						Fingerprint: c.Fingerprint,
						Template:    c.Template,
					})
				}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(out); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, buf.Bytes())
		})
	}
}

// TestPrepareInvariants checks what must hold for every candidate,
// whatever the golden files say.
func TestPrepareInvariants(t *testing.T) {
	t.Parallel()
	devices := loadDevices(t)
	for _, m := range []Mapping{{}, customMapping()} {
		tr, err := newTransformer(m)
		if err != nil {
			t.Fatal(err)
		}
		for i := range devices {
			d := &devices[i]
			first := tr.Prepare(d, netbox.AllIPs, "c")
			if len(first) != len(d.ChooseIPs(netbox.AllIPs)) {
				t.Errorf("%s: %d candidates for %d addresses", d.Name, len(first), len(d.ChooseIPs(netbox.AllIPs)))
			}
			// Deterministic: custom fields come from a map, yet runs agree.
			for range 3 {
				if diff := cmp.Diff(first, tr.Prepare(d, netbox.AllIPs, "c"), equateNetip); diff != "" {
					t.Fatalf("%s: Prepare is not deterministic (-first +again):\n%s", d.Name, diff)
				}
			}
			for _, c := range first {
				if c.Device != d || c.Key.Address != c.IP.Address.Addr() || c.Key.Connection != "c" {
					t.Errorf("%s: candidate key %s does not match its address %s", d.Name, c.Key, c.IP.Address)
				}
				if !c.Exportable() {
					if c.Fingerprint != "" || c.Template.DisplayName != "" {
						t.Errorf("%s: not exportable but has a template or fingerprint", c.Key)
					}
					continue
				}
				checkTemplate(t, tr, c)
			}
		}
	}
}

func checkTemplate(t *testing.T, tr *transformer, c candidate) {
	t.Helper()
	tpl := c.Template
	if tpl.DisplayName == "" || utf8.RuneCountInString(tpl.DisplayName) > maxDisplayNameLen {
		t.Errorf("%s: display name %q is empty or too long", c.Key, tpl.DisplayName)
	}
	if len(tpl.Interfaces) != 1 || tpl.Interfaces[0].NetworkAddress != c.Key.Address.String() || !tpl.Interfaces[0].DefaultInterface {
		t.Errorf("%s: interfaces %+v", c.Key, tpl.Interfaces)
	}
	if !strings.HasPrefix(c.GroupPath, "My Network/") {
		t.Errorf("%s: group path %q is not under My Network", c.Key, c.GroupPath)
	}
	if len(tpl.Groups) != 1 {
		t.Errorf("%s: groups %+v", c.Key, tpl.Groups)
	} else if g := tpl.Groups[0]; strings.Join(append(append([]string(nil), g.Parents...), g.Name), "/") != c.GroupPath {
		t.Errorf("%s: group %+v does not place the device at %q", c.Key, g, c.GroupPath)
	}
	for i, a := range tpl.Attributes {
		if !tr.OwnsAttribute(a.Name) {
			t.Errorf("%s: attribute %q is not owned", c.Key, a.Name)
		}
		if utf8.RuneCountInString(a.Name) > maxAttributeNameLen || utf8.RuneCountInString(a.Value) > maxAttributeValueLen {
			t.Errorf("%s: attribute %q over WUG's limits", c.Key, a.Name)
		}
		if i > 0 && strings.ToLower(tpl.Attributes[i-1].Name) >= strings.ToLower(a.Name) {
			t.Errorf("%s: attributes not sorted and unique at %q", c.Key, a.Name)
		}
	}
	if got := fingerprint(&tpl, c.GroupPath); got != c.Fingerprint {
		t.Errorf("%s: fingerprint %s, recomputed %s", c.Key, c.Fingerprint, got)
	}
}

func TestNewTransformerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    Mapping
		want string
	}{
		{"unknown field", Mapping{GroupPath: "My Network/<colour>"}, "unknown field <colour>"},
		{"unclosed", Mapping{GroupPath: "A/<site"}, "unclosed '<' in segment 2"},
		{"stray close", Mapping{GroupPath: "A/site>"}, "'>' without '<' in segment 2"},
		{"stray close before a field", Mapping{GroupPath: "x>y<site>"}, "'>' without '<' in segment 1"},
		{"stray close after a field", Mapping{GroupPath: "<site>x>"}, "'>' without '<' in segment 1"},
		{"empty segment", Mapping{GroupPath: "A//<site>"}, "segment 2 is empty"},
		{"poll too fast", Mapping{PollInterval: 5 * time.Second}, "poll interval 5s"},
		{"poll too slow", Mapping{PollInterval: 24 * time.Hour}, "poll interval 24h0m0s"},
		{"poll fraction", Mapping{PollInterval: 10500 * time.Millisecond}, "whole seconds"},
		{"prefix too long", Mapping{AttributePrefix: strings.Repeat("p", 150)}, "attribute prefix"},
		{"credential without name", Mapping{Credentials: []wug.TemplateCredential{{CredentialType: "SSH"}}}, `type "SSH" has no name`},
		{"two credentials of a type", Mapping{Credentials: []wug.TemplateCredential{
			{CredentialType: "SNMP v2", Credential: "a"}, {CredentialType: "snmp V2", Credential: "b"},
		}}, "at most one per type"},
		{"monitor without name", Mapping{ActiveMonitors: []string{"Ping", " "}}, "active monitor has no name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newTransformer(tt.m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewTransformer error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGroupPath(t *testing.T) {
	t.Parallel()
	d := &netbox.Device{
		Kind:         netbox.KindDevice,
		Site:         netbox.Ref{Name: "HQ / North"},
		Region:       netbox.Ref{Slug: "emea"},
		Role:         netbox.Ref{Name: "  Router\t"},
		CustomFields: map[string]any{"env": "prod", "floor": 3.0, "Team": map[string]any{"display": "NOC/EU"}},
	}
	ip := netbox.IPAddress{Address: netip.MustParsePrefix("10.0.0.1/24"), VRF: "red"}
	tests := []struct {
		tmpl string
		want string
	}{
		{"", "My Network/NetBox/HQ - North"},
		{"<region>/<site>/<role>", "My Network/emea/HQ - North/Router"},
		{"my network/<tenant>", "my network/Unassigned"},
		{"/NetBox/DC-<site> (<status>)/", "My Network/NetBox/DC-HQ - North (Unassigned)"},
		{"<kind>/<vrf>/<cf.env>/<cf.floor>/<cf.Team>/<cf.missing>", "My Network/Devices/red/prod/3/NOC-EU/Unassigned"},
		{"< SITE >", "My Network/HQ - North"},
	}
	for _, tt := range tests {
		tr, err := newTransformer(Mapping{GroupPath: tt.tmpl})
		if err != nil {
			t.Fatalf("%q: %v", tt.tmpl, err)
		}
		_, got, _ := tr.Transform(Source{Device: d, IP: ip, Main: true})
		if got != tt.want {
			t.Errorf("group path %q = %q, want %q", tt.tmpl, got, tt.want)
		}
	}

	tr, err := newTransformer(Mapping{Group: func(Source) string { return " Ops // Core " }, Placeholder: "n/a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, got, _ := tr.Transform(Source{Device: d, IP: ip}); got != "My Network/Ops/Core" {
		t.Errorf("Group hook path = %q", got)
	}
	tr, _ = newTransformer(Mapping{Group: func(Source) string { return "" }, Placeholder: "n/a"})
	if _, got, _ := tr.Transform(Source{Device: d, IP: ip}); got != "My Network/n-a" {
		t.Errorf("empty Group hook path = %q", got)
	}
}

func TestDisplayName(t *testing.T) {
	t.Parallel()
	ip := netbox.IPAddress{Address: netip.MustParsePrefix("2001:db8::5/64")}
	tests := []struct {
		d    netbox.Device
		main bool
		want string
	}{
		{netbox.Device{Name: " sw1 "}, true, "sw1"},
		{netbox.Device{Name: "sw1"}, false, "sw1 (2001:db8::5)"},
		{netbox.Device{Display: "Cisco C9300 (42)"}, true, "Cisco C9300 (42)"},
		{netbox.Device{Kind: netbox.KindVirtualMachine, ID: 7}, true, "virtual-machine-7"},
		{netbox.Device{ID: 8}, true, "device-8"},
		{netbox.Device{Name: "line1\nline2\t\tend"}, true, "line1 line2 end"},
	}
	for _, tt := range tests {
		if got := defaultDisplayName(Source{Device: &tt.d, IP: ip, Main: tt.main}); got != tt.want {
			t.Errorf("DefaultDisplayName(%+v, main=%v) = %q, want %q", tt.d, tt.main, got, tt.want)
		}
	}
}

func TestDisplayNameHook(t *testing.T) {
	t.Parallel()
	tr, err := newTransformer(Mapping{
		DisplayName: func(s Source) string {
			if s.Device.AssetTag == "" {
				return " \t"
			}
			return s.Device.AssetTag + "\n"
		},
		ActiveMonitors: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ip := netbox.IPAddress{Address: netip.MustParsePrefix("10.0.0.1/24")}
	for d, want := range map[*netbox.Device]string{
		{Name: "sw1", AssetTag: "AT-9"}: "AT-9",
		{Name: "sw2"}:                   "sw2", // the hook has no name: the default
	} {
		tpl, _, _ := tr.Transform(Source{Device: d, IP: ip, Main: true})
		if tpl.DisplayName != want || tpl.ActiveMonitors != nil {
			t.Errorf("display name %q, monitors %v; want %q and none", tpl.DisplayName, tpl.ActiveMonitors, want)
		}
	}
}

func TestRenderCustomField(t *testing.T) {
	t.Parallel()
	var decoded map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"n": 12345678901234567890}`))
	dec.UseNumber()
	if err := dec.Decode(&decoded); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"text", "text"},
		{true, "true"},
		{false, "false"},
		{42.0, "42"},
		{-0.25, "-0.25"},
		{1e21, "1000000000000000000000"},
		{7, "7"},
		{int64(-7), "-7"},
		{decoded["n"], "12345678901234567890"},
		{[]any{"a", "b", nil, 3.0}, "a, b, 3"},
		{[]string{"x", "y"}, "x, y"},
		{[]any{}, ""},
		{map[string]any{"id": 1.0, "display": "Jane", "name": "jane"}, "Jane"},
		{map[string]any{"id": 1.0, "name": "jane"}, "jane"},
		{map[string]any{"value": "a", "label": "Alpha"}, "Alpha"},
		{[]any{map[string]any{"display": "A"}, map[string]any{"name": "B"}}, "A, B"},
		{map[string]any{"b": []any{1.0, 2.0}, "a": map[string]any{"z": true}}, `{"a":{"z":true},"b":[1,2]}`},
		{[]any{[]any{1.0}, map[string]any{"k": "v"}}, `[1], {"k":"v"}`},
	}
	for _, tt := range tests {
		if got := renderCustomField(tt.in); got != tt.want {
			t.Errorf("renderCustomField(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	marker := utf8.RuneCountInString(truncationMarker)
	tests := []struct {
		in    string
		limit int
		want  string
		cut   bool
	}{
		{"short", 10, "short", false},
		{"exactly-10", 10, "exactly-10", false},
		{strings.Repeat("a", 30), 20, strings.Repeat("a", 20-marker) + truncationMarker, true},
		{strings.Repeat("交", 30), 20, strings.Repeat("交", 20-marker) + truncationMarker, true},
		{strings.Repeat("🚀", 151), 150, strings.Repeat("🚀", 150-marker) + truncationMarker, true},
	}
	for _, tt := range tests {
		got, cut := truncate(tt.in, tt.limit)
		if got != tt.want || cut != tt.cut {
			t.Errorf("truncate(%q, %d) = %q, %v; want %q, %v", tt.in, tt.limit, got, cut, tt.want, tt.cut)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > tt.limit {
			t.Errorf("truncate(%q, %d) = %q: invalid or too long", tt.in, tt.limit, got)
		}
	}
}

func TestOwnsAttribute(t *testing.T) {
	t.Parallel()
	tr, err := newTransformer(Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"NetBox.Site": true, "netbox.site": true, "NETBOX.CF.x": true, "NetBox.": true,
		"NetBox": false, "Site": false, "MyNetBox.Site": false, "": false, "Net": false,
	} {
		if got := tr.OwnsAttribute(name); got != want {
			t.Errorf("OwnsAttribute(%q) = %v, want %v", name, got, want)
		}
	}
	if tr.AttributePrefix() != defaultAttributePrefix {
		t.Errorf("AttributePrefix = %q", tr.AttributePrefix())
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	base := wug.DeviceTemplate{
		TemplateID:  "a",
		DisplayName: "sw1",
		Interfaces:  []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: "10.0.0.1"}},
		Attributes:  []wug.NameValue{{Name: "NetBox.A", Value: "1"}, {Name: "NetBox.B", Value: "2"}},
	}
	fp := fingerprint(&base, "My Network/x")
	if !strings.HasPrefix(fp, "v1:") || len(fp) != 3+32 {
		t.Errorf("fingerprint %q: want v1: and 32 hex digits", fp)
	}
	same := base
	same.TemplateID = "b"
	same.Attributes = []wug.NameValue{base.Attributes[1], base.Attributes[0]}
	if got := fingerprint(&same, "My Network/x"); got != fp {
		t.Errorf("fingerprint changed with template id and attribute order: %s != %s", got, fp)
	}
	if same.Attributes[0].Name != "NetBox.B" {
		t.Error("Fingerprint reordered the caller's attributes")
	}
	changes := map[string]func(*wug.DeviceTemplate) string{
		"group path": func(*wug.DeviceTemplate) string { return "My Network/y" },
		"attribute value": func(t *wug.DeviceTemplate) string {
			t.Attributes = []wug.NameValue{{Name: "NetBox.A", Value: "1"}, {Name: "NetBox.B", Value: "3"}}
			return "My Network/x"
		},
		"display name":   func(t *wug.DeviceTemplate) string { t.DisplayName = "sw2"; return "My Network/x" },
		"note":           func(t *wug.DeviceTemplate) string { t.Note = "n"; return "My Network/x" },
		"attribute gone": func(t *wug.DeviceTemplate) string { t.Attributes = t.Attributes[:1]; return "My Network/x" },
		"address": func(t *wug.DeviceTemplate) string {
			t.Interfaces = []wug.TemplateInterface{{DefaultInterface: true, NetworkAddress: "10.0.0.2"}}
			return "My Network/x"
		},
	}
	for name, change := range changes {
		c := base
		path := change(&c)
		if fingerprint(&c, path) == fp {
			t.Errorf("fingerprint did not change with the %s", name)
		}
	}
}

func TestNoAddress(t *testing.T) {
	t.Parallel()
	d := &netbox.Device{Kind: netbox.KindDevice, ID: 106, Name: "patch-panel-07"}
	tr, err := newTransformer(Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Prepare(d, "", "c"); got != nil {
		t.Errorf("Prepare of a device without addresses = %v, want nil", got)
	}
	want := Finding{Code: codeNoAddress, Message: `device 106 "patch-panel-07" has no address for IP policy "primary_ip4"; it is not exported.`}
	if diff := cmp.Diff(want, noAddress(d, "")); diff != "" {
		t.Errorf("NoAddress (-want +got):\n%s", diff)
	}
}

// BenchmarkPrepare measures the per-device cost of validation, transform
// and fingerprint: one typical device (primary IPv4, 14 custom fields of
// every JSON type), and the whole testdata mix under the all-addresses policy.
func BenchmarkPrepare(b *testing.B) {
	devices := loadDevices(b)
	tr, err := newTransformer(Mapping{})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name    string
		devices []netbox.Device
		policy  netbox.IPPolicy
	}{
		{"typical", devices[:1], netbox.PrimaryIPv4},
		{"mix", devices, netbox.AllIPs},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for i := range bc.devices {
					n += len(tr.Prepare(&bc.devices[i], bc.policy, "wug"))
				}
			}
			perDevice := float64(b.Elapsed().Nanoseconds()) / float64(b.N*len(bc.devices))
			b.ReportMetric(perDevice, "ns/device")
			b.ReportMetric(1e9/perDevice, "devices/s")
			b.ReportMetric(float64(n)/float64(b.N*len(bc.devices)), "candidates/device")
		})
	}
}

func Example_prepare() {
	tr, err := newTransformer(Mapping{GroupPath: "<region>/<site>/<role>"})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := &netbox.Device{
		Kind: netbox.KindDevice, ID: 7, Name: "edge-1",
		URL:          "https://netbox.example.com/dcim/devices/7/",
		Site:         netbox.Ref{Name: "Berlin"},
		Role:         netbox.Ref{Name: "Router"},
		Manufacturer: netbox.Ref{Name: "Juniper"},
		CustomFields: map[string]any{"owner": "noc", "rack_units": 2.0},
		PrimaryIPv4:  netbox.IPAddress{ID: 70, Address: netip.MustParsePrefix("10.1.0.1/24")},
	}
	for _, c := range tr.Prepare(d, netbox.PrimaryIPv4, "wug-prod") {
		fmt.Println(c.Key, c.Verdict, c.GroupPath)
		fmt.Println(c.Template.DisplayName, c.Template.Brand, c.Template.ActiveMonitors[0].Name)
		for _, a := range c.Template.Attributes {
			fmt.Printf("%s=%s\n", a.Name, a.Value)
		}
	}
	// Output:
	// wug-prod/global/10.1.0.1 ok My Network/Unassigned/Berlin/Router
	// edge-1 Juniper Ping
	// NetBox.Address=10.1.0.1/24
	// NetBox.AddressID=70
	// NetBox.CF.owner=noc
	// NetBox.CF.rack_units=2
	// NetBox.ID=7
	// NetBox.Kind=device
	// NetBox.Manufacturer=Juniper
	// NetBox.Name=edge-1
	// NetBox.Role=Router
	// NetBox.Site=Berlin
	// NetBox.URL=https://netbox.example.com/dcim/devices/7/
}
