package wugtest

import (
	"reflect"
	"sort"
)

var boolType = reflect.TypeFor[bool]()

func sortInts(s []int) { sort.Ints(s) }
