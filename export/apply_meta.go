package export

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

// ownsProperties reports whether the run may write the display name and
// note of the decision's device: always on devices wugsync created, on
// adopted ones only when the mapping says so.
func (ex *executor) ownsProperties(d *Decision) bool {
	return !adopted(d) || ex.cfg.adoptedProps
}

// adopted reports whether the decision's device was in WUG before
// wugsync linked it, rather than made by a template apply or a scan that
// wugsync started in the candidate's group.
func adopted(d *Decision) bool {
	return d.Action == ActionAdopt || (d.record != nil && d.record.Adopted)
}

// written returns what a successful write of t leaves on the device: the
// owned attributes, the display name and note when props, and group path.
func written(t *wug.DeviceTemplate, owned string, props bool, group string) store.Written {
	w := store.Written{GroupPath: group, Attributes: make(map[string]string, len(t.Attributes))}
	for _, nv := range t.Attributes {
		if hasOwnedPrefix(nv.Name, owned) {
			w.Attributes[nv.Name] = nv.Value
		}
	}
	if props {
		w.DisplayName, w.Note = t.DisplayName, t.Note
	}
	return w
}

// hasOwnedPrefix reports whether an attribute name starts with the owned
// prefix, case-insensitively as WUG compares names.
func hasOwnedPrefix(name, owned string) bool {
	return owned != "" && len(name) >= len(owned) && strings.EqualFold(name[:len(owned)], owned)
}

// metadataDelta is what must be sent to turn was into want, read from the
// record alone: the owned attribute names to delete (gone from want), the
// attributes to set (new or changed), and the properties that differ
// (nil when none do, or when they are not ours to write).
func metadataDelta(was, want store.Written, props bool) (remove []string, set []wug.NameValue, p *wug.PropertiesUpdate) {
	for _, name := range sortedKeys(was.Attributes) {
		if _, ok := want.Attributes[name]; !ok {
			remove = append(remove, name)
		}
	}
	for _, name := range sortedKeys(want.Attributes) {
		if v, ok := was.Attributes[name]; !ok || v != want.Attributes[name] {
			set = append(set, wug.NameValue{Name: name, Value: want.Attributes[name]})
		}
	}
	if !props {
		return remove, set, nil
	}
	var u wug.PropertiesUpdate
	if want.DisplayName != was.DisplayName {
		u.DisplayName = &want.DisplayName
	}
	if want.Note != was.Note && want.Note != "" {
		u.Note = &want.Note
	}
	if u.DisplayName != nil || u.Note != nil {
		p = &u
	}
	return remove, set, p
}

// updateOne brings one device's metadata in line with the candidate and
// returns what it then holds. With a record of what wugsync last wrote it
// sends only the difference and reads nothing: one attribute batch when
// attributes changed, one properties write when the display name or note
// changed, nothing when neither did. Without one (an adopted device, or a
// record from before wugsync kept it) it reads the attributes once.
func (ex *executor) updateOne(ctx context.Context, d *Decision) (store.Written, error) {
	props := ex.ownsProperties(d)
	group := ""
	if d.record != nil {
		group = d.record.Written.GroupPath
	}
	want := written(&d.candidate.Template, ex.cfg.owned, props, group)
	if d.record == nil || d.record.Written.IsZero() || d.Action == ActionAdopt {
		cur := d.device
		if cur.ID != d.DeviceID {
			cur = wugDevice{ID: d.DeviceID, Address: d.Key.Address}
		}
		if _, err := ex.wug.UpdateMetadata(ctx, cur, d.candidate.Template, ex.cfg.owned, props); err != nil {
			return store.Written{}, err
		}
		if d.record != nil && d.record.ScanDiscovered && !adopted(d) {
			// A scan wugsync started in the candidate's group found the
			// device, and it was linked without its metadata: record
			// the group, so the device follows later moves. A record
			// from before wugsync kept what it wrote may be an adopted
			// device's, so its group stays unknown.
			want.GroupPath = d.candidate.GroupPath
		}
		return want, nil
	}
	was := d.record.Written
	if len(was.Attributes) == 0 && was.DisplayName == "" && was.Note == "" && d.device.ID == d.DeviceID {
		// Nothing of wugsync's is on the device yet (a scan found it):
		// its name and note are what WUG lists.
		was.DisplayName, was.Note = d.device.Name, d.device.Note
	}
	if !props {
		want.DisplayName, want.Note = was.DisplayName, was.Note
	}
	remove, set, p := metadataDelta(was, want, props)
	if len(remove)+len(set) > 0 || p != nil {
		if err := ex.wug.WriteMetadata(ctx, d.DeviceID, remove, set, p); err != nil {
			return store.Written{}, fmt.Errorf("writing metadata: %w", err)
		}
	}
	moved, err := ex.move(ctx, d.DeviceID, was.GroupPath, d.candidate.GroupPath)
	if err != nil {
		return store.Written{}, err
	}
	want.GroupPath = moved
	return want, nil
}

// move has a device that wugsync put in group from join group to and leave
// from, and returns the group it is then in. A device wugsync did not
// place (from empty) is never moved, and no other group is touched. When
// WUG no longer has group from, the device only joins to.
func (ex *executor) move(ctx context.Context, deviceID, from, to string) (string, error) {
	if from == "" || to == "" {
		return from, nil
	}
	if _, fk, err := groupKey(from); err == nil {
		if _, tk, err := groupKey(to); err == nil && fk == tk {
			return from, nil
		}
	}
	fromID, ok, err := ex.groups.lookup(ctx, ex.wug, from)
	if err != nil {
		return "", err
	}
	toID, err := ex.groups.ensure(ctx, ex.wug, to)
	if err != nil {
		return "", err
	}
	if !ok {
		fromID = ""
	}
	if err := ex.wug.MoveDevice(ctx, deviceID, fromID, toID); err != nil {
		return "", fmt.Errorf("moving to group %q: %w", to, err)
	}
	if ok && ex.cfg.emptyGroups && ex.groups.leafAt(from) {
		removed, err := ex.wug.RemoveGroupIfEmpty(ctx, fromID)
		switch {
		case err != nil:
			// The move is done; an empty group left behind is no failure.
			ex.cfg.log.Warn("export: removing an empty group failed", "group", from, "err", err)
		case removed:
			ex.groups.forget(from)
		}
	}
	return to, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
