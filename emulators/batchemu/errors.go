package batchemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Batch error codes used by the emulator (the wire strings of the real service).
const (
	codeAuthenticationFailed           = "AuthenticationFailed"
	codeMissingRequiredQueryParameter  = "MissingRequiredQueryParameter"
	codeUnsupportedRequestVersion      = "UnsupportedRequestVersion"
	codeInvalidQueryParameterValue     = "InvalidQueryParameterValue"
	codeMissingRequiredProperty        = "MissingRequiredProperty"
	codeInvalidPropertyValue           = "InvalidPropertyValue"
	codeUnsupportedProperty            = "UnsupportedProperty"
	codeInvalidRequestBody             = "InvalidRequestBody"
	codeRequestBodyTooLarge            = "RequestBodyTooLarge"
	codeInvalidAutoScalingSettings     = "InvalidAutoScalingSettings"
	codeAutoScalingFormulaSyntaxError  = "AutoScalingFormulaSyntaxError"
	codeTooManyEnableAutoScaleRequests = "TooManyEnableAutoScaleRequests"
	codeConditionNotMet                = "ConditionNotMet"
	codeResourceNotFound               = "ResourceNotFound"
	codePoolNotFound                   = "PoolNotFound"
	codeNodeNotFound                   = "NodeNotFound"
	codeJobNotFound                    = "JobNotFound"
	codeTaskNotFound                   = "TaskNotFound"
	codeFileNotFound                   = "FileNotFound"
	codeUnsupportedHTTPVerb            = "UnsupportedHttpVerb"
	codePoolExists                     = "PoolExists"
	codeJobExists                      = "JobExists"
	codeTaskExists                     = "TaskExists"
	codePoolBeingDeleted               = "PoolBeingDeleted"
	codePoolBeingResized               = "PoolBeingResized"
	codeJobBeingDeleted                = "JobBeingDeleted"
	codeJobBeingTerminated             = "JobBeingTerminated"
	codeJobCompleted                   = "JobCompleted"
	codeJobNotActive                   = "JobNotActive"
	codeTaskCompleted                  = "TaskCompleted"
	codeTaskFilesUnavailable           = "TaskFilesUnavailable"
	codeTaskFilesCleanedup             = "TaskFilesCleanedup"
	codeOperationInvalidForState       = "OperationInvalidForCurrentState"
	codeTooManyRequests                = "TooManyRequests"
	codeInternalError                  = "InternalError"
)

// apiError is a Batch wire error: an HTTP status, a code, a message and
// optional key/value details. Handlers return it; writeError renders it.
type apiError struct {
	Status  int
	Code    string
	Message string
	Values  []errorValue
}

type errorValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, message string, kv ...string) *apiError {
	e := &apiError{Status: status, Code: code, Message: message}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Values = append(e.Values, errorValue{Key: kv[i], Value: kv[i+1]})
	}
	return e
}

func errMissingProperty(name string) *apiError {
	return newError(http.StatusBadRequest, codeMissingRequiredProperty,
		"A required property was not specified in the request body.", "PropertyName", name)
}

func errInvalidProperty(name, value, reason string) *apiError {
	kv := []string{"PropertyName", name, "PropertyValue", value}
	if reason != "" {
		kv = append(kv, "Reason", reason)
	}
	return newError(http.StatusBadRequest, codeInvalidPropertyValue,
		"The value provided for one of the properties in the request body is invalid.", kv...)
}

func errUnsupportedProperty(name string) *apiError {
	return newError(http.StatusBadRequest, codeUnsupportedProperty,
		"One of the properties specified in the request body is not supported by the Batch emulator.",
		"PropertyName", name)
}

func errInvalidQuery(name, value, reason string) *apiError {
	kv := []string{"QueryParameterName", name, "QueryParameterValue", value}
	if reason != "" {
		kv = append(kv, "Reason", reason)
	}
	return newError(http.StatusBadRequest, codeInvalidQueryParameterValue,
		"Value for one of the query parameters specified in the request URI is invalid.", kv...)
}

func errInvalidBody(reason string) *apiError {
	return newError(http.StatusBadRequest, codeInvalidRequestBody,
		"The specified Request Body is not syntactically valid.", "Reason", reason)
}

func errBodyTooLarge(limit int) *apiError {
	return newError(http.StatusRequestEntityTooLarge, codeRequestBodyTooLarge,
		"The request body is too large and exceeds the maximum permissible limit.",
		"MaxLimit", fmt.Sprint(limit))
}

func errPoolNotFound() *apiError {
	return newError(http.StatusNotFound, codePoolNotFound, "The specified pool does not exist.")
}

func errPoolBeingDeleted() *apiError {
	return newError(http.StatusConflict, codePoolBeingDeleted, "The specified pool has been marked for deletion and is being reclaimed.")
}

func errJobNotFound() *apiError {
	return newError(http.StatusNotFound, codeJobNotFound, "The specified job does not exist.")
}

func errTaskNotFound() *apiError {
	return newError(http.StatusNotFound, codeTaskNotFound, "The specified task does not exist.")
}

func errFileNotFound(name string) *apiError {
	return newError(http.StatusNotFound, codeFileNotFound, "The specified file does not exist.", "FilePath", name)
}

func errNodeNotFound() *apiError {
	return newError(http.StatusNotFound, codeNodeNotFound, "The specified node does not exist.")
}

// errJobState is the 409 for an operation that needs an active job.
func errJobState(state jobState) *apiError {
	switch state {
	case jobDeleting:
		return newError(http.StatusConflict, codeJobBeingDeleted, "The specified job has been marked for deletion and is being garbage collected.")
	case jobTerminating:
		return newError(http.StatusConflict, codeJobBeingTerminated, "The specified job is being terminated.")
	case jobDisabled, jobDisabling:
		return newError(http.StatusConflict, "JobDisabled", "The specified job is disabled.")
	case jobCompleted:
		return newError(http.StatusConflict, codeJobCompleted, "The specified job is already in a completed state.")
	default:
		return newError(http.StatusConflict, codeJobNotActive, "The specified job is not active.")
	}
}

// errorBody is the JSON body of every Batch error response.
type errorBody struct {
	Metadata string       `json:"odata.metadata"`
	Code     string       `json:"code"`
	Message  errorMessage `json:"message"`
	Values   []errorValue `json:"values,omitempty"`
}

type errorMessage struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
}

// writeError renders e as the real Batch error body. HEAD responses get the
// status only.
func writeError(w http.ResponseWriter, r *http.Request, requestID string, now time.Time, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json;odata=minimalmetadata")
	h.Set("request-id", requestID)
	if e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests {
		h.Set("Retry-After", "30")
	}
	w.WriteHeader(e.Status)
	if r.Method == http.MethodHead || e.Status == http.StatusNotModified {
		return
	}
	body := errorBody{
		Metadata: baseURL(r) + "/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
		Code:     e.Code,
		Message: errorMessage{
			Lang:  "en-US",
			Value: e.Message + "\nRequestId:" + requestID + "\nTime:" + formatTime(now),
		},
		Values: e.Values,
	}
	_ = json.NewEncoder(w).Encode(body)
}
