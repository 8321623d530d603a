package wug

import (
	"bytes"
	"encoding/json"
	"time"
)

// Time is a WUG timestamp. WUG writes ISO-8601, sometimes without a zone
// (.NET style, meaning UTC) and sometimes with fractional seconds. A value
// that is not a timestamp decodes without error: Time stays zero and Raw
// keeps the text.
type Time struct {
	time.Time
	// Raw is the text as WUG sent it, kept when it did not parse.
	Raw string
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.9999999",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

// UnmarshalJSON accepts null, strings in any of WUG's timestamp forms and,
// leniently, anything else as Raw text.
func (t *Time) UnmarshalJSON(b []byte) error {
	*t = Time{}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		t.Raw = string(b)
		return nil
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	t.Raw = s
	return nil
}

// MarshalJSON writes RFC 3339 in UTC, or Raw when the time is zero.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.Time.IsZero() {
		if t.Raw != "" {
			return json.Marshal(t.Raw)
		}
		return []byte("null"), nil
	}
	return json.Marshal(t.Time.UTC().Format(time.RFC3339Nano))
}

// IsZero reports whether neither a time nor raw text is held.
func (t Time) IsZero() bool { return t.Time.IsZero() && t.Raw == "" }
