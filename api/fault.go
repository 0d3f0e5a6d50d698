package api

import (
	"errors"
	"fmt"
	"net/http"
)

// Fault codes: the SWF faults of the model and the framework errors that
// every AWS JSON service can answer with.
const (
	DefaultUndefinedFault                = "DefaultUndefinedFault"
	DomainAlreadyExistsFault             = "DomainAlreadyExistsFault"
	DomainDeprecatedFault                = "DomainDeprecatedFault"
	LimitExceededFault                   = "LimitExceededFault"
	OperationNotPermittedFault           = "OperationNotPermittedFault"
	TooManyTagsFault                     = "TooManyTagsFault"
	TypeAlreadyExistsFault               = "TypeAlreadyExistsFault"
	TypeDeprecatedFault                  = "TypeDeprecatedFault"
	TypeNotDeprecatedFault               = "TypeNotDeprecatedFault"
	UnknownResourceFault                 = "UnknownResourceFault"
	WorkflowExecutionAlreadyStartedFault = "WorkflowExecutionAlreadyStartedFault"

	ValidationException       = "ValidationException"
	SerializationException    = "SerializationException"
	UnknownOperationException = "UnknownOperationException"
	InternalFailure           = "InternalFailure"
	ServiceUnavailable        = "ServiceUnavailable"
	ThrottlingException       = "ThrottlingException"
	RequestEntityTooLarge     = "RequestEntityTooLargeException"
	// RequestTimeout answers a request whose body did not arrive in time.
	// Every SDK's standard retry takes the code as transient: nothing was
	// done, and the call may be sent again.
	RequestTimeout = "RequestTimeoutException"
)

// Fault is an error answered to the client: a code (the part after '#' in
// the wire's __type) and a message.
type Fault struct {
	Code    string
	Message string
}

// NewFault returns a Fault with a formatted message.
func NewFault(code, format string, args ...any) *Fault {
	return &Fault{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (f *Fault) Error() string { return f.Code + ": " + f.Message }

// Is makes errors.Is(err, &Fault{Code: X}) match any fault with code X.
func (f *Fault) Is(target error) bool {
	t, ok := target.(*Fault)
	return ok && t.Code == f.Code && (t.Message == "" || t.Message == f.Message)
}

// WireType is the __type member the real service sends for the code.
func (f *Fault) WireType() string {
	switch f.Code {
	case ValidationException:
		return "com.amazon.coral.validate#ValidationException"
	case SerializationException, UnknownOperationException, InternalFailure, ServiceUnavailable, RequestEntityTooLarge, RequestTimeout:
		return "com.amazon.coral.service#" + f.Code
	case ThrottlingException:
		return "com.amazon.coral.availability#ThrottlingException"
	}
	return "com.amazonaws.swf.base.model#" + f.Code
}

// HTTPStatus is the status code the fault is answered with.
func (f *Fault) HTTPStatus() int {
	switch f.Code {
	case InternalFailure:
		return http.StatusInternalServerError
	case ServiceUnavailable:
		return http.StatusServiceUnavailable
	case RequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	case RequestTimeout:
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

// AsFault returns the Fault in err's chain, if any.
func AsFault(err error) (*Fault, bool) {
	var f *Fault
	if errors.As(err, &f) {
		return f, true
	}
	return nil, false
}

// Convenience constructors for the faults used most.

// ErrUnknownResource returns an UnknownResourceFault.
func ErrUnknownResource(format string, args ...any) *Fault {
	return NewFault(UnknownResourceFault, format, args...)
}

// ErrValidation returns a ValidationException.
func ErrValidation(format string, args ...any) *Fault {
	return NewFault(ValidationException, format, args...)
}
