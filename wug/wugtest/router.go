package wugtest

import (
	"net/http"
	"sort"
	"strings"
)

// route is one method and path template the fake serves.
type route struct {
	method  string
	pattern string   // e.g. "/api/v1/devices/{deviceId}/attributes/-"
	segs    []string // pattern split on "/"
	fn      func(*call)
	public  bool // served without a bearer token
}

func (r *route) name() string { return r.method + " " + r.pattern }

// nameOrEmpty is name for a matched route and "" for none.
func (r *route) nameOrEmpty() string {
	if r == nil {
		return ""
	}
	return r.name()
}

type matchResult int

const (
	matchOK matchResult = iota
	matchNotFound
	matchBadMethod
)

// buildRoutes lists every operation the fake implements.
func (h *Handler) buildRoutes() []*route {
	const v1 = "/api/v1"
	table := []struct {
		method, path string
		fn           func(*call)
	}{
		{"GET", "/product/version", h.productVersion},
		{"GET", "/product/api", h.productAPI},
		{"GET", "/product/whoAmI", h.whoAmI},
		{"GET", "/product/installationId", h.installationID},
		{"GET", "/product/timezone", h.timezone},

		{"GET", "/device-groups/{groupId}/devices/-", h.listGroupDevices},
		{"GET", "/device-groups/{groupId}/devices", h.listGroupDevices},
		{"GET", "/devices/{deviceId}", h.getDevice},
		{"DELETE", "/devices/{deviceId}", h.deleteDevice},
		{"PATCH", "/devices/-", h.bulkDeviceOp},
		{"GET", "/devices/{deviceId}/status", h.deviceStatus},
		{"GET", "/devices/{deviceId}/properties", h.getProperties},
		{"PUT", "/devices/{deviceId}/properties", h.putProperties},
		{"PATCH", "/devices/-/properties", h.patchProperties},
		{"PUT", "/devices/{deviceId}/poll-now", h.pollNow},
		{"PATCH", "/devices/-/poll-now", h.bulkPollNow},
		{"PUT", "/device-groups/{groupId}/poll-now", h.groupPollNow},
		{"PUT", "/devices/{deviceId}/refresh", h.refreshDevice},
		{"PATCH", "/devices/-/refresh", h.bulkRefresh},
		{"PUT", "/device-groups/{groupId}/refresh", h.groupRefresh},
		{"PUT", "/devices/{deviceId}/config/maintenance", h.putMaintenance},
		{"PATCH", "/devices/-/config/maintenance", h.patchMaintenance},
		{"PATCH", "/devices/-/config/template", h.applyTemplates},
		{"GET", "/devices/{deviceId}/config/template", h.getTemplate},

		{"GET", "/devices/{deviceId}/interfaces/-", h.listInterfaces},
		{"GET", "/devices/{deviceId}/interfaces/default", h.getDefaultInterface},
		{"GET", "/devices/{deviceId}/interfaces/{interfaceId}", h.getInterface},
		{"PUT", "/devices/{deviceId}/interfaces/{interfaceId}", h.putInterface},
		{"DELETE", "/devices/{deviceId}/interfaces/{interfaceId}", h.deleteInterface},
		{"POST", "/devices/{deviceId}/interfaces/-", h.addInterface},
		{"DELETE", "/devices/{deviceId}/interfaces/-", h.deleteInterfaces},
		{"PATCH", "/devices/{deviceId}/interfaces/-", h.batchInterfaces},

		{"GET", "/devices/{deviceId}/roles/-", h.listRoles},
		{"PUT", "/devices/{deviceId}/roles/primary", h.roleOne("primary", "primary")},
		{"PUT", "/devices/{deviceId}/roles/os", h.roleOne("os", "osName")},
		{"PUT", "/devices/{deviceId}/roles/brand", h.roleOne("brand", "brand")},
		{"PATCH", "/devices/-/roles/primary", h.roleMany("primary")},
		{"PATCH", "/devices/-/roles/os", h.roleMany("os")},
		{"PATCH", "/devices/-/roles/brand", h.roleMany("brand")},
		{"PATCH", "/devices/-/roles/sub-role", h.subRoleMany},

		{"GET", "/devices/{deviceId}/attributes/-", h.listAttributes},
		{"POST", "/devices/{deviceId}/attributes/-", h.addAttribute},
		{"DELETE", "/devices/{deviceId}/attributes/-", h.deleteAttributes},
		{"PATCH", "/devices/{deviceId}/attributes/-", h.batchAttributes},
		{"GET", "/devices/{deviceId}/attributes/{attributeId}", h.getAttribute},
		{"PUT", "/devices/{deviceId}/attributes/{attributeId}", h.updateAttribute},
		{"DELETE", "/devices/{deviceId}/attributes/{attributeId}", h.deleteAttribute},

		{"GET", "/device-groups/-", h.listGroups},
		{"GET", "/device-groups/{groupId}", h.getGroup},
		{"DELETE", "/device-groups/{groupId}", h.deleteGroup},
		{"GET", "/device-groups/{groupId}/status", h.groupStatus},
		{"GET", "/device-groups/{groupId}/definition", h.getDefinition},
		{"PUT", "/device-groups/{groupId}/definition", h.putDefinition},
		{"POST", "/device-groups/{groupId}/child", h.addChildGroup},
		{"GET", "/device-groups/{groupId}/children", h.groupChildren},
		{"POST", "/device-groups/{groupId}/devices/-", h.addGroupMembers},
		{"DELETE", "/device-groups/{groupId}/devices/-", h.removeGroupMembers},
		{"DELETE", "/device-groups/{groupId}/devices/{deviceId}", h.removeGroupMember},
		{"GET", "/devices/{deviceId}/group/-", h.deviceGroups},
		{"PUT", "/devices/{deviceId}/group/-", h.assignDeviceGroup},
		{"PATCH", "/devices/{deviceId}/group/-", h.patchDeviceGroups},
		{"DELETE", "/devices/{deviceId}/group/{groupId}", h.leaveGroup},
		{"GET", "/devices/{deviceId}/group/{groupId}/is-member", h.isMember},

		{"PUT", "/device-groups/{groupId}/newDevice", h.newDevice},
		{"PATCH", "/device-groups/{groupId}/newDevice", h.bulkNewDevice},
		{"GET", "/device-scan/-/status", h.listScans},
		{"GET", "/device-scan/{scanId}/status", h.scanStatus},
		{"GET", "/device-scan/{scanId}/devices", h.scanDevices},
		{"PUT", "/device-scan/{scanId}/cancel", h.cancelScan},
	}
	routes := make([]*route, 0, len(table)+2)
	for _, e := range table {
		routes = append(routes, newRoute(e.method, v1+e.path, e.fn, false))
	}
	routes = append(routes,
		newRoute("POST", v1+"/token", h.token, true),
		newRoute("GET", v1+"/errors/{errorType}", h.errorSample, true),
	)
	return routes
}

func newRoute(method, pattern string, fn func(*call), public bool) *route {
	return &route{method: method, pattern: pattern, segs: strings.Split(pattern, "/"), fn: fn, public: public}
}

// matchPath reports whether path fits the route's template, filling params.
// It also returns a score in which literal segments earlier in the path
// weigh more, so "/devices/-/refresh" beats "/devices/{deviceId}/refresh".
func (r *route) matchPath(segs []string) (map[string]string, uint64, bool) {
	if len(segs) != len(r.segs) {
		return nil, 0, false
	}
	var params map[string]string
	var score uint64
	for i, p := range r.segs {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, 0, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, 0, false
		}
		if i < 63 {
			score |= 1 << (63 - i)
		}
	}
	return params, score, true
}

// match finds the route for method and path. Path segments are compared
// exactly, as the contract spells them.
func (h *Handler) match(method, path string) (*route, map[string]string, matchResult) {
	segs := strings.Split(path, "/")
	var best *route
	var bestParams map[string]string
	var bestScore uint64
	pathKnown := false
	for _, r := range h.routes {
		params, score, ok := r.matchPath(segs)
		if !ok {
			continue
		}
		pathKnown = true
		if r.method != method {
			continue
		}
		if best == nil || score > bestScore {
			best, bestParams, bestScore = r, params, score
		}
	}
	switch {
	case best != nil:
		return best, bestParams, matchOK
	case pathKnown:
		return nil, nil, matchBadMethod
	}
	return nil, nil, matchNotFound
}

// allowed lists the methods served on path, for the Allow header of a 405.
func (h *Handler) allowed(path string) []string {
	segs := strings.Split(path, "/")
	set := map[string]bool{}
	for _, r := range h.routes {
		if _, _, ok := r.matchPath(segs); ok {
			set[r.method] = true
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// routeMatches reports whether a fault pattern selects this request. A
// pattern is "[METHOD ]PATH" where PATH is either a route template as the
// contract spells it ("/api/v1/devices/{deviceId}") or a literal path
// ("/api/v1/devices/12"), and METHOD may be "*" or omitted for any.
func routeMatches(pattern, method, path, routeName string) bool {
	pm, pp := "*", pattern
	if i := strings.IndexByte(pattern, ' '); i > 0 {
		pm, pp = pattern[:i], strings.TrimSpace(pattern[i+1:])
	}
	if pm != "*" && !strings.EqualFold(pm, method) {
		return false
	}
	if pp == path {
		return true
	}
	if _, tmpl, ok := strings.Cut(routeName, " "); ok && pp == tmpl {
		return true
	}
	return false
}

var _ http.Handler = (*Handler)(nil)
