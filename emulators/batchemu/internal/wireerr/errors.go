package wireerr

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/autoscale"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// Batch error codes used by the emulator (the wire strings of the real service).
const (
	CodeAuthenticationFailed           = "AuthenticationFailed"
	CodeMissingRequiredQueryParameter  = "MissingRequiredQueryParameter"
	CodeUnsupportedRequestVersion      = "UnsupportedRequestVersion"
	CodeInvalidQueryParameterValue     = "InvalidQueryParameterValue"
	CodeMissingRequiredProperty        = "MissingRequiredProperty"
	CodeInvalidPropertyValue           = "InvalidPropertyValue"
	CodeUnsupportedProperty            = "UnsupportedProperty"
	CodeInvalidRequestBody             = "InvalidRequestBody"
	CodeRequestBodyTooLarge            = "RequestBodyTooLarge"
	CodeInvalidAutoScalingSettings     = "InvalidAutoScalingSettings"
	CodeAutoScalingFormulaSyntaxError  = autoscale.CodeSyntaxError
	CodeAutoScalingFormulaTooLong      = autoscale.CodeTooLong
	CodeTooManyEnableAutoScaleRequests = "TooManyEnableAutoScaleRequests"
	CodeConditionNotMet                = "ConditionNotMet"
	CodeResourceNotFound               = "ResourceNotFound"
	CodePoolNotFound                   = "PoolNotFound"
	CodeNodeNotFound                   = "NodeNotFound"
	CodeJobNotFound                    = "JobNotFound"
	CodeTaskNotFound                   = "TaskNotFound"
	CodeFileNotFound                   = "FileNotFound"
	CodeUnsupportedHTTPVerb            = "UnsupportedHttpVerb"
	CodePoolExists                     = "PoolExists"
	CodeJobExists                      = "JobExists"
	CodeTaskExists                     = "TaskExists"
	CodePoolBeingDeleted               = "PoolBeingDeleted"
	CodePoolBeingResized               = "PoolBeingResized"
	CodeJobBeingDeleted                = "JobBeingDeleted"
	CodeJobBeingTerminated             = "JobBeingTerminated"
	CodeJobCompleted                   = "JobCompleted"
	CodeJobNotActive                   = "JobNotActive"
	CodeTaskCompleted                  = "TaskCompleted"
	CodeTaskFilesUnavailable           = "TaskFilesUnavailable"
	CodeTaskFilesCleanedup             = "TaskFilesCleanedup"
	CodeOperationInvalidForState       = "OperationInvalidForCurrentState"
	CodeTooManyRequests                = "TooManyRequests"
	CodeInternalError                  = "InternalError"
	CodeServerBusy                     = "ServerBusy"
	CodeJobDisabled                    = "JobDisabled"
	CodeOutOfRangePriority             = "OutOfRangePriority"
	CodeNodeBeingRebooted              = "NodeBeingRebooted"
	CodeNodeBeingReimaged              = "NodeBeingReimaged"
	CodeNodeBeingCreated               = "NodeBeingCreated"
	CodeNodeBeingStarted               = "NodeBeingStarted"
	CodeTaskIDSameAsJobPreparation     = "TaskIdSameAsJobPreparationTask"
	CodeTaskIDSameAsJobRelease         = "TaskIdSameAsJobReleaseTask"
	CodeNoPrepOrReleaseTask            = "JobPreparationTaskOrReleaseTaskNotSpecified"
	CodeTaskDependenciesNotOnJob       = "TaskDependenciesNotSpecifiedOnJob"
	CodeTaskDependencyListTooLong      = "TaskDependencyListTooLong"
	CodeTaskNotCompleted               = "TaskNotCompleted"
	CodeTaskSucceeded                  = "TaskSucceeded"
)

// Codes of the errors the service reports inside entities (a pool's
// resizeErrors, an autoScaleRun's error) rather than as responses.
const (
	CodeAccountCoreQuotaReached           = "AccountCoreQuotaReached"
	CodeResizeStopped                     = "ResizeStopped"
	CodeAutoScalingFormulaEvaluationError = autoscale.CodeEvaluationError
	CodeInsufficientSampleData            = autoscale.CodeInsufficientSampleData
)

// Error is a Batch wire error: an HTTP status, a code, a message and
// optional key/value details. Handlers return it; Write renders it.
type Error struct {
	Status  int
	Code    string
	Message string
	Values  []wire.ErrorValue
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, message string, kv ...string) *Error {
	e := &Error{Status: status, Code: code, Message: message}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Values = append(e.Values, wire.ErrorValue{Key: kv[i], Value: kv[i+1]})
	}
	return e
}

// ---- request: authentication, version, body, query, path ----

func AuthenticationFailed(detail string) *Error {
	return newError(http.StatusForbidden, CodeAuthenticationFailed,
		"Server failed to authenticate the request. Make sure the value of Authorization header is correctly formed including the signature.",
		"AuthenticationErrorDetail", detail)
}

func MissingAPIVersion() *Error {
	return newError(http.StatusBadRequest, CodeMissingRequiredQueryParameter,
		"A query parameter that's mandatory for this request is not specified.", "QueryParameterName", "api-version")
}

func UnsupportedAPIVersion(v string) *Error {
	return newError(http.StatusBadRequest, CodeUnsupportedRequestVersion,
		"The specified Request Version is not supported.", "QueryParameterName", "api-version", "QueryParameterValue", v)
}

func ServerBusy() *Error {
	return newError(http.StatusServiceUnavailable, CodeServerBusy, "The emulator is shutting down.")
}

func Internal() *Error {
	return newError(http.StatusInternalServerError, CodeInternalError,
		"The server encountered an internal error. Please retry the request.")
}

// InternalOp is a 500 for a failed operation of the emulator itself.
func InternalOp(op string, err error) *Error {
	return newError(http.StatusInternalServerError, CodeInternalError, op+": "+err.Error())
}

func UnsupportedVerb(method string) *Error {
	return newError(http.StatusMethodNotAllowed, CodeUnsupportedHTTPVerb,
		"The resource doesn't support the specified HTTP verb.", "HttpVerb", method)
}

func ResourceNotFound() *Error {
	return newError(http.StatusNotFound, CodeResourceNotFound, "The specified resource does not exist.")
}

// ConditionNotMet answers a failed conditional header: 304 for a read
// (notModified), 412 otherwise.
func ConditionNotMet(notModified bool) *Error {
	status := http.StatusPreconditionFailed
	if notModified {
		status = http.StatusNotModified
	}
	return newError(status, CodeConditionNotMet, "The condition specified using HTTP conditional header(s) is not met.")
}

func MissingProperty(name string) *Error {
	return newError(http.StatusBadRequest, CodeMissingRequiredProperty,
		"A required property was not specified in the request body.", "PropertyName", name)
}

func InvalidProperty(name, value, reason string) *Error {
	kv := []string{"PropertyName", name, "PropertyValue", value}
	if reason != "" {
		kv = append(kv, "Reason", reason)
	}
	return newError(http.StatusBadRequest, CodeInvalidPropertyValue,
		"The value provided for one of the properties in the request body is invalid.", kv...)
}

func UnsupportedProperty(name string) *Error {
	return newError(http.StatusBadRequest, CodeUnsupportedProperty,
		"One of the properties specified in the request body is not supported by the Batch emulator.",
		"PropertyName", name)
}

// InvalidPropertyReason is an InvalidPropertyValue that names the
// property and why, without echoing the value.
func InvalidPropertyReason(name, reason string) *Error {
	return newError(http.StatusBadRequest, CodeInvalidPropertyValue,
		"The value provided for one of the properties in the request body is invalid.",
		"PropertyName", name, "Reason", reason)
}

func ReleaseWithoutPrep() *Error {
	return newError(http.StatusBadRequest, CodeInvalidPropertyValue,
		"A job release task requires a job preparation task.", "PropertyName", "jobReleaseTask")
}

func OutOfRangePriority(priority int) *Error {
	return newError(http.StatusBadRequest, CodeOutOfRangePriority, "The priority must be between -1000 and 1000.",
		"PropertyName", "priority", "PropertyValue", strconv.Itoa(priority))
}

func InvalidQuery(name, value, reason string) *Error {
	kv := []string{"QueryParameterName", name, "QueryParameterValue", value}
	if reason != "" {
		kv = append(kv, "Reason", reason)
	}
	return newError(http.StatusBadRequest, CodeInvalidQueryParameterValue,
		"Value for one of the query parameters specified in the request URI is invalid.", kv...)
}

func InvalidBody(reason string) *Error {
	return newError(http.StatusBadRequest, CodeInvalidRequestBody,
		"The specified Request Body is not syntactically valid.", "Reason", reason)
}

func BodyTooLarge(limit int) *Error {
	return newError(http.StatusRequestEntityTooLarge, CodeRequestBodyTooLarge,
		"The request body is too large and exceeds the maximum permissible limit.",
		"MaxLimit", fmt.Sprint(limit))
}

func InvalidFilePath(name string) *Error {
	return newError(http.StatusBadRequest, CodeInvalidQueryParameterValue, "The file path is not valid.", "FilePath", name)
}

// ---- pools and nodes ----

func PoolNotFound() *Error {
	return newError(http.StatusNotFound, CodePoolNotFound, "The specified pool does not exist.")
}

func PoolBeingDeleted() *Error {
	return newError(http.StatusConflict, CodePoolBeingDeleted, "The specified pool has been marked for deletion and is being reclaimed.")
}

func PoolExists() *Error {
	return newError(http.StatusConflict, CodePoolExists, "The specified pool already exists.")
}

func AutoPoolIDTaken() *Error {
	return newError(http.StatusConflict, CodePoolExists, "The auto pool id is already taken.")
}

func PoolBeingResized() *Error {
	return newError(http.StatusConflict, CodePoolBeingResized, "The specified pool is already being resized.")
}

func PoolResizingForAutoScale() *Error {
	return newError(http.StatusConflict, CodePoolBeingResized, "Autoscale cannot be enabled while the pool is being resized.")
}

func ResizeWithAutoScale() *Error {
	return newError(http.StatusConflict, CodeOperationInvalidForState,
		"The specified operation is not valid for the current state of the pool: autoscale is enabled.")
}

func RemoveNodesWithAutoScale() *Error {
	return newError(http.StatusConflict, CodeOperationInvalidForState,
		"Nodes cannot be removed from a pool with autoscale enabled.")
}

func AutoScaleTargets() *Error {
	return newError(http.StatusBadRequest, CodeInvalidAutoScalingSettings,
		"targetDedicatedNodes and targetLowPriorityNodes must not be specified when enableAutoScale is true.",
		"PropertyName", "targetDedicatedNodes")
}

func AutoScaleFormulaWithoutAutoScale() *Error {
	return newError(http.StatusBadRequest, CodeInvalidAutoScalingSettings,
		"autoScaleFormula and autoScaleEvaluationInterval must not be specified when enableAutoScale is false.",
		"PropertyName", "autoScaleFormula")
}

func TooManyEnableAutoScale() *Error {
	return newError(http.StatusServiceUnavailable, CodeTooManyEnableAutoScaleRequests,
		"The number of enable autoscale requests for this pool exceeded the allowed rate.")
}

func AutoScaleNotEnabled() *Error {
	return newError(http.StatusConflict, CodeOperationInvalidForState,
		"Autoscale formulas can only be evaluated on a pool with autoscale enabled.")
}

// Formula is the 400 for an autoscale formula the formula engine refuses
// before running it (AutoScalingFormulaSyntaxError,
// AutoScalingFormulaTooLong); internal/autoscale words its errors as the
// service does.
func Formula(e *autoscale.Error) *Error {
	out := &Error{Status: http.StatusBadRequest, Code: e.Code, Message: e.Message}
	for _, v := range e.Values {
		out.Values = append(out.Values, wire.ErrorValue{Key: v.Name, Value: v.Value})
	}
	return out
}

func NodeNotInPool(id string) *Error {
	return newError(http.StatusNotFound, CodeNodeNotFound, "The specified node does not exist.", "NodeId", id)
}

// NodeBusy is the 409 for an operation on a node that is not ready for
// it; state is the node's state (leavingpool, creating, starting,
// waitingforstarttask) or its pending reboot/reimage (rebooting, reimaging).
func NodeBusy(state string) *Error {
	switch state {
	case "rebooting":
		return newError(http.StatusConflict, CodeNodeBeingRebooted, "The specified node is being rebooted.")
	case "reimaging":
		return newError(http.StatusConflict, CodeNodeBeingReimaged, "The specified node is being reimaged.")
	case "creating":
		return newError(http.StatusConflict, CodeNodeBeingCreated, "The specified node is being created.")
	case "starting", "waitingforstarttask":
		return newError(http.StatusConflict, CodeNodeBeingStarted, "The specified node is being started.")
	default: // leavingpool
		return newError(http.StatusConflict, CodeOperationInvalidForState, "The specified node is leaving the pool.")
	}
}

// ResizeQuotaReached is the resize error of a pool that reached the
// emulator's node quota.
func ResizeQuotaReached(quota int) wire.ErrorInfo {
	return wire.ErrorInfo{Code: CodeAccountCoreQuotaReached,
		Message: fmt.Sprintf("The pool reached the emulator's quota of %d nodes per pool.", quota)}
}

// ResizeStopped is the resize error of a stopped resize.
func ResizeStopped() wire.ErrorInfo {
	return wire.ErrorInfo{Code: CodeResizeStopped, Message: "Desired number of dedicated nodes could not be allocated as a resize operation was stopped"}
}

// AutoScaleRunError is the autoScaleRun error of a formula that could not
// be parsed or evaluated, in the formula engine's words.
func AutoScaleRunError(e *autoscale.Error) *wire.ErrorInfo {
	out := &wire.ErrorInfo{Code: e.Code, Message: e.Message}
	for _, v := range e.Values {
		out.Values = append(out.Values, wire.NameValue{Name: v.Name, Value: v.Value})
	}
	return out
}

// ---- jobs and tasks ----

func JobNotFound() *Error {
	return newError(http.StatusNotFound, CodeJobNotFound, "The specified job does not exist.")
}

func TaskNotFound() *Error {
	return newError(http.StatusNotFound, CodeTaskNotFound, "The specified task does not exist.")
}

func FileNotFound(name string) *Error {
	return newError(http.StatusNotFound, CodeFileNotFound, "The specified file does not exist.", "FilePath", name)
}

func NodeNotFound() *Error {
	return newError(http.StatusNotFound, CodeNodeNotFound, "The specified node does not exist.")
}

func JobExists() *Error {
	return newError(http.StatusConflict, CodeJobExists, "The specified job already exists.")
}

func JobPoolChangeNotDisabled() *Error {
	return newError(http.StatusConflict, CodeOperationInvalidForState,
		"The pool of a job can only be changed while the job is disabled.")
}

func JobNotDisabled() *Error {
	return newError(http.StatusConflict, CodeOperationInvalidForState, "The specified job is not disabled.")
}

func NoPrepOrReleaseTask() *Error {
	return newError(http.StatusConflict, CodeNoPrepOrReleaseTask,
		"The specified job has neither a job preparation task nor a job release task.")
}

func TaskIDIsPrep() *Error {
	return newError(http.StatusConflict, CodeTaskIDSameAsJobPreparation, "The task id is the same as that of the job preparation task.")
}

func TaskIDIsRelease() *Error {
	return newError(http.StatusConflict, CodeTaskIDSameAsJobRelease, "The task id is the same as that of the job release task.")
}

func TaskExists() *Error {
	return newError(http.StatusConflict, CodeTaskExists, "The specified task already exists.")
}

func TaskCompleted() *Error {
	return newError(http.StatusConflict, CodeTaskCompleted, "The specified task is already completed.")
}

func TaskNotCompleted() *Error {
	return newError(http.StatusConflict, CodeTaskNotCompleted, "The specified task is not completed.")
}

func TaskSucceeded() *Error {
	return newError(http.StatusConflict, CodeTaskSucceeded, "The specified task completed successfully and cannot be reactivated.")
}

func DependenciesNotOnJob() *Error {
	return newError(http.StatusBadRequest, CodeTaskDependenciesNotOnJob,
		"The task has dependencies but the job does not use task dependencies.")
}

func DependencyListTooLong(max int) *Error {
	return newError(http.StatusBadRequest, CodeTaskDependencyListTooLong,
		"The task dependency list is too long.", "MaxLength", strconv.Itoa(max))
}

func TaskFilesCleaned() *Error {
	return newError(http.StatusConflict, CodeTaskFilesCleanedup, "The task files have been cleaned up from the compute node.")
}

func TaskNotScheduled() *Error {
	return newError(http.StatusConflict, CodeTaskFilesUnavailable, "The task has not been scheduled on a compute node yet, so its files are not available.")
}

func TaskNodeGone() *Error {
	return newError(http.StatusConflict, CodeTaskFilesUnavailable, "The compute node that ran the task is no longer available.")
}

func DeleteDirectory(path string) *Error {
	return newError(http.StatusConflict, CodeOperationInvalidForState,
		"The specified path is a directory; delete it with recursive=true.", "FilePath", path)
}

// JobState is the 409 for an operation that needs an active job.
func JobState(state wire.JobState) *Error {
	switch state {
	case wire.JobDeleting:
		return newError(http.StatusConflict, CodeJobBeingDeleted, "The specified job has been marked for deletion and is being garbage collected.")
	case wire.JobTerminating:
		return newError(http.StatusConflict, CodeJobBeingTerminated, "The specified job is being terminated.")
	case wire.JobDisabled, wire.JobDisabling:
		return newError(http.StatusConflict, CodeJobDisabled, "The specified job is disabled.")
	case wire.JobCompleted:
		return newError(http.StatusConflict, CodeJobCompleted, "The specified job is already in a completed state.")
	default:
		return newError(http.StatusConflict, CodeJobNotActive, "The specified job is not active.")
	}
}

// Write renders e as the real Batch error response to r; base is the
// scheme://host the request was sent to. HEAD and 304 responses get the
// status only.
func Write(w http.ResponseWriter, r *http.Request, base, requestID string, now time.Time, e *Error) {
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
	body := e.Body(requestID, now)
	body.Metadata = base + "/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
	_ = json.NewEncoder(w).Encode(body)
}

// Body is e as the service's error object (without odata.metadata, which
// only a whole error response carries); the message ends with the request
// id and time, as the service's do.
func (e *Error) Body(requestID string, now time.Time) wire.ErrorBody {
	return wire.ErrorBody{
		Code:    e.Code,
		Message: wire.ErrorMessage{Lang: "en-US", Value: e.Message + "\nRequestId:" + requestID + "\nTime:" + wire.FormatTime(now)},
		Values:  e.Values,
	}
}
