package wugtest

// RouteNames lists every route the handler serves, for the coverage test.
func RouteNames(h *Handler) []string {
	out := make([]string, len(h.routes))
	for i, r := range h.routes {
		out[i] = r.name()
	}
	return out
}
