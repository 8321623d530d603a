package wug

import "iter"

// Collect lets the external tests drain an iterator with the package's own
// collect.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) { return collect(seq) }
