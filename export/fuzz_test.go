package export

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

// FuzzParseAddress checks ParseAddress on arbitrary text: an accepted
// address round-trips through its own text, ignores surrounding spaces,
// agrees with net/netip and gets the same verdict from ValidateIP as from
// ValidatePrefix; a refused one gets an error naming the text and an error
// verdict.
func FuzzParseAddress(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		p, err := parseAddress(text)
		v := validateIP(text)
		trimmed := strings.TrimSpace(text)
		if err != nil {
			if trimmed != "" && !strings.Contains(err.Error(), strconv.Quote(text)) {
				t.Errorf("ParseAddress(%q) error %q does not name the text", text, err)
			}
			if v.OK() || !(v.Has(codeUnparseable) || v.Has(codeZoned)) {
				t.Errorf("ParseAddress(%q) fails (%v) but ValidateIP gives %+v", text, err, v)
			}
			if np, nerr := netip.ParsePrefix(trimmed); nerr == nil {
				t.Errorf("ParseAddress(%q) fails (%v) but netip.ParsePrefix accepts %s", text, err, np)
			}
			if na, nerr := netip.ParseAddr(trimmed); nerr == nil && na.Zone() == "" {
				t.Errorf("ParseAddress(%q) fails (%v) but netip.ParseAddr accepts %s", text, err, na)
			}
			return
		}
		if !p.IsValid() || p.Addr().Zone() != "" {
			t.Fatalf("ParseAddress(%q) = %v: invalid or zoned", text, p)
		}
		if !strings.Contains(trimmed, "/") && p.Bits() != p.Addr().BitLen() {
			t.Errorf("ParseAddress(%q) = %v: a bare address must get a full-length prefix", text, p)
		}
		for _, again := range []string{p.String(), " \t" + text + "\n "} {
			if q, err := parseAddress(again); err != nil || q != p {
				t.Errorf("ParseAddress(%q) = %v, %v; want %v as for %q", again, q, err, p, text)
			}
		}
		if diff := cmp.Diff(validatePrefix(p), v); diff != "" {
			t.Errorf("ValidateIP(%q) differs from ValidatePrefix(%v) (-want +got):\n%s", text, p, diff)
		}
	})
}

// groupSource builds a Source whose every group path field holds the given
// value, so a fuzzed value reaches each field the template names.
func groupSource(value string, vm bool) Source {
	ref := netbox.Ref{Name: value, Slug: "slug-" + value}
	d := &netbox.Device{
		Kind: netbox.KindDevice, ID: 7, Name: value,
		Site: ref, Region: ref, Location: ref, Rack: ref, Role: ref, Tenant: ref,
		Platform: ref, Manufacturer: ref, Model: ref, Cluster: ref, Status: value,
		CustomFields: map[string]any{"x": value, "n": 3.0, "o": map[string]any{"display": value}},
	}
	if vm {
		d.Kind = netbox.KindVirtualMachine
	}
	return Source{Device: d, IP: netbox.IPAddress{Address: netip.MustParsePrefix("10.0.0.1/24"), VRF: value}, Main: true}
}

// FuzzGroupPath compiles arbitrary group path templates and renders them
// with arbitrary NetBox values. A refused template gets an error naming it.
// An accepted one renders, whatever the values, to a path under
// "My Network" with as many non-empty, trimmed group names as the template
// has segments (a '/' in a value never adds a level) and no control
// characters, which WUG's group
// template accepts, and which the device template places the device in.
func FuzzGroupPath(f *testing.F) {
	f.Fuzz(func(t *testing.T, tmpl, value, placeholder string, vm bool) {
		tr, err := newTransformer(Mapping{GroupPath: tmpl, Placeholder: placeholder})
		g, perr := parseGroupPath(cmpOr(tmpl, defaultGroupPath))
		if (err == nil) != (perr == nil) {
			t.Fatalf("NewTransformer error %v but parseGroupPath error %v for %q", err, perr, tmpl)
		}
		if err != nil {
			if q := strconv.Quote(tmpl); !strings.Contains(err.Error(), q) {
				t.Errorf("error %q does not name the template %s", err, q)
			}
			return
		}
		src := groupSource(value, vm)
		tpl, path, _ := tr.Transform(src)
		names := strings.Split(path, groupPathSeparator)
		if !strings.EqualFold(names[0], wug.RootGroupName) {
			t.Fatalf("template %q with value %q: path %q is not under %q", tmpl, value, path, wug.RootGroupName)
		}
		if len(names) != len(g) {
			t.Fatalf("template %q with value %q: path %q has %d names, template has %d segments", tmpl, value, path, len(names), len(g))
		}
		for i, n := range names {
			if n == "" || n != strings.TrimSpace(n) || strings.IndexFunc(n, unicode.IsControl) >= 0 {
				t.Fatalf("template %q with value %q: path %q: name %d (%q) is empty, untrimmed or holds a control character", tmpl, value, path, i+1, n)
			}
		}
		gt, err := wug.GroupTemplate(path)
		if err != nil {
			t.Fatalf("template %q with value %q: WUG refuses path %q: %v", tmpl, value, path, err)
		}
		if diff := cmp.Diff([]wug.TemplateGroup{gt}, tpl.Groups); diff != "" {
			t.Errorf("template %q with value %q: device template groups (-want +got):\n%s", tmpl, value, diff)
		}
		// The same template with a plain value renders the same shape.
		if _, plain, _ := tr.Transform(groupSource("v", vm)); strings.Count(plain, groupPathSeparator) != strings.Count(path, groupPathSeparator) {
			t.Errorf("template %q: value %q gives %q, a plain value gives %q", tmpl, value, path, plain)
		}
		if again := g.render(src, tr.placeholder); again != path {
			t.Errorf("template %q: render is not deterministic: %q then %q", tmpl, path, again)
		}
	})
}

// cmpOr is cmp.Or for two strings (the test's cmp is go-cmp).
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestGroupPathRefusesControlCharacters pins the first FuzzGroupPath
// finding: a control character in a template's text went into the WUG
// group name unchanged, while the same character in a NetBox value is
// cleaned away.
func TestGroupPathRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	for _, tmpl := range []string{"\x1c", "NetBox/a\x00b/<site>", "NetBox/<site>\u0085x"} {
		_, err := newTransformer(Mapping{GroupPath: tmpl})
		if err == nil || !strings.Contains(err.Error(), "control character") || !strings.Contains(err.Error(), strconv.Quote(tmpl)) {
			t.Errorf("NewTransformer(GroupPath %q) error = %v, want one naming the template and the control character", tmpl, err)
		}
	}
	if _, err := newTransformer(Mapping{GroupPath: "\tNetBox/<site>\n"}); err != nil {
		t.Errorf("white space around the template is trimmed, not refused: %v", err)
	}
}
