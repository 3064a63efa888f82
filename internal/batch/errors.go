package batch

import (
	"encoding/json"
	"errors"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// Batch error codes (from the service's documented list) for use with
// HasCode. They arrive as the top-level "code" of the error body and as
// azcore.ResponseError.ErrorCode.
const (
	CodePoolExists                    = "PoolExists"
	CodePoolNotFound                  = "PoolNotFound"
	CodePoolBeingDeleted              = "PoolBeingDeleted"
	CodePoolBeingResized              = "PoolBeingResized"
	CodeJobExists                     = "JobExists"
	CodeJobNotFound                   = "JobNotFound"
	CodeJobBeingDeleted               = "JobBeingDeleted"
	CodeJobBeingTerminated            = "JobBeingTerminated"
	CodeJobCompleted                  = "JobCompleted"
	CodeJobNotActive                  = "JobNotActive"
	CodeTaskExists                    = "TaskExists"
	CodeTaskNotFound                  = "TaskNotFound"
	CodeTaskCompleted                 = "TaskCompleted"
	CodeNodeNotFound                  = "NodeNotFound"
	CodeResourceNotFound              = "ResourceNotFound"
	CodeRequestBodyTooLarge           = "RequestBodyTooLarge"
	CodeAuthenticationFailed          = "AuthenticationFailed"
	CodeInvalidAuthenticationInfo     = "InvalidAuthenticationInfo"
	CodeInvalidPropertyValue          = "InvalidPropertyValue"
	CodeMissingRequiredProperty       = "MissingRequiredProperty"
	CodeInvalidRequestBody            = "InvalidRequestBody"
	CodeInvalidQueryParameterValue    = "InvalidQueryParameterValue"
	CodeInvalidAutoScalingSettings    = "InvalidAutoScalingSettings"
	CodeAutoScalingFormulaSyntaxError = "AutoScalingFormulaSyntaxError"
	CodeOperationInvalidForState      = "OperationInvalidForCurrentState"
	CodeTooManyEnableAutoScale        = "TooManyEnableAutoScaleRequests"
	CodeServerBusy                    = "ServerBusy"
	CodeInternalError                 = "InternalError"
)

// Error is the Batch error body:
// {"code","message":{"lang","value"},"values":[{"key","value"}]}.
// It appears in failed responses and in per-task add results.
type Error struct {
	Code    string        `json:"code,omitempty"`
	Message *ErrorMessage `json:"message,omitempty"`
	Values  []ErrorDetail `json:"values,omitempty"`
}

// ErrorMessage is the localized text of an Error.
type ErrorMessage struct {
	Lang  string `json:"lang,omitempty"`
	Value string `json:"value,omitempty"`
}

// ErrorDetail is one key/value pair of additional error information.
type ErrorDetail struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
}

// Error implements error with the code and the message text.
func (e *Error) Error() string {
	msg := ""
	if e.Message != nil {
		msg = e.Message.Value
	}
	switch {
	case e.Code == "":
		return msg
	case msg == "":
		return e.Code
	}
	return e.Code + ": " + msg
}

// MessageText returns the message value, or "" when there is none.
func (e *Error) MessageText() string {
	if e == nil || e.Message == nil {
		return ""
	}
	return e.Message.Value
}

// HasCode reports whether err is (or wraps) an *azcore.ResponseError whose
// Batch error code is code.
func HasCode(err error, code string) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == code
}

// StatusCode returns the HTTP status of the response error in err's chain,
// or 0 when there is none.
func StatusCode(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// AsError decodes the Batch error body of the *azcore.ResponseError in
// err's chain. It reports false when there is no response error or its
// body is not a Batch error.
func AsError(err error) (*Error, bool) {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.RawResponse == nil {
		return nil, false
	}
	// azcore buffers the body before returning the error, so it can be read
	// again here.
	body, rerr := runtime.Payload(re.RawResponse)
	if rerr != nil || len(body) == 0 {
		return nil, false
	}
	var be Error
	if json.Unmarshal(body, &be) != nil || be.Code == "" {
		return nil, false
	}
	return &be, true
}
