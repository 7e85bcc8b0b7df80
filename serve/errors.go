package serve

import (
	"errors"
	"net/http"
)

// Sentinel errors. Handlers wrap them with %w and a message that names
// the offending field; the HTTP edge (statusOf) maps them to status
// codes. Only ErrInternal and a failed reload map to a 5xx other than
// the two that mean "try again" (ErrNotReady, ErrOverloaded).
var (
	// ErrBadRequest means the request cannot be read: invalid JSON, a
	// missing, unknown or mistyped field, a value out of range (400).
	ErrBadRequest = errors.New("bad request")
	// ErrNotFound means no served model has that name or version (404).
	ErrNotFound = errors.New("not found")
	// ErrTooLarge means the body or the batch is over its limit (413).
	ErrTooLarge = errors.New("too large")
	// ErrMediaType means the body is not application/json (415).
	ErrMediaType = errors.New("unsupported media type")
	// ErrTimeout means the request's body did not arrive within the read
	// timeout (408).
	ErrTimeout = errors.New("the request was not read in time")
	// ErrNotReady means no model is loaded yet (503).
	ErrNotReady = errors.New("no model is loaded")
	// ErrOverloaded means too many requests are in flight (503, with
	// Retry-After).
	ErrOverloaded = errors.New("too many requests in flight")
	// ErrUnauthorized means the admin token is missing or wrong (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrAdminDisabled means the admin API is off: the server listens
	// beyond loopback and no admin token is set (403).
	ErrAdminDisabled = errors.New("admin API disabled")
	// ErrBundle means a bundle was refused: it does not load, or does not
	// score its own signature example as recorded (500 from
	// /admin/reload; the previous model keeps serving).
	ErrBundle = errors.New("bundle refused")
	// ErrInternal is a bug on the server's side (500).
	ErrInternal = errors.New("internal error")
)

// statusOf maps an error to its HTTP status code.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrTimeout):
		return http.StatusRequestTimeout
	case errors.Is(err, ErrNotReady), errors.Is(err, ErrOverloaded):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrAdminDisabled):
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}
