package batchemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
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
	codeServerBusy                     = "ServerBusy"
	codeJobDisabled                    = "JobDisabled"
	codeOutOfRangePriority             = "OutOfRangePriority"
	codeNodeBeingRebooted              = "NodeBeingRebooted"
	codeNodeBeingReimaged              = "NodeBeingReimaged"
	codeNodeBeingCreated               = "NodeBeingCreated"
	codeNodeBeingStarted               = "NodeBeingStarted"
	codeTaskIDSameAsJobPreparation     = "TaskIdSameAsJobPreparationTask"
	codeTaskIDSameAsJobRelease         = "TaskIdSameAsJobReleaseTask"
	codeNoPrepOrReleaseTask            = "JobPreparationTaskOrReleaseTaskNotSpecified"
	codeTaskDependenciesNotOnJob       = "TaskDependenciesNotSpecifiedOnJob"
	codeTaskDependencyListTooLong      = "TaskDependencyListTooLong"
	codeTaskNotCompleted               = "TaskNotCompleted"
	codeTaskSucceeded                  = "TaskSucceeded"
)

// Codes of the errors the service reports inside entities (a pool's
// resizeErrors, an autoScaleRun's error) rather than as responses.
const (
	codeAccountCoreQuotaReached           = "AccountCoreQuotaReached"
	codeResizeStopped                     = "ResizeStopped"
	codeAutoScalingFormulaEvaluationError = "AutoScalingFormulaEvaluationError"
)

// apiError is a Batch wire error: an HTTP status, a code, a message and
// optional key/value details. Handlers return it; writeError renders it.
type apiError struct {
	Status  int
	Code    string
	Message string
	Values  []wire.ErrorValue
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, message string, kv ...string) *apiError {
	e := &apiError{Status: status, Code: code, Message: message}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Values = append(e.Values, wire.ErrorValue{Key: kv[i], Value: kv[i+1]})
	}
	return e
}

// ---- request: authentication, version, body, query, path ----

func errAuth(detail string) *apiError {
	return newError(http.StatusForbidden, codeAuthenticationFailed,
		"Server failed to authenticate the request. Make sure the value of Authorization header is correctly formed including the signature.",
		"AuthenticationErrorDetail", detail)
}

func errMissingAPIVersion() *apiError {
	return newError(http.StatusBadRequest, codeMissingRequiredQueryParameter,
		"A query parameter that's mandatory for this request is not specified.", "QueryParameterName", "api-version")
}

func errUnsupportedAPIVersion(v string) *apiError {
	return newError(http.StatusBadRequest, codeUnsupportedRequestVersion,
		"The specified Request Version is not supported.", "QueryParameterName", "api-version", "QueryParameterValue", v)
}

func errServerBusy() *apiError {
	return newError(http.StatusServiceUnavailable, codeServerBusy, "The emulator is shutting down.")
}

func errInternal() *apiError {
	return newError(http.StatusInternalServerError, codeInternalError,
		"The server encountered an internal error. Please retry the request.")
}

// errInternalOp is a 500 for a failed operation of the emulator itself.
func errInternalOp(op string, err error) *apiError {
	return newError(http.StatusInternalServerError, codeInternalError, op+": "+err.Error())
}

func errUnsupportedVerb(method string) *apiError {
	return newError(http.StatusMethodNotAllowed, codeUnsupportedHTTPVerb,
		"The resource doesn't support the specified HTTP verb.", "HttpVerb", method)
}

func errResourceNotFound() *apiError {
	return newError(http.StatusNotFound, codeResourceNotFound, "The specified resource does not exist.")
}

// errConditionNotMet answers a failed conditional header: 304 for a read
// (notModified), 412 otherwise.
func errConditionNotMet(notModified bool) *apiError {
	status := http.StatusPreconditionFailed
	if notModified {
		status = http.StatusNotModified
	}
	return newError(status, codeConditionNotMet, "The condition specified using HTTP conditional header(s) is not met.")
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

// errInvalidPropertyReason is an InvalidPropertyValue that names the
// property and why, without echoing the value.
func errInvalidPropertyReason(name, reason string) *apiError {
	return newError(http.StatusBadRequest, codeInvalidPropertyValue,
		"The value provided for one of the properties in the request body is invalid.",
		"PropertyName", name, "Reason", reason)
}

func errReleaseWithoutPrep() *apiError {
	return newError(http.StatusBadRequest, codeInvalidPropertyValue,
		"A job release task requires a job preparation task.", "PropertyName", "jobReleaseTask")
}

func errOutOfRangePriority(priority int) *apiError {
	return newError(http.StatusBadRequest, codeOutOfRangePriority, "The priority must be between -1000 and 1000.",
		"PropertyName", "priority", "PropertyValue", strconv.Itoa(priority))
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

func errInvalidFilePath(name string) *apiError {
	return newError(http.StatusBadRequest, codeInvalidQueryParameterValue, "The file path is not valid.", "FilePath", name)
}

// ---- pools and nodes ----

func errPoolNotFound() *apiError {
	return newError(http.StatusNotFound, codePoolNotFound, "The specified pool does not exist.")
}

func errPoolBeingDeleted() *apiError {
	return newError(http.StatusConflict, codePoolBeingDeleted, "The specified pool has been marked for deletion and is being reclaimed.")
}

func errPoolExists() *apiError {
	return newError(http.StatusConflict, codePoolExists, "The specified pool already exists.")
}

func errAutoPoolIDTaken() *apiError {
	return newError(http.StatusConflict, codePoolExists, "The auto pool id is already taken.")
}

func errPoolBeingResized() *apiError {
	return newError(http.StatusConflict, codePoolBeingResized, "The specified pool is already being resized.")
}

func errPoolResizingForAutoScale() *apiError {
	return newError(http.StatusConflict, codePoolBeingResized, "Autoscale cannot be enabled while the pool is being resized.")
}

func errResizeWithAutoScale() *apiError {
	return newError(http.StatusConflict, codeOperationInvalidForState,
		"The specified operation is not valid for the current state of the pool: autoscale is enabled.")
}

func errRemoveNodesWithAutoScale() *apiError {
	return newError(http.StatusConflict, codeOperationInvalidForState,
		"Nodes cannot be removed from a pool with autoscale enabled.")
}

func errAutoScaleTargets() *apiError {
	return newError(http.StatusBadRequest, codeInvalidAutoScalingSettings,
		"targetDedicatedNodes and targetLowPriorityNodes must not be specified when enableAutoScale is true.",
		"PropertyName", "targetDedicatedNodes")
}

func errAutoScaleFormulaWithoutAutoScale() *apiError {
	return newError(http.StatusBadRequest, codeInvalidAutoScalingSettings,
		"autoScaleFormula and autoScaleEvaluationInterval must not be specified when enableAutoScale is false.",
		"PropertyName", "autoScaleFormula")
}

func errTooManyEnableAutoScale() *apiError {
	return newError(http.StatusServiceUnavailable, codeTooManyEnableAutoScaleRequests,
		"The number of enable autoscale requests for this pool exceeded the allowed rate.")
}

func errAutoScaleNotEnabled() *apiError {
	return newError(http.StatusConflict, codeOperationInvalidForState,
		"Autoscale formulas can only be evaluated on a pool with autoscale enabled.")
}

// errFormula is the 400 for an autoscale formula that does not parse: code
// and values come from the parser ("" code: a syntax error).
func errFormula(code, message string, values []wire.ErrorValue) *apiError {
	if code == "" {
		code = codeAutoScalingFormulaSyntaxError
	}
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: message, Values: values}
}

func errNodeNotInPool(id string) *apiError {
	return newError(http.StatusNotFound, codeNodeNotFound, "The specified node does not exist.", "NodeId", id)
}

// errNodeBusy is the 409 for an operation on a node that is not ready for
// it; state is the node's state (leavingpool, creating, starting,
// waitingforstarttask) or its pending reboot/reimage (rebooting, reimaging).
func errNodeBusy(state string) *apiError {
	switch state {
	case "rebooting":
		return newError(http.StatusConflict, codeNodeBeingRebooted, "The specified node is being rebooted.")
	case "reimaging":
		return newError(http.StatusConflict, codeNodeBeingReimaged, "The specified node is being reimaged.")
	case "creating":
		return newError(http.StatusConflict, codeNodeBeingCreated, "The specified node is being created.")
	case "starting", "waitingforstarttask":
		return newError(http.StatusConflict, codeNodeBeingStarted, "The specified node is being started.")
	default: // leavingpool
		return newError(http.StatusConflict, codeOperationInvalidForState, "The specified node is leaving the pool.")
	}
}

// resizeQuotaError is the resize error of a pool that reached the
// emulator's node quota.
func resizeQuotaError(quota int) wire.ErrorInfo {
	return wire.ErrorInfo{Code: codeAccountCoreQuotaReached,
		Message: fmt.Sprintf("The pool reached the emulator's quota of %d nodes per pool.", quota)}
}

// resizeStoppedError is the resize error of a stopped resize.
func resizeStoppedError() wire.ErrorInfo {
	return wire.ErrorInfo{Code: codeResizeStopped, Message: "Desired number of dedicated nodes could not be allocated as a resize operation was stopped"}
}

// autoScaleRunError is an autoScaleRun error; code "" means a generic
// evaluation error.
func autoScaleRunError(code, message string, values []wire.NameValue) *wire.ErrorInfo {
	if code == "" {
		code = codeAutoScalingFormulaEvaluationError
	}
	return &wire.ErrorInfo{Code: code, Message: message, Values: values}
}

// ---- jobs and tasks ----

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

func errJobExists() *apiError {
	return newError(http.StatusConflict, codeJobExists, "The specified job already exists.")
}

func errJobPoolChangeNotDisabled() *apiError {
	return newError(http.StatusConflict, codeOperationInvalidForState,
		"The pool of a job can only be changed while the job is disabled.")
}

func errJobNotDisabled() *apiError {
	return newError(http.StatusConflict, codeOperationInvalidForState, "The specified job is not disabled.")
}

func errNoPrepOrReleaseTask() *apiError {
	return newError(http.StatusConflict, codeNoPrepOrReleaseTask,
		"The specified job has neither a job preparation task nor a job release task.")
}

func errTaskIDIsPrep() *apiError {
	return newError(http.StatusConflict, codeTaskIDSameAsJobPreparation, "The task id is the same as that of the job preparation task.")
}

func errTaskIDIsRelease() *apiError {
	return newError(http.StatusConflict, codeTaskIDSameAsJobRelease, "The task id is the same as that of the job release task.")
}

func errTaskExists() *apiError {
	return newError(http.StatusConflict, codeTaskExists, "The specified task already exists.")
}

func errTaskCompleted() *apiError {
	return newError(http.StatusConflict, codeTaskCompleted, "The specified task is already completed.")
}

func errTaskNotCompleted() *apiError {
	return newError(http.StatusConflict, codeTaskNotCompleted, "The specified task is not completed.")
}

func errTaskSucceeded() *apiError {
	return newError(http.StatusConflict, codeTaskSucceeded, "The specified task completed successfully and cannot be reactivated.")
}

func errDependenciesNotOnJob() *apiError {
	return newError(http.StatusBadRequest, codeTaskDependenciesNotOnJob,
		"The task has dependencies but the job does not use task dependencies.")
}

func errDependencyListTooLong(max int) *apiError {
	return newError(http.StatusBadRequest, codeTaskDependencyListTooLong,
		"The task dependency list is too long.", "MaxLength", strconv.Itoa(max))
}

func errTaskFilesCleaned() *apiError {
	return newError(http.StatusConflict, codeTaskFilesCleanedup, "The task files have been cleaned up from the compute node.")
}

func errTaskNotScheduled() *apiError {
	return newError(http.StatusConflict, codeTaskFilesUnavailable, "The task has not been scheduled on a compute node yet, so its files are not available.")
}

func errTaskNodeGone() *apiError {
	return newError(http.StatusConflict, codeTaskFilesUnavailable, "The compute node that ran the task is no longer available.")
}

func errDeleteDirectory(path string) *apiError {
	return newError(http.StatusConflict, codeOperationInvalidForState,
		"The specified path is a directory; delete it with recursive=true.", "FilePath", path)
}

// errJobState is the 409 for an operation that needs an active job.
func errJobState(state wire.JobState) *apiError {
	switch state {
	case wire.JobDeleting:
		return newError(http.StatusConflict, codeJobBeingDeleted, "The specified job has been marked for deletion and is being garbage collected.")
	case wire.JobTerminating:
		return newError(http.StatusConflict, codeJobBeingTerminated, "The specified job is being terminated.")
	case wire.JobDisabled, wire.JobDisabling:
		return newError(http.StatusConflict, codeJobDisabled, "The specified job is disabled.")
	case wire.JobCompleted:
		return newError(http.StatusConflict, codeJobCompleted, "The specified job is already in a completed state.")
	default:
		return newError(http.StatusConflict, codeJobNotActive, "The specified job is not active.")
	}
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
	body := e.body(requestID, now)
	body.Metadata = baseURL(r) + "/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
	_ = json.NewEncoder(w).Encode(body)
}

// body is e as the service's error object (without odata.metadata, which
// only a whole error response carries); the message ends with the request
// id and time, as the service's do.
func (e *apiError) body(requestID string, now time.Time) wire.ErrorBody {
	return wire.ErrorBody{
		Code:    e.Code,
		Message: wire.ErrorMessage{Lang: "en-US", Value: e.Message + "\nRequestId:" + requestID + "\nTime:" + wire.FormatTime(now)},
		Values:  e.Values,
	}
}
