package export

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/wugsync/wugsync/wug"
)

// groupIndex resolves WUG group paths to ids for one run from one listing
// of WUG's groups, taken when a path is first needed; groups the run
// creates are added to it. A failed listing is not remembered, so a later
// batch tries again. It is safe for concurrent use; creating is
// serialised, so no group is created twice.
type groupIndex struct {
	mu     sync.Mutex
	loaded bool
	ids    map[string]string // groupKey of a path to the group's id
}

// groupKey is the form of a path the index compares: the names below "My
// Network", trimmed, lower-cased (WUG matches group names regardless of
// case), joined by "/".
func groupKey(path string) ([]string, string, error) {
	parts, err := wug.SplitGroupPath(path)
	if err != nil {
		return nil, "", err
	}
	return parts, strings.ToLower(strings.Join(parts, "/")), nil
}

// load lists WUG's groups once per run; g.mu is held.
func (g *groupIndex) load(ctx context.Context, w wugAPI) error {
	if g.loaded {
		return nil
	}
	paths, err := w.GroupPaths(ctx)
	if err != nil {
		return fromWUG(fmt.Errorf("listing WUG groups: %w", err))
	}
	g.ids = make(map[string]string, len(paths))
	for path, id := range paths {
		if _, key, err := groupKey(path); err == nil {
			if _, dup := g.ids[key]; !dup {
				g.ids[key] = id
			}
		}
	}
	g.loaded = true
	return nil
}

// lookup returns the id of the group at path, creating nothing; ok is
// false when WUG has no such group.
func (g *groupIndex) lookup(ctx context.Context, w wugAPI, path string) (id string, ok bool, err error) {
	_, key, err := groupKey(path)
	if err != nil {
		return "", false, fmt.Errorf("group path %q: %w", path, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.load(ctx, w); err != nil {
		return "", false, err
	}
	id, ok = g.ids[key]
	return id, ok, nil
}

// ensure returns the id of the group at path, creating the groups missing
// along it (one request each). After a failed creation it lists the groups
// again, so a group WUG created with the answer lost is found, not created
// twice.
func (g *groupIndex) ensure(ctx context.Context, w wugAPI, path string) (string, error) {
	parts, _, err := groupKey(path)
	if err != nil {
		return "", fmt.Errorf("group path %q: %w", path, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.load(ctx, w); err != nil {
		return "", err
	}
	id := wug.RootGroupID
	for i := range parts {
		key := strings.ToLower(strings.Join(parts[:i+1], "/"))
		if known, ok := g.ids[key]; ok {
			id = known
			continue
		}
		created, err := w.CreateGroup(ctx, id, parts[i])
		if err != nil {
			// WUG may have created the group with its answer lost: list
			// the groups again before anything sends the creation again.
			g.loaded = false
			if g.load(ctx, w) == nil {
				if known, ok := g.ids[key]; ok {
					id = known
					continue
				}
			}
			return "", fmt.Errorf("group path %q: creating %q: %w", path, parts[i], err)
		}
		g.ids[key], id = created, created
	}
	return id, nil
}

// leafAt reports whether the group at path, below the root, has no child
// group in the index.
func (g *groupIndex) leafAt(path string) bool {
	_, key, err := groupKey(path)
	if err != nil || key == "" {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range g.ids {
		if strings.HasPrefix(k, key+"/") {
			return false
		}
	}
	return true
}

// forget drops the group at path from the index (it was deleted).
func (g *groupIndex) forget(path string) {
	if _, key, err := groupKey(path); err == nil {
		g.mu.Lock()
		delete(g.ids, key)
		g.mu.Unlock()
	}
}
