package netboxtest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"gopkg.in/yaml.v3"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// servedPaths are the operations of NetBox's OpenAPI document the fake
// serves.
var servedPaths = []string{
	"/api/status/", "/api/dcim/devices/", "/api/dcim/devices/{id}/",
	"/api/virtualization/virtual-machines/", "/api/virtualization/virtual-machines/{id}/",
	"/api/ipam/ip-addresses/", "/api/ipam/ip-addresses/{id}/", "/api/dcim/interfaces/",
	"/api/dcim/sites/", "/api/dcim/sites/{id}/",
	"/api/extras/custom-fields/", "/api/extras/journal-entries/",
	"/api/dcim/device-roles/", "/api/extras/tags/",
}

// servedMethods are the operations of those paths the document keeps
// (the fake answers other methods with 405).
var servedMethods = []string{"get", "post", "patch"}

var update = flag.Bool("update", false, "rewrite testdata/openapi-served.json from testdata/openapi.yaml")

const (
	fullSpec   = "testdata/openapi.yaml"        // NetBox's document as go-netbox v4.3.0 ships it
	servedSpec = "testdata/openapi-served.json" // the served operations and the schemas they use
)

// TestServedSpecIsCurrent checks testdata/openapi-served.json was cut from
// testdata/openapi.yaml as it is now; -update cuts it again. The cut keeps
// the served paths and every schema they reach, unchanged, so the
// conformance tests load in a fraction of the time the 4 MB document takes.
func TestServedSpecIsCurrent(t *testing.T) {
	t.Parallel()
	full, err := os.ReadFile(fullSpec)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(full)
	if *update {
		b, err := cutSpec(full, hex.EncodeToString(sum[:]))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(servedSpec, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(servedSpec)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Info struct {
			Source string `json:"x-source-sha256"`
		} `json:"info"`
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Info.Source != hex.EncodeToString(sum[:]) {
		t.Errorf("%s was cut from another %s; run go test -run TestServedSpecIsCurrent -update", servedSpec, fullSpec)
	}
	if len(doc.Paths) != len(servedPaths) {
		t.Errorf("%s has %d paths, want %d", servedSpec, len(doc.Paths), len(servedPaths))
	}
}

// cutSpec keeps the served paths of the OpenAPI document and the component
// schemas they reference, directly or through other schemas.
func cutSpec(full []byte, sum string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(full, &doc); err != nil {
		return nil, err
	}
	paths, _ := doc["paths"].(map[string]any)
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	keptPaths := map[string]any{}
	keptSchemas := map[string]any{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if ref, ok := x.(string); k == "$ref" && ok {
					name := strings.TrimPrefix(ref, "#/components/schemas/")
					if _, seen := keptSchemas[name]; !seen && schemas[name] != nil {
						keptSchemas[name] = schemas[name]
						walk(schemas[name])
					}
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, p := range servedPaths {
		item, ok := paths[p].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: no path %s", fullSpec, p)
		}
		kept := map[string]any{}
		for _, m := range servedMethods {
			if op, ok := item[m]; ok {
				kept[m] = op
			}
		}
		keptPaths[p] = kept
		walk(kept)
	}
	info, _ := doc["info"].(map[string]any)
	info["x-source-sha256"] = sum
	out := map[string]any{
		"openapi": doc["openapi"],
		"info":    info,
		"paths":   keptPaths,
		"components": map[string]any{
			"schemas":         keptSchemas,
			"securitySchemes": components["securitySchemes"],
		},
	}
	return json.MarshalIndent(out, "", " ")
}

// loadSpec loads the served part of NetBox's OpenAPI document as shipped
// in go-netbox v4.3.0 (api/openapi.yaml, copied to testdata) once per test
// binary.
//
// Two narrow workarounds are applied; every other property keeps the
// document's own rules:
//   - go-netbox's build script removes "nullable" from properties, and
//     choice fields that NetBox leaves blank (face, airflow, an IP's role,
//     an interface's mode, …) are sent as null by NetBox itself (reference
//     §7 item 5). Those fields are recognisable in the document: a
//     {value, label} object whose value enum includes "" (the blank
//     choice). Only they are marked nullable again.
//   - Untyped free-form schemas ({}: custom field values, config_context,
//     local_context_data, assigned_object) admit any JSON value, null
//     included (OpenAPI 3.0.3 ties "nullable" to an explicit type);
//     kin-openapi rejects null there unless the schema says nullable, so
//     they are marked nullable. NetBox sends unset custom fields as null.
//   - A pattern on an optional string (an IP's dns_name) is a write-side
//     rule; NetBox sends a blank value as "", which the pattern does not
//     admit. Such patterns also admit "".
var loadSpec = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(servedSpec)
	if err != nil {
		return nil, err
	}
	for _, s := range doc.Components.Schemas {
		if s.Value == nil {
			continue
		}
		for name, p := range s.Value.Properties {
			if p.Value == nil || p.Ref != "" {
				continue
			}
			freeForm(p.Value)
			if p.Value.Pattern != "" && !slices.Contains(s.Value.Required, name) {
				p.Value.Pattern = "^$|" + p.Value.Pattern
			}
			if ap := p.Value.AdditionalProperties.Schema; ap != nil && ap.Ref == "" && ap.Value != nil {
				freeForm(ap.Value)
			}
			if v := p.Value.Properties["value"]; v != nil && v.Value != nil && p.Value.Properties["label"] != nil {
				for _, e := range v.Value.Enum {
					if e == "" {
						p.Value.Nullable = true
					}
				}
			}
		}
	}
	return doc, nil
})

// freeForm marks an untyped schema without structure nullable.
func freeForm(s *openapi3.Schema) {
	if (s.Type == nil || len(*s.Type) == 0) && len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) == 0 &&
		s.Not == nil && len(s.Properties) == 0 {
		s.Nullable = true
	}
}

// conforms validates one response of the fake against the operation of
// specPath in NetBox's OpenAPI document.
func conforms(t *testing.T, s *netboxtest.Server, specPath, path string) error {
	t.Helper()
	return conformsTo(t, s, http.MethodGet, specPath, path, "", http.StatusOK)
}

// conformsTo sends method path with a JSON body (none when empty),
// expects status and validates the answer against the operation of
// specPath in NetBox's OpenAPI document.
func conformsTo(t *testing.T, s *netboxtest.Server, method, specPath, path, body string, status int) error {
	t.Helper()
	doc, err := loadSpec()
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	item := doc.Paths.Find(specPath)
	var op *openapi3.Operation
	if item != nil {
		op = item.GetOperation(method)
	}
	if op == nil {
		t.Fatalf("no %s %s in the OpenAPI document", method, specPath)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	req.Header.Set("Authorization", "Token "+s.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   &routers.Route{Spec: doc, Path: specPath, PathItem: item, Method: method, Operation: op},
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Options: &openapi3filter.Options{
			MultiError:            true,
			IncludeResponseStatus: true,
		},
	}
	in.SetBodyBytes(b)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// TestConformsToOpenAPI checks every endpoint and filter form the fake
// serves against NetBox's OpenAPI document: required properties present,
// types, formats and enums right.
func TestConformsToOpenAPI(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithDevices(120), netboxtest.WithVirtualMachines(12))
	type check struct{ spec, path string }
	checks := []check{
		{"/api/status/", "/api/status/"},
		{"/api/dcim/devices/", "/api/dcim/devices/?limit=1000"},
		{"/api/dcim/devices/", "/api/dcim/devices/?limit=1000&exclude=config_context"},
		{"/api/dcim/devices/", "/api/dcim/devices/?ordering=id&id__gt=100&limit=50"},
		{"/api/dcim/devices/", "/api/dcim/devices/?site_id=1&role=core-router&status=active&status=planned"},
		{"/api/dcim/devices/", "/api/dcim/devices/?tag=monitored&tag=backup&tenant_id=null"},
		{"/api/dcim/devices/", "/api/dcim/devices/?cf_ssh_port=22&ordering=-last_updated&offset=10"},
		{"/api/dcim/devices/", "/api/dcim/devices/?has_primary_ip=false"},
		{"/api/dcim/devices/", "/api/dcim/devices/?limit=0&offset=5000"},
		{"/api/virtualization/virtual-machines/", "/api/virtualization/virtual-machines/?limit=1000"},
		{"/api/virtualization/virtual-machines/", "/api/virtualization/virtual-machines/?exclude=config_context&status=active"},
		{"/api/virtualization/virtual-machines/{id}/", "/api/virtualization/virtual-machines/1/"},
		{"/api/ipam/ip-addresses/", "/api/ipam/ip-addresses/?limit=1000"},
		{"/api/ipam/ip-addresses/", "/api/ipam/ip-addresses/?limit=1000&offset=1000"},
		{"/api/ipam/ip-addresses/", "/api/ipam/ip-addresses/?device_id=1&device_id=2&device_id=3&virtual_machine_id=1"},
		{"/api/ipam/ip-addresses/{id}/", "/api/ipam/ip-addresses/1/"},
		{"/api/dcim/interfaces/", "/api/dcim/interfaces/?limit=1000"},
		{"/api/dcim/sites/", "/api/dcim/sites/?limit=1000"},
		{"/api/dcim/sites/{id}/", "/api/dcim/sites/1/"},
		{"/api/dcim/device-roles/", "/api/dcim/device-roles/?limit=1000"},
		{"/api/dcim/device-roles/", "/api/dcim/device-roles/?slug=core-router&id=2"},
		{"/api/extras/tags/", "/api/extras/tags/?slug=monitored&slug=backup"},
	}
	for _, q := range netboxtest.AllQuirks() {
		for _, d := range s.Quirky(q) {
			checks = append(checks, check{"/api/dcim/devices/{id}/", fmt.Sprintf("/api/dcim/devices/%d/", d.ID)})
		}
	}
	d, err := s.CreateDevice(netboxtest.Device{Name: "made-in-test", Site: "new-site", Role: "new-role",
		Tags: []string{"new-tag"}, CustomFields: map[string]any{"new_cf": 1.5}})
	if err != nil {
		t.Fatal(err)
	}
	checks = append(checks, check{"/api/dcim/devices/{id}/", fmt.Sprintf("/api/dcim/devices/%d/", d.ID)})
	for _, c := range checks {
		if err := conforms(t, s, c.spec, c.path); err != nil {
			t.Errorf("GET %s does not conform:\n%s", c.path, limitText(err.Error(), 3000))
		}
	}
}

// TestReducedShapesDoNotConform checks brief=, fields= and the custom
// status choice break the document just as they break go-netbox: the
// check above is not blind.
func TestReducedShapesDoNotConform(t *testing.T) {
	t.Parallel()
	s := netboxtest.NewServer(t, netboxtest.WithCustomStatus())
	bad := s.Quirky(netboxtest.QuirkCustomStatus)[0]
	for _, c := range []struct{ spec, path, want string }{
		{"/api/dcim/devices/", "/api/dcim/devices/?brief=1", `property "device_type" is missing`},
		{"/api/dcim/devices/", "/api/dcim/devices/?fields=id,name", `property "url" is missing`},
		{"/api/dcim/devices/{id}/", fmt.Sprintf("/api/dcim/devices/%d/", bad.ID), `"maintenance"`},
	} {
		err := conforms(t, s, c.spec, c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("GET %s: error %v, want one mentioning %s", c.path, err, c.want)
		}
	}
}

func limitText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
