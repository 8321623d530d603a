package wug

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for every decoder of WUG's answers. Each feeds arbitrary
// bytes as an answer body and checks that decoding never panics and ends
// in a *shapeError or in a value consistent with the input. Seed corpora
// live in testdata/fuzz/<target>; `go test` runs them as ordinary tests.

// decodeConsistent decodes body as an answer into out and checks the
// properties every decoder shares; it reports whether decoding succeeded.
func decodeConsistent(t *testing.T, body []byte, out any, pg *Paging) bool {
	t.Helper()
	err := decodeAnswer(body, out, pg)
	if err != nil {
		var se *shapeError
		if !errors.As(err, &se) || se.Problem == "" {
			t.Fatalf("decode error %v is not a shapeError naming the problem", err)
		}
		return false
	}
	if !json.Valid(body) {
		t.Fatalf("accepted a body that is not JSON: %q", body)
	}
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil {
		t.Fatalf("accepted a body that is not a JSON object: %q", body)
	}
	if v, ok := lookupKey(env, "error"); ok && !isNull(v) {
		t.Fatalf("accepted an error envelope: %q", body)
	}
	return true
}

// roundTrip checks that v, encoded and decoded again in a data envelope,
// encodes the same: the decoder keeps what it read.
func roundTrip[T any](t *testing.T, v *T) {
	t.Helper()
	first, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	var again T
	if err := decodeAnswer([]byte(`{"data":`+string(first)+`}`), &again, nil); err != nil {
		t.Fatalf("own encoding %s refused: %v", first, err)
	}
	second, err := json.Marshal(&again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("round trip changed the value:\n%s\n%s", first, second)
	}
}

func FuzzDecodeDevice(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		var d Device
		if decodeConsistent(t, body, &d, nil) {
			if d.ID == "" {
				t.Fatalf("device without id from %q", body)
			}
			roundTrip(t, &d)
		}
	})
}

func FuzzDecodeDevicePage(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		page := pageItems[Device]{decode: fieldItems[Device]("devices")}
		var pg Paging
		if decodeConsistent(t, body, &page, &pg) {
			if page.items == nil {
				t.Fatalf("a page without a list from %q", body)
			}
			for _, d := range page.items {
				if d.ID == "" {
					t.Fatalf("listed device without id from %q", body)
				}
			}
		}
	})
}

func FuzzDecodeListPage(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		attrs := pageItems[Attribute]{decode: arrayItems[Attribute]}
		if decodeConsistent(t, body, &attrs, nil) {
			for _, a := range attrs.items {
				if a.AttributeID == "" && a.ID == "" {
					t.Fatalf("attribute without id from %q", body)
				}
			}
		}
		groups := pageItems[Group]{decode: fieldItems[Group]("groups")}
		if decodeConsistent(t, body, &groups, nil) {
			for _, g := range groups.items {
				if g.ID == "" {
					t.Fatalf("group without id from %q", body)
				}
			}
			fillPaths(groups.items)
		}
		scans := pageItems[Scan]{decode: arrayItems[Scan]}
		decodeConsistent(t, body, &scans, nil)
	})
}

func FuzzDecodeResult(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		var sr SuccessResult
		if decodeConsistent(t, body, &sr, nil) && (sr.check("op") == nil) != sr.Success {
			t.Fatalf("success %v but check %v", sr.Success, sr.check("op"))
		}
		var cr CountedResult
		if decodeConsistent(t, body, &cr, nil) {
			failed := !cr.Success || len(cr.Errors)+len(cr.ResourcesWithErrors)+len(cr.ResourcesNotAllowed) > 0
			if err := cr.check("op"); (err != nil) != failed {
				t.Fatalf("result %+v: check %v", cr, err)
			}
			if strings.Contains(string(body), `"success":false`) && cr.check("op") == nil {
				t.Fatalf("success:false taken as success from %q", body)
			}
		}
	})
}

func FuzzDecodeTemplateResults(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		var res ApplyTemplateResults
		if !decodeConsistent(t, body, &res, nil) {
			return
		}
		for _, m := range res.IDMap {
			if m.TemplateID == "" || m.ResultID == "" {
				t.Fatalf("idMap entry %+v from %q", m, body)
			}
		}
		out := []TemplateOutcome{{TemplateID: "t0"}, {TemplateID: "t1", Index: 1}}
		applyResults("Devices.BulkAdd", out, map[string]int{"t0": 0, "t1": 1}, 0, 2, &res)
		for _, o := range out {
			if (o.DeviceID == "") == (o.Err == nil) {
				t.Fatalf("outcome %+v has neither or both of a device and an error", o)
			}
		}
	})
}

func FuzzDecodeObjects(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		var st ScanStarted
		if decodeConsistent(t, body, &st, nil) && st.Success && st.ID == "" {
			t.Fatalf("started scan without id from %q", body)
		}
		var sc Scan
		if decodeConsistent(t, body, &sc, nil) {
			sc.Done()
		}
		var g Group
		if decodeConsistent(t, body, &g, nil) && g.ID == "" {
			t.Fatalf("group without id from %q", body)
		}
		var p ProductInfo
		if decodeConsistent(t, body, &p, nil) && p.Values == nil {
			t.Fatalf("product info without values from %q", body)
		}
		var who string
		decodeConsistent(t, body, &who, nil)
		var ds DeviceStatus
		decodeConsistent(t, body, &ds, nil)
		var dp DeviceProperties
		decodeConsistent(t, body, &dp, nil)
		var gs GroupStatus
		decodeConsistent(t, body, &gs, nil)
	})
}

func FuzzParseErrorBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg := parseErrorBody(body)
		if utf8.Valid(body) && !(utf8.ValidString(code) && utf8.ValidString(msg)) {
			t.Fatalf("valid UTF-8 body %q gave invalid UTF-8 code %q or message %q", body, code, msg)
		}
		if !json.Valid(body) && utf8.RuneCountInString(msg) > maxErrorText+1 {
			t.Fatalf("text body kept as a %d-character message", utf8.RuneCountInString(msg))
		}
	})
}
