package simulator

import (
	"errors"
	"fmt"
)

// ErrNotFound is what the simulator's methods wrap when a client, user,
// family, token or fault they are given does not exist. The control API
// answers it with 404.
var ErrNotFound = errors.New("not found")

// ErrConflict is what they wrap when what they are asked to add is there
// already: a client or user id that is taken, the id of an active fault.
// The control API answers it with 409.
var ErrConflict = errors.New("conflict")

// Protocol failures, such as a grant asking for a scope its client may not
// have, are fosite's RFC 6749 errors (*fosite.RFC6749Error), as the token
// endpoint would have answered them.

// noSuch is the error for a client or user that ChangeConsent,
// RotateClientSecret or SetPublishingStatus cannot find; the control API
// has always told those with the ": not found" ending.
func noSuch(what, id string) error { return fmt.Errorf("no %s %q: %w", what, id, ErrNotFound) }

// missing is the not-found error of the other methods, whose message the
// control API has always given without that ending.
func missing(format string, args ...any) error {
	return sentinel{fmt.Errorf(format, args...), ErrNotFound}
}

// conflict gives err the meaning of ErrConflict, its message unchanged.
func conflict(err error) error { return sentinel{err, ErrConflict} }

// sentinel is an error that also means kind (ErrNotFound, ErrConflict) to
// errors.Is, without kind's text in its message.
type sentinel struct {
	error
	kind error
}

func (e sentinel) Is(target error) bool { return target == e.kind }

func (e sentinel) Unwrap() error { return e.error }
