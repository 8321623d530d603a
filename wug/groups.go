package wug

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/wugsync/wugsync/internal/httpx"
)

// GroupsService manages device groups and their members.
type GroupsService struct {
	c *Client
	// ensureMu serialises EnsurePath so concurrent callers never create the
	// same group twice.
	ensureMu sync.Mutex
}

// List returns every group, nested ones included, each with its Path built
// from the parent chain ("My Network/NetBox/Site A")
// (GET /api/v1/device-groups/-, all pages).
func (s *GroupsService) List(ctx context.Context) ([]Group, error) {
	groups, err := collect(pager(ctx, s.c, "Groups.List", "/device-groups/-", nil, fieldItems[Group]("groups")))
	if err != nil {
		return nil, err
	}
	fillPaths(groups)
	return groups, nil
}

// fillPaths sets Path on each group from the parentGroupId chain. A group
// whose parent is missing from the list starts its own path; cycles stop.
func fillPaths(groups []Group) {
	byID := make(map[string]*Group, len(groups))
	for i := range groups {
		byID[groups[i].ID] = &groups[i]
	}
	for i := range groups {
		var parts []string
		seen := map[string]bool{}
		for g := &groups[i]; g != nil && !seen[g.ID]; g = byID[g.ParentGroupID] {
			seen[g.ID] = true
			parts = append(parts, g.Name)
			if g.ParentGroupID == "" || g.ParentGroupID == g.ID {
				break
			}
		}
		for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
			parts[l], parts[r] = parts[r], parts[l]
		}
		groups[i].Path = strings.Join(parts, "/")
	}
}

// Get returns one group (GET /api/v1/device-groups/{groupId}).
func (s *GroupsService) Get(ctx context.Context, groupID string) (*Group, error) {
	var g Group
	if err := s.c.do(ctx, request{method: "GET", path: "/device-groups/" + escape(groupID)}, &g, nil); err != nil {
		return nil, opErr("Groups.Get", err)
	}
	return &g, nil
}

// CreateChild creates a static group named name under parentID
// (POST /api/v1/device-groups/{parentGroupId}/child). Each arrival creates,
// so it is never sent again once it may have reached WUG: such a failure
// matches ErrOutcomeUnknown.
func (s *GroupsService) CreateChild(ctx context.Context, parentID, name string) (*Group, error) {
	const op = "Groups.CreateChild"
	if err := checkGroupName(name); err != nil {
		return nil, opErr(op, err)
	}
	var g Group
	if err := s.c.do(ctx, request{method: "POST", path: "/device-groups/" + escape(parentID) + "/child", body: NewGroup{Name: name, GroupType: "static"}, repeat: httpx.RepeatNever}, &g, nil); err != nil {
		return nil, opErr(op, err)
	}
	if g.ParentGroupID == "" {
		g.ParentGroupID = parentID
	}
	return &g, nil
}

func checkGroupName(name string) error {
	if strings.TrimSpace(name) == "" {
		return inputErr("group name", "empty")
	}
	if strings.Contains(name, "/") {
		return inputErr("group name", "%q contains '/'", name)
	}
	return nil
}

// Delete removes an empty group (DELETE /api/v1/device-groups/{groupId}).
func (s *GroupsService) Delete(ctx context.Context, groupID string) error {
	return s.c.checked(ctx, "Groups.Delete", request{method: "DELETE", path: "/device-groups/" + escape(groupID)}, new(SuccessResult))
}

// EnsurePath returns the group at path, e.g. "My Network/NetBox/Site A",
// creating the missing groups along it (POST /api/v1/device-groups/{id}/child)
// and nothing else. A path not starting with "My Network" is taken as
// relative to it. It lists the groups once per call
// (GET /api/v1/device-groups/-) and is safe for concurrent use: calls are
// serialised, so a group is never created twice by this client. Names
// compare exactly first, then case-insensitively. To ensure many paths,
// EnsurePaths costs one listing in all instead of one per path.
func (s *GroupsService) EnsurePath(ctx context.Context, path string) (*Group, error) {
	groups, err := s.ensure(ctx, "Groups.EnsurePath", []string{path})
	if err != nil {
		return nil, err
	}
	return groups[0], nil
}

// EnsurePaths returns the id of the group at each of paths, keyed by the
// path as given, from one group listing (GET /api/v1/device-groups/-, all
// its pages) and one POST /api/v1/device-groups/{parentGroupId}/child per
// group that does not exist yet, parents before children; a group two
// paths share is created once. Paths follow EnsurePath's rules, and calls
// are serialised with it. An invalid path fails the call before anything
// is sent; an empty list sends nothing.
func (s *GroupsService) EnsurePaths(ctx context.Context, paths []string) (map[string]string, error) {
	groups, err := s.ensure(ctx, "Groups.EnsurePaths", paths)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]string, len(paths))
	for i, p := range paths {
		ids[p] = groups[i].ID
	}
	return ids, nil
}

// ensure resolves each path to its group, creating what is missing, from
// one listing of the groups.
func (s *GroupsService) ensure(ctx context.Context, op string, paths []string) ([]*Group, error) {
	split := make([][]string, len(paths))
	for i, p := range paths {
		parts, err := splitGroupPath(p)
		if err != nil {
			return nil, opErr(op, err)
		}
		split[i] = parts
	}
	if len(paths) == 0 {
		return nil, nil
	}
	s.ensureMu.Lock()
	defer s.ensureMu.Unlock()
	groups, err := s.List(ctx)
	if err != nil {
		return nil, opErr(op, err)
	}
	children := make(map[string][]*Group)
	var root *Group
	for i := range groups {
		g := &groups[i]
		if g.ID == RootGroupID {
			root = g
			continue
		}
		children[g.ParentGroupID] = append(children[g.ParentGroupID], g)
	}
	if root == nil {
		root = &Group{ID: RootGroupID, Name: RootGroupName, Path: RootGroupName}
	}
	out := make([]*Group, len(paths))
	for i, parts := range split {
		cur := root
		for _, name := range parts {
			next := findChild(children[cur.ID], name)
			if next == nil {
				created, err := s.CreateChild(ctx, cur.ID, name)
				if err != nil {
					return nil, opErr(op, err)
				}
				created.Path = cur.Path + "/" + created.Name
				children[cur.ID] = append(children[cur.ID], created)
				next = created
			}
			cur = next
		}
		out[i] = cur
	}
	return out, nil
}

func findChild(kids []*Group, name string) *Group {
	for _, g := range kids {
		if g.Name == name {
			return g
		}
	}
	for _, g := range kids {
		if strings.EqualFold(g.Name, name) {
			return g
		}
	}
	return nil
}

// SplitGroupPath splits "My Network/A/B" into the names below the root
// (["A", "B"]), trimming spaces around each name. A leading "My Network" is
// optional; empty names are an error.
func SplitGroupPath(path string) ([]string, error) {
	parts, err := splitGroupPath(path)
	return parts, opErr("SplitGroupPath", err)
}

// splitGroupPath is SplitGroupPath with an error that names no operation.
func splitGroupPath(path string) ([]string, error) {
	raw := strings.Split(strings.Trim(strings.TrimSpace(path), "/"), "/")
	parts := make([]string, 0, len(raw))
	for i, p := range raw {
		p = strings.TrimSpace(p)
		if p == "" {
			if len(raw) == 1 {
				break
			}
			return nil, inputErr("group path", "%q has an empty name at position %d", path, i+1)
		}
		parts = append(parts, p)
	}
	if len(parts) > 0 && strings.EqualFold(parts[0], RootGroupName) {
		parts = parts[1:]
	}
	return parts, nil
}

// GroupTemplate returns the template reference ({name, parents}) that
// places a device in the group at path, e.g. for DeviceTemplate.Groups.
func GroupTemplate(path string) (TemplateGroup, error) {
	parts, err := splitGroupPath(path)
	if err != nil {
		return TemplateGroup{}, opErr("GroupTemplate", err)
	}
	if len(parts) == 0 {
		return TemplateGroup{Name: RootGroupName}, nil
	}
	parents := append([]string{RootGroupName}, parts[:len(parts)-1]...)
	return TemplateGroup{Name: parts[len(parts)-1], Parents: parents}, nil
}

// AddDevices adds devices to a static group
// (POST /api/v1/device-groups/{groupId}/devices/-).
func (s *GroupsService) AddDevices(ctx context.Context, groupID string, deviceIDs []string) (*CountedResult, error) {
	return s.c.counted(ctx, "Groups.AddDevices", request{method: "POST", path: "/device-groups/" + escape(groupID) + "/devices/-", body: BulkDevices{Devices: deviceIDs}, repeat: httpx.RepeatSafe}, len(deviceIDs))
}

// RemoveDevices removes devices from a static group
// (DELETE /api/v1/device-groups/{groupId}/devices/- with a body).
func (s *GroupsService) RemoveDevices(ctx context.Context, groupID string, deviceIDs []string) (*CountedResult, error) {
	return s.c.counted(ctx, "Groups.RemoveDevices", request{method: "DELETE", path: "/device-groups/" + escape(groupID) + "/devices/-", body: BulkDevices{Devices: deviceIDs}}, len(deviceIDs))
}

// RemoveDevice removes one device from a static group
// (DELETE /api/v1/device-groups/{groupId}/devices/{deviceId}).
func (s *GroupsService) RemoveDevice(ctx context.Context, groupID, deviceID string) error {
	return s.c.checked(ctx, "Groups.RemoveDevice", request{method: "DELETE", path: "/device-groups/" + escape(groupID) + "/devices/" + escape(deviceID)}, new(CountedResult))
}

// Status returns a group's state summary
// (GET /api/v1/device-groups/{groupId}/status).
func (s *GroupsService) Status(ctx context.Context, groupID string) (*GroupStatus, error) {
	var st GroupStatus
	if err := s.c.do(ctx, request{method: "GET", path: "/device-groups/" + escape(groupID) + "/status"}, &st, nil); err != nil {
		return nil, opErr("Groups.Status", err)
	}
	return &st, nil
}

// String renders a group as "Path (id)".
func (g Group) String() string {
	p := g.Path
	if p == "" {
		p = g.Name
	}
	return fmt.Sprintf("%s (%s)", p, g.ID)
}
