package wugtest

// Request binding helpers: WUG binds JSON with Json.NET, which is lenient
// about types in ways these reproduce.

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

var boolType = reflect.TypeFor[bool]()

// looseBool accepts a JSON boolean or the strings "true"/"false", as WUG's
// binder does.
type looseBool bool

func (b *looseBool) UnmarshalJSON(p []byte) error {
	var v any
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		*b = looseBool(x)
		return nil
	case string:
		r, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return &json.UnmarshalTypeError{Value: "string " + strconv.Quote(x), Type: boolType}
		}
		*b = looseBool(r)
		return nil
	case nil:
		return nil
	}
	return &json.UnmarshalTypeError{Value: string(p), Type: boolType}
}

// looseString accepts a JSON string, number or boolean as text, for the
// template fields WUG types loosely ("pollInterval", "isCritical", …).
type looseString string

func (s *looseString) UnmarshalJSON(p []byte) error {
	var v any
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		*s = looseString(x)
	case nil:
	case float64, bool:
		*s = looseString(strings.TrimSpace(string(p)))
	default:
		return &json.UnmarshalTypeError{Value: "object or array", Type: reflect.TypeFor[string]()}
	}
	return nil
}

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
