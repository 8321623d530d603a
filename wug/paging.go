package wug

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"net/url"
	"strconv"
)

// pager walks a paged list: it sends the query unchanged but for pageId,
// follows paging.nextPageId, stops when it is absent and fails when the
// server repeats one. items extracts the page's elements from its data.
func pager[T any](ctx context.Context, c *Client, op, path string, query url.Values, items func(json.RawMessage) ([]T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		seen := map[string]bool{}
		pageID := ""
		for {
			q := maps.Clone(query)
			if q == nil {
				q = url.Values{}
			}
			if pageID != "" {
				q.Set("pageId", pageID)
			}
			page := pageItems[T]{decode: items}
			var pg Paging
			if err := c.do(ctx, request{method: "GET", path: path, query: q}, &page, &pg); err != nil {
				yield(zero, opErr(op, err))
				return
			}
			for _, it := range page.items {
				if !yield(it, nil) {
					return
				}
			}
			next := pg.NextPageID
			if next == "" {
				return
			}
			if seen[next] {
				yield(zero, opErr(op, fmt.Errorf("server repeated page id %q; stopping to avoid a loop", next)))
				return
			}
			seen[next] = true
			pageID = next
		}
	}
}

// arrayItems decodes a page whose data is the array itself.
func arrayItems[T any](raw json.RawMessage) ([]T, error) {
	return listOf[T](raw, "data")
}

// fieldItems decodes a page whose data is an object holding the array in
// field name (e.g. {"devices": [...]}).
func fieldItems[T any](name string) func(json.RawMessage) ([]T, error) {
	return func(raw json.RawMessage) ([]T, error) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return nil, fmt.Errorf("%q is not an object holding %q", "data", name)
		}
		v, ok := lookupKey(obj, name)
		if !ok {
			return nil, fmt.Errorf("no %q list", name)
		}
		return listOf[T](v, name)
	}
}

// collect drains seq into a slice, stopping at the first error.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func setLimit(q url.Values, limit int) {
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
}
