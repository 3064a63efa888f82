package localstack

import (
	"errors"
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"FFBATCH_POOL_ID", "FFBATCH_POOL_ID", 0},
		{"FFBATCH_POOL_IDLE_TIMOUT", "FFBATCH_POOL_IDLE_TIMEOUT", 1},
		{"ab", "ba", 2},
	}
	for _, tt := range tests {
		t.Run(tt.a+"/"+tt.b, func(t *testing.T) {
			if got := editDistance(tt.a, tt.b); got != tt.want {
				t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	candidates := []string{"FFBATCH_POOL_IDLE_TIMEOUT", "FFBATCH_POOL_ID", "FFBATCH_JOB_ID", "AzureWebJobs.SubmitTasks.Disabled"}
	tests := []struct {
		name, in string
		want     string // "" for no suggestion
	}{
		{"one letter missing", "FFBATCH_POOL_IDLE_TIMOUT", "FFBATCH_POOL_IDLE_TIMEOUT"},
		{"case only", "ffbatch_pool_id", "FFBATCH_POOL_ID"},
		{"transposed letters", "FFBATCH_JOB_DI", "FFBATCH_JOB_ID"},
		{"function name typo", "AzureWebJobs.SubmitTask.Disabled", "AzureWebJobs.SubmitTasks.Disabled"},
		{"nothing close", "PATH", ""},
		{"too different for its length", "FFBATCH_XYZ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := closest(tt.in, candidates)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("closest(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestCheckSettingNames(t *testing.T) {
	example := []string{"FFBATCH_INPUT_CONTAINER", "AzureWebJobsStorage"}
	functions := []string{"BlobCreated", "SubmitTasks"}
	tests := []struct {
		name    string
		names   []string
		wantErr []string // substrings; nil: accepted
	}{
		{"handler settings", []string{"FFBATCH_POOL_IDLE_TIMEOUT", "FFBATCH_SWEEP_SCHEDULE", "ServiceBusConnection"}, nil},
		{"example keys", []string{"FFBATCH_INPUT_CONTAINER"}, nil},
		{"host settings", []string{"FUNCTIONS_WORKER_RUNTIME", "FUNCHOST_EVENTGRID_BLOBS", "AzureWebJobsStorage"}, nil},
		{"function switched off", []string{"AzureWebJobs.SubmitTasks.Disabled", "azurewebjobs.blobcreated.disabled"}, nil},
		{"identity-based connections", []string{"ServiceBusConnection__fullyQualifiedNamespace", "ServiceBusConnection__clientId", "AzureWebJobsStorage__accountName"}, nil},
		{"typo", []string{"FFBATCH_POOL_IDLE_TIMOUT"}, []string{"FFBATCH_POOL_IDLE_TIMOUT (did you mean FFBATCH_POOL_IDLE_TIMEOUT?)"}},
		{"wrong case of a handler setting", []string{"ffbatch_pool_id"}, []string{"ffbatch_pool_id (did you mean FFBATCH_POOL_ID?)"}},
		{"unknown function", []string{"AzureWebJobs.SubmitTask.Disabled"}, []string{"did you mean AzureWebJobs.SubmitTasks.Disabled?"}},
		{"no suggestion", []string{"SOMETHING_ELSE_ENTIRELY"}, []string{"SOMETHING_ELSE_ENTIRELY;"}},
		{"every unknown name listed", []string{"B_UNKNOWN_NAME", "A_UNKNOWN_NAME", "FFBATCH_JOB_ID"}, []string{"A_UNKNOWN_NAME, B_UNKNOWN_NAME"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSettingNames(tt.names, example, functions)
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("checkSettingNames(%q) = %v, want nil", tt.names, err)
				}
				return
			}
			if !errors.Is(err, ErrUnknownSetting) {
				t.Fatalf("checkSettingNames(%q) = %v, want ErrUnknownSetting", tt.names, err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
