package export

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/wugsync/wugsync/netbox"
)

// filters are the run's narrowing of the connection's selection.
type filters struct {
	sites, roles, tags netbox.Refs
	excludeRecent      bool
}

func (o *RunOptions) filters() filters {
	return filters{o.Sites, o.Roles, o.Tags, o.ExcludeRecent}
}

func (f filters) empty() bool {
	return f.sites.IsZero() && f.roles.IsZero() && f.tags.IsZero()
}

// refResolver looks NetBox slugs up as ids; *netbox.Client is one.
type refResolver interface {
	ResolveRefs(ctx context.Context, kind netbox.RefKind, r netbox.Refs) ([]int64, error)
}

// resolve turns a sites or roles filter that mixes ids and slugs into ids
// alone, looking the slugs up through src (one NetBox request per 100
// slugs): a selector ANDs a type's ids with its slugs, while a filter list
// names any of them. Lists of one form are left as they are.
func (f *filters) resolve(ctx context.Context, src netBoxSource) error {
	for _, x := range []struct {
		kind netbox.RefKind
		refs *netbox.Refs
	}{{netbox.RefSite, &f.sites}, {netbox.RefRole, &f.roles}} {
		if len(x.refs.IDs) == 0 || len(x.refs.Slugs) == 0 {
			continue
		}
		r, ok := src.(refResolver)
		if !ok {
			return fmt.Errorf("the %s filter mixes ids and slugs, and the NetBox source cannot look slugs up", x.kind)
		}
		ids, err := r.ResolveRefs(ctx, x.kind, *x.refs)
		if err != nil {
			return fromNetBox(fmt.Errorf("%s filter: %w", x.kind, err))
		}
		*x.refs = netbox.Refs{IDs: ids}
	}
	return nil
}

// narrow returns sel restricted by f, which resolve has run on, and
// whether anything can still be selected. A filter never widens a
// connection: site and role ids (slugs) are intersected with the
// selector's own ids (slugs) where it has some and set otherwise, where
// NetBox ANDs them with the selector's slugs (ids); tags are added to the
// selector's own, all required.
func (f filters) narrow(sel netbox.Selector) (netbox.Selector, bool) {
	any := true
	narrowRefs := func(ids *[]int64, slugs *[]string, want netbox.Refs) {
		if len(want.IDs) > 0 {
			*ids = intersect(*ids, want.IDs)
			any = any && len(*ids) > 0
		}
		if len(want.Slugs) > 0 {
			*slugs = intersect(*slugs, want.Slugs)
			any = any && len(*slugs) > 0
		}
	}
	narrowRefs(&sel.SiteIDs, &sel.Sites, f.sites)
	narrowRefs(&sel.RoleIDs, &sel.Roles, f.roles)
	sel.Tags = append(slices.Clone(sel.Tags), f.tags.Slugs...)
	sel.TagIDs = append(slices.Clone(sel.TagIDs), f.tags.IDs...)
	return sel, any
}

// intersect returns the values of want that have holds, or want itself
// when have is empty (no restriction).
func intersect[T comparable](have, want []T) []T {
	if len(have) == 0 {
		return slices.Clone(want)
	}
	var out []T
	for _, w := range want {
		if slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// asMap is how a run records its filters: ids, then slugs, as given.
func (f filters) asMap() map[string][]string {
	m := map[string][]string{}
	for name, r := range map[string]netbox.Refs{"sites": f.sites, "device_roles": f.roles, "tags": f.tags} {
		if r.IsZero() {
			continue
		}
		vals := make([]string, 0, len(r.IDs)+len(r.Slugs))
		for _, id := range r.IDs {
			vals = append(vals, strconv.FormatInt(id, 10))
		}
		m[name] = append(vals, r.Slugs...)
	}
	if f.excludeRecent {
		m["exclude_recent_exports"] = []string{"true"}
	}
	return m
}
