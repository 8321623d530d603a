package export

import "errors"

// ErrNetBox and ErrWUG tell which server a run's error came from:
// errors.Is(err, ErrWUG) holds for a run that failed listing WUG's devices,
// errors.Is(err, ErrNetBox) for one that failed reading NetBox. The
// client's own error (*wug.APIError, a certificate mismatch, …) stays
// reachable with errors.As and errors.Is.
var (
	ErrNetBox = errors.New("NetBox failed")
	ErrWUG    = errors.New("WUG failed")
)

// serverError marks err as coming from one server without changing its
// text.
type serverError struct {
	server, err error
}

func (e *serverError) Error() string   { return e.err.Error() }
func (e *serverError) Unwrap() []error { return []error{e.server, e.err} }

// fromWUG marks err as WUG's.
func fromWUG(err error) error { return &serverError{ErrWUG, err} }

// fromNetBox marks err as NetBox's.
func fromNetBox(err error) error { return &serverError{ErrNetBox, err} }
