package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/azurite"
)

// localOverrides are the settings that differ from
// local.settings.json.example on the local stack, besides the endpoints.
// The sweep keeps the product's schedule: TaskFinished settles finished
// tasks as their logs appear, as it does in Azure.
var localOverrides = map[string]string{
	"FFBATCH_SCALING_MODE": "managed",
	"FFBATCH_BATCH_AUTH":   "sharedkey",
}

// settings returns the app settings: the example file's values, the local
// overrides, the endpoints of this stack, then Options.Settings.
func (s *Stack) settings(az *azurite.Instance) (map[string]string, error) {
	v, err := readExample(s.o.RepoDir)
	if err != nil {
		return nil, err
	}
	maps.Copy(v, localOverrides)
	sb := fmt.Sprintf("Endpoint=sb://127.0.0.1:%d;SharedAccessKeyName=%s;SharedAccessKey=%s;UseDevelopmentEmulator=true;",
		s.ports.AMQP, ServiceBusKeyName, s.sbKey)
	maps.Copy(v, map[string]string{
		"FUNCTIONS_WORKER_RUNTIME":                      "custom",
		"AzureWebJobsStorage":                           az.ConnectionString,
		"ServiceBusConnection":                          sb,
		"ServiceBusConnection__fullyQualifiedNamespace": "",
		"FFBATCH_STORAGE_CONNECTION_STRING":             az.ConnectionString,
		"FFBATCH_STORAGE_ACCOUNT_URL":                   "",
		"FFBATCH_SERVICEBUS_CONNECTION_STRING":          "",
		"FFBATCH_SERVICEBUS_NAMESPACE":                  "",
		"FFBATCH_BATCH_ENDPOINT":                        "http://" + addr(s.ports.Batch),
		"FFBATCH_BATCH_ACCOUNT_NAME":                    BatchAccount,
		"FFBATCH_BATCH_ACCOUNT_KEY":                     s.batchKey,
	})
	maps.Copy(v, s.o.Settings)
	return v, nil
}

// readExample returns the Values of the repository's
// local.settings.json.example.
func readExample(repo string) (map[string]string, error) {
	example := filepath.Join(repo, "local.settings.json.example")
	b, err := os.ReadFile(example)
	if err != nil {
		return nil, fmt.Errorf("read settings template: %w", err)
	}
	var file struct {
		Values map[string]string `json:"Values"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		return nil, fmt.Errorf("read settings template %s: %w", example, err)
	}
	if file.Values == nil {
		return map[string]string{}, nil
	}
	return file.Values, nil
}

// checkSettings refuses unknown names in Options.Settings (see
// checkSettingNames).
func (s *Stack) checkSettings() error {
	if len(s.o.Settings) == 0 {
		return nil
	}
	example, err := readExample(s.o.RepoDir)
	if err != nil {
		return err
	}
	defs := s.o.AppDir
	if defs == "" {
		defs = filepath.Join(s.o.RepoDir, "function-definitions")
	}
	functions, err := functionNames(defs)
	if err != nil {
		return err
	}
	return checkSettingNames(slices.Collect(maps.Keys(s.o.Settings)), slices.Collect(maps.Keys(example)), functions)
}

func endpointsFrom(v map[string]string, az *azurite.Instance, p Ports) Endpoints {
	def := func(k, d string) string {
		if x := v[k]; x != "" {
			return x
		}
		return d
	}
	return Endpoints{
		BlobEndpoint: az.BlobEndpoint, StorageConnection: az.ConnectionString,
		ServiceBus: v["ServiceBusConnection"], ServiceBusHTTP: "http://" + addr(p.SBHTTP),
		BatchEndpoint: v["FFBATCH_BATCH_ENDPOINT"], BatchAccount: v["FFBATCH_BATCH_ACCOUNT_NAME"], BatchKey: v["FFBATCH_BATCH_ACCOUNT_KEY"],
		FunctionsURL:    "http://" + addr(p.Functions),
		InputContainer:  def("FFBATCH_INPUT_CONTAINER", "input"),
		OutputContainer: def("FFBATCH_OUTPUT_CONTAINER", "output"),
		StatusContainer: def("FFBATCH_STATUS_CONTAINER", "ffbatch-status"),
		LogsPrefix:      def("FFBATCH_LOGS_PREFIX", "logs/"),
		ArrivalsQueue:   def("FFBATCH_ARRIVALS_QUEUE", "arrivals"),
		ResultsTopic:    def("FFBATCH_RESULTS_TOPIC", "results"),
		CLISubscription: CLISubscription,
		PoolID:          def("FFBATCH_POOL_ID", "ffbatch-pool"),
		JobID:           def("FFBATCH_JOB_ID", "ffbatch-job"),
	}
}

// SettingsFile is the generated settings' file name in the state directory.
const SettingsFile = "local.settings.json"

// ReadSettings returns the app settings (Values) of the settings file a
// stack generated in the state directory dir.
func ReadSettings(dir string) (map[string]string, error) {
	path := filepath.Join(dir, SettingsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	var file struct {
		Values map[string]string `json:"Values"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		return nil, fmt.Errorf("read settings %s: %w", path, err)
	}
	return file.Values, nil
}

// writeSettings writes a func CLI local.settings.json (mode 0600: it
// holds the local emulators' keys).
func writeSettings(path string, values map[string]string, port int) error {
	doc := map[string]any{
		"IsEncrypted":       false,
		"Values":            values,
		"Host":              map[string]int{"LocalHttpPort": port},
		"ConnectionStrings": map[string]string{},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	return nil
}

// childEnv is the environment of the children: the caller's, without the
// app's own settings, so the generated local.settings.json is what runs
// (the host lets the environment win over Values).
func childEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "FFBATCH_"), strings.HasPrefix(k, "FUNCHOST_"), strings.HasPrefix(k, "AzureWebJobs"),
			strings.HasPrefix(k, "ServiceBusConnection"), strings.HasPrefix(k, "FUNCTIONS_"):
			continue
		}
		out = append(out, kv)
	}
	return out
}

// ensureContainers creates the input and output containers, so the host's
// watcher has something to list from the first poll.
func ensureContainers(ctx context.Context, conn string, names ...string) error {
	c, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		return fmt.Errorf("storage client: %w", err)
	}
	for _, n := range names {
		if _, err := c.CreateContainer(ctx, n, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			return fmt.Errorf("create container %s: %w", n, err)
		}
	}
	return nil
}
