package wugtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// envelopeMessage is the message of the error envelope ErrorEnvelope sends.
const envelopeMessage = "internal error (error envelope injected by wugtest)"

// htmlPage is the body NonJSON sends: the kind of page a proxy or an IIS
// error handler puts in front of WUG.
const htmlPage = "<!DOCTYPE html>\n<html><head><title>WhatsUp Gold</title></head>\n" +
	"<body><h1>Service temporarily unavailable</h1><p>The page cannot be displayed (injected by wugtest).</p></body></html>\n"

// writeOffContract answers a request that misbehaves without being handled:
// an error envelope or an HTML page, both with status 200.
func writeOffContract(w http.ResponseWriter, kind Misbehavior) {
	if kind == NonJSON {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(htmlPage))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"error": map[string]any{"message": envelopeMessage}})
}

// rewriteBody applies a NumericIDs or CorrectedSpelling misbehavior to a
// handled JSON answer. A body that is not JSON is left as it is.
func rewriteBody(rec *recorder, kind Misbehavior) {
	dec := json.NewDecoder(bytes.NewReader(rec.buf.Bytes()))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return
	}
	switch kind {
	case NumericIDs:
		v = numericIDs(v)
	case CorrectedSpelling:
		correctSpelling(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	rec.buf.Reset()
	rec.buf.Write(b)
}

// isIDKey reports whether a JSON key names a resource id or id list. Paging
// ids are opaque cursors, not resource ids.
func isIDKey(k string) bool {
	if k == "pageId" || k == "nextPageId" {
		return false
	}
	return k == "id" || strings.HasSuffix(k, "Id") || strings.HasSuffix(k, "Ids")
}

// numericIDs turns the decimal string values of id keys into JSON numbers,
// in lists too. Ids that are not decimal integers (scan GUIDs) stay strings.
func numericIDs(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if isIDKey(k) {
				t[k] = idNumbers(e)
			} else {
				t[k] = numericIDs(e)
			}
		}
	case []any:
		for i, e := range t {
			t[i] = numericIDs(e)
		}
	}
	return v
}

func idNumbers(v any) any {
	switch t := v.(type) {
	case string:
		if n, err := strconv.ParseInt(t, 10, 64); err == nil && strconv.FormatInt(n, 10) == t {
			return json.Number(t)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = idNumbers(e)
		}
		return t
	}
	return numericIDs(v)
}

// correctSpelling renames the contract's "resourcesWithErros" to
// "resourcesWithErrors" wherever it occurs.
func correctSpelling(v any) {
	switch t := v.(type) {
	case map[string]any:
		if e, ok := t["resourcesWithErros"]; ok {
			delete(t, "resourcesWithErros")
			t["resourcesWithErrors"] = e
		}
		for _, e := range t {
			correctSpelling(e)
		}
	case []any:
		for _, e := range t {
			correctSpelling(e)
		}
	}
}
