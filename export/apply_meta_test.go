package export

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

func TestMetadataDelta(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	was := store.Written{DisplayName: "sw-1", Note: "from NetBox",
		Attributes: map[string]string{"NetBox.Site": "ams1", "NetBox.Serial": "A", "NetBox.Tenant": "x"}}
	for _, tt := range []struct {
		name       string
		want       store.Written
		props      bool
		wantRemove []string
		wantSet    []wug.NameValue
		wantProps  *wug.PropertiesUpdate
	}{{
		name: "unchanged", want: was, props: true,
	}, {
		name:  "a value changed, a name went away, a name came",
		want:  store.Written{DisplayName: "sw-1", Note: "from NetBox", Attributes: map[string]string{"NetBox.Site": "fra1", "NetBox.Serial": "A", "NetBox.Rack": "r9"}},
		props: true, wantRemove: []string{"NetBox.Tenant"},
		wantSet: []wug.NameValue{{Name: "NetBox.Rack", Value: "r9"}, {Name: "NetBox.Site", Value: "fra1"}},
	}, {
		name:  "renamed",
		want:  store.Written{DisplayName: "sw-1b", Note: "from NetBox", Attributes: was.Attributes},
		props: true, wantProps: &wug.PropertiesUpdate{DisplayName: str("sw-1b")},
	}, {
		name: "renamed, but the properties are not ours",
		want: store.Written{DisplayName: "sw-1b", Attributes: was.Attributes},
	}, {
		name:  "an empty note is not written over one",
		want:  store.Written{DisplayName: "sw-1", Attributes: was.Attributes},
		props: true,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			remove, set, props := metadataDelta(was, tt.want, tt.props)
			if diff := cmp.Diff(tt.wantRemove, remove); diff != "" {
				t.Errorf("remove (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSet, set); diff != "" {
				t.Errorf("set (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantProps, props); diff != "" {
				t.Errorf("properties (-want +got):\n%s", diff)
			}
		})
	}
}
