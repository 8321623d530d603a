package netbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// RefKind names a type of NetBox object that filters name by id or slug.
type RefKind string

// The object types Refs can name.
const (
	RefSite RefKind = "site" // /api/dcim/sites/
	RefRole RefKind = "role" // /api/dcim/device-roles/ (device and VM roles)
	RefTag  RefKind = "tag"  // /api/extras/tags/
)

func (k RefKind) path() (string, bool) {
	switch k {
	case RefSite:
		return "/api/dcim/sites/", true
	case RefRole:
		return "/api/dcim/device-roles/", true
	case RefTag:
		return "/api/extras/tags/", true
	}
	return "", false
}

// Refs names NetBox objects of one type by id, by slug, or both, as a
// filter list such as [1, 2] or [1, "ams1"] gives them (NetBox's own
// documentation and the seed's REST example use ids; people write slugs).
// In JSON it is that list: numbers are ids, strings are slugs.
type Refs struct {
	IDs   []int64
	Slugs []string
}

// IsZero reports whether r names nothing.
func (r Refs) IsZero() bool { return len(r.IDs) == 0 && len(r.Slugs) == 0 }

// ParseRefs splits a JSON list of NetBox ids and slugs, e.g. [1, "ams1"],
// into a Refs. Ids are whole numbers from 1 to 2147483647, slugs are
// letters, digits, - and _ (a quoted "1" is a slug). Anything else (a
// fraction, zero, null, an object, a string with spaces) is an error
// naming the item and why; null or [] is an empty Refs.
func ParseRefs(data []byte) (Refs, error) {
	var r Refs
	if t := bytes.TrimSpace(data); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return r, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var items []any
	if err := dec.Decode(&items); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Refs{}, fmt.Errorf("want a list of NetBox ids and slugs, not a JSON %s", te.Value)
		}
		return Refs{}, fmt.Errorf("want a list of NetBox ids and slugs: %w", err)
	}
	if dec.More() {
		return Refs{}, errors.New("want a list of NetBox ids and slugs: data after the list")
	}
	for i, it := range items {
		switch v := it.(type) {
		case json.Number:
			id, err := strconv.ParseInt(v.String(), 10, 64)
			if err != nil || id <= 0 || id > math.MaxInt32 {
				return Refs{}, fmt.Errorf("item %d: %s is not a NetBox id (a whole number from 1 to %d)", i+1, v, math.MaxInt32)
			}
			r.IDs = append(r.IDs, id)
		case string:
			if !slugRE.MatchString(v) {
				return Refs{}, fmt.Errorf("item %d: %q is not a slug (letters, digits, - and _)", i+1, v)
			}
			r.Slugs = append(r.Slugs, v)
		default:
			b, _ := json.Marshal(it)
			return Refs{}, fmt.Errorf("item %d: %s is neither a NetBox id nor a slug", i+1, b)
		}
	}
	return r, nil
}

// UnmarshalJSON reads a list of ids and slugs (see ParseRefs).
func (r *Refs) UnmarshalJSON(data []byte) error {
	v, err := ParseRefs(data)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalJSON writes the ids, then the slugs, as one list.
func (r Refs) MarshalJSON() ([]byte, error) {
	items := make([]any, 0, len(r.IDs)+len(r.Slugs))
	for _, id := range r.IDs {
		items = append(items, id)
	}
	for _, s := range r.Slugs {
		items = append(items, s)
	}
	return json.Marshal(items)
}

// slugsPerLookup bounds the slugs of one lookup request, keeping its URL
// short.
const slugsPerLookup = 100

// ResolveRefs returns the ids of every object r names, without repeats:
// r.IDs and the ids of r.Slugs, which it looks up with GET
// /api/dcim/sites/ (device-roles, tags) and slug= filters, one request per
// 100 slugs and none when r has no slugs. NetBox combines a selector's ids
// and slugs of one type with AND (site_id=1&site=ams1 is site 1 only if
// that is ams1); resolving a list first gives "any of these", as a filter
// list means. A slug NetBox does not know is an error naming it, as
// NetBox's own filter refuses one. The ids are not checked.
func (c *Client) ResolveRefs(ctx context.Context, kind RefKind, r Refs) ([]int64, error) {
	path, ok := kind.path()
	if !ok {
		return nil, fmt.Errorf("netbox: resolve refs: unknown kind %q", kind)
	}
	op := "resolve " + string(kind) + " slugs"
	ids := slices.Clone(r.IDs)
	found := map[string]int64{}
	for start := 0; start < len(r.Slugs); start += slugsPerLookup {
		chunk := r.Slugs[start:min(start+slugsPerLookup, len(r.Slugs))]
		for _, s := range chunk {
			if !slugRE.MatchString(s) {
				return nil, fmt.Errorf("netbox: %s: %q is not a slug", op, s)
			}
		}
		q := url.Values{"slug": chunk, "limit": {strconv.Itoa(MaxPageSize)}}
		var page struct {
			Results *[]struct {
				ID   int64  `json:"id"`
				Slug string `json:"slug"`
			} `json:"results"`
		}
		err := c.get(ctx, op, path, q, func(dec *jsontext.Decoder) error {
			return jsonv2.UnmarshalDecode(dec, &page, decodeOpts)
		})
		if err != nil {
			return nil, err
		}
		if page.Results == nil {
			return nil, fmt.Errorf("netbox: %s: the answer has no results", op)
		}
		for _, it := range *page.Results {
			found[it.Slug] = it.ID
		}
	}
	for _, s := range r.Slugs {
		id, ok := found[s]
		if !ok {
			return nil, fmt.Errorf("netbox: %s: NetBox has no %s with slug %q", op, kind, s)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}
