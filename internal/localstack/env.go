package localstack

// EnvVar is one environment variable that points a tool at the stack.
type EnvVar struct {
	Name, Value string
}

// Environment returns the variables `ffbatch env` prints, in a fixed
// order: the connection strings and endpoints under the names of the app
// settings that hold them (so the handler's own code and scripts written
// for the function app read them as they are), the names the Azure CLI
// reads for Storage and Batch, and FFBATCH_LOCAL_* for what has no app
// setting. The storage, Service Bus and Batch keys are the emulators'
// development keys; the Functions host's master and Event Grid keys are
// the stack's own, generated when its state directory is new.
func (e Endpoints) Environment() []EnvVar {
	return []EnvVar{
		{"FFBATCH_STORAGE_CONNECTION_STRING", e.StorageConnection},
		{"FFBATCH_SERVICEBUS_CONNECTION_STRING", e.ServiceBus},
		{"FFBATCH_BATCH_ENDPOINT", e.BatchEndpoint},
		{"FFBATCH_BATCH_ACCOUNT_NAME", e.BatchAccount},
		{"FFBATCH_BATCH_ACCOUNT_KEY", e.BatchKey},
		{"FFBATCH_INPUT_CONTAINER", e.InputContainer},
		{"FFBATCH_OUTPUT_CONTAINER", e.OutputContainer},
		{"FFBATCH_STATUS_CONTAINER", e.StatusContainer},
		{"FFBATCH_ARRIVALS_QUEUE", e.ArrivalsQueue},
		{"FFBATCH_RESULTS_TOPIC", e.ResultsTopic},
		{"FFBATCH_POOL_ID", e.PoolID},
		{"FFBATCH_JOB_ID", e.JobID},
		{"AZURE_STORAGE_CONNECTION_STRING", e.StorageConnection},
		{"AZURE_BATCH_ENDPOINT", e.BatchEndpoint},
		{"AZURE_BATCH_ACCOUNT", e.BatchAccount},
		{"AZURE_BATCH_ACCESS_KEY", e.BatchKey},
		{"FFBATCH_LOCAL_BLOB_ENDPOINT", e.BlobEndpoint},
		{"FFBATCH_LOCAL_SERVICEBUS_HTTP", e.ServiceBusHTTP},
		{"FFBATCH_LOCAL_FUNCTIONS_URL", e.FunctionsURL},
		{"FFBATCH_LOCAL_FUNCTIONS_MASTER_KEY", e.FunctionsMasterKey},
		{"FFBATCH_LOCAL_EVENTGRID_KEY", e.EventGridKey},
	}
}
