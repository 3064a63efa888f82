package localstack

import (
	"regexp"
	"testing"
)

func TestEnvironment(t *testing.T) {
	ep := Endpoints{
		BlobEndpoint: "http://b", StorageConnection: "DefaultEndpointsProtocol=http;AccountName=a", ServiceBus: "Endpoint=sb://s",
		ServiceBusHTTP: "http://sh", BatchEndpoint: "http://batch", BatchAccount: "acct", BatchKey: "key", FunctionsURL: "http://f",
		InputContainer: "in", OutputContainer: "out", StatusContainer: "st", ArrivalsQueue: "q", ResultsTopic: "t", PoolID: "p", JobID: "j",
		CLISubscription: "cli", FunctionsMasterKey: "mk", EventGridKey: "egk",
	}
	identifier := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	got := map[string]string{}
	for _, v := range ep.Environment() {
		if !identifier.MatchString(v.Name) {
			t.Errorf("%q is not a shell variable name", v.Name)
		}
		if _, dup := got[v.Name]; dup {
			t.Errorf("%s listed twice", v.Name)
		}
		if v.Value == "" {
			t.Errorf("%s is empty for fully set endpoints", v.Name)
		}
		got[v.Name] = v.Value
	}
	want := map[string]string{
		"FFBATCH_STORAGE_CONNECTION_STRING":    ep.StorageConnection,
		"AZURE_STORAGE_CONNECTION_STRING":      ep.StorageConnection,
		"FFBATCH_SERVICEBUS_CONNECTION_STRING": ep.ServiceBus,
		"FFBATCH_BATCH_ENDPOINT":               ep.BatchEndpoint,
		"AZURE_BATCH_ACCESS_KEY":               ep.BatchKey,
		"AZURE_BATCH_ACCOUNT":                  ep.BatchAccount,
		"FFBATCH_LOCAL_FUNCTIONS_URL":          ep.FunctionsURL,
		"FFBATCH_LOCAL_SERVICEBUS_HTTP":        ep.ServiceBusHTTP,
		"FFBATCH_LOCAL_BLOB_ENDPOINT":          ep.BlobEndpoint,
		"FFBATCH_INPUT_CONTAINER":              ep.InputContainer,
		"FFBATCH_RESULTS_TOPIC":                ep.ResultsTopic,
		"FFBATCH_LOCAL_FUNCTIONS_MASTER_KEY":   ep.FunctionsMasterKey,
		"FFBATCH_LOCAL_EVENTGRID_KEY":          ep.EventGridKey,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
}
