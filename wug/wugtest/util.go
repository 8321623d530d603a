package wugtest

import (
	"encoding/json"
	"reflect"
	"sort"
)

var boolType = reflect.TypeFor[bool]()

func sortInts(s []int) { sort.Ints(s) }

// idList is a list of resource ids. WUG's binder (Json.NET) turns JSON
// numbers into strings, so [12, "13"] is accepted as ["12", "13"].
type idList []string

func (l *idList) UnmarshalJSON(p []byte) error {
	var raw []looseString
	if err := json.Unmarshal(p, &raw); err != nil {
		return err
	}
	*l = make(idList, len(raw))
	for i, r := range raw {
		(*l)[i] = string(r)
	}
	return nil
}
