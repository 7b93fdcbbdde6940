package awsproto

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error is an AWS error shape. Operations return it (possibly wrapped) to
// choose the error type the client sees; any other error becomes a
// ServerException.
type Error struct {
	Type    string // e.g. "ClusterNotFoundException"
	Message string
	Status  int // HTTP status; 400 when zero
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// HTTPStatus is the status code to answer with.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Errorf builds an *Error of the given type with a formatted message.
func Errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// Common error types shared by every service ecsd speaks.
const (
	SerializationException     = "SerializationException"
	UnknownOperationException  = "UnknownOperationException"
	ValidationException        = "ValidationException"
	ServerException            = "ServerException"
	InternalFailure            = "InternalFailure"
	UnsupportedOperation       = "UnsupportedFeatureException"
	RequestEntityTooLarge      = "RequestEntityTooLargeException"
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
)

// AsError returns the *Error inside err, or a ServerException describing it.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Type: ServerException, Message: err.Error(), Status: http.StatusInternalServerError}
}

// WriteJSONError writes err as an AWS JSON 1.1 error response.
func WriteJSONError(w http.ResponseWriter, err error) {
	e := AsError(err)
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Type, e.Message})
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.HTTPStatus())
	w.Write(body)
}
