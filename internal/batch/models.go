package batch

import "time"

// This file holds the wire types shared by pools, jobs and tasks. Fields
// whose zero value is meaningful on the wire (node counts, retry counts,
// booleans) are pointers in request types so that "0" and "false" are sent;
// use to.Ptr from azcore/to to fill them.

// NameValuePair is a name/value pair used in error details.
type NameValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// MetadataItem is one user-defined name/value pair on a pool or job.
type MetadataItem struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// EnvironmentSetting is one environment variable for a task.
type EnvironmentSetting struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// ResourceFile is a file downloaded to a node before a task runs. Exactly
// one of HTTPURL, StorageContainerURL and AutoStorageContainerName is set.
type ResourceFile struct {
	AutoStorageContainerName string `json:"autoStorageContainerName,omitempty"`
	StorageContainerURL      string `json:"storageContainerUrl,omitempty"`
	HTTPURL                  string `json:"httpUrl,omitempty"`
	BlobPrefix               string `json:"blobPrefix,omitempty"`
	FilePath                 string `json:"filePath,omitempty"`
	FileMode                 string `json:"fileMode,omitempty"`
}

// UserIdentity is the user a task runs as: a named user or an auto user.
type UserIdentity struct {
	UserName string                 `json:"username,omitempty"`
	AutoUser *AutoUserSpecification `json:"autoUser,omitempty"`
}

// AutoUserSpecification describes the auto user a task runs as.
type AutoUserSpecification struct {
	Scope          AutoUserScope  `json:"scope,omitempty"`
	ElevationLevel ElevationLevel `json:"elevationLevel,omitempty"`
}

// ImageReference names a Marketplace or custom VM image.
type ImageReference struct {
	Publisher             string `json:"publisher,omitempty"`
	Offer                 string `json:"offer,omitempty"`
	SKU                   string `json:"sku,omitempty"`
	Version               string `json:"version,omitempty"`
	VirtualMachineImageID string `json:"virtualMachineImageId,omitempty"`
	ExactVersion          string `json:"exactVersion,omitempty"` // read-only
}

// ContainerConfiguration enables containers on a pool's nodes.
type ContainerConfiguration struct {
	Type                string              `json:"type"`
	ContainerImageNames []string            `json:"containerImageNames,omitempty"`
	ContainerRegistries []ContainerRegistry `json:"containerRegistries,omitempty"`
}

// ContainerRegistry is a private registry that container images come from.
type ContainerRegistry struct {
	RegistryServer string `json:"registryServer,omitempty"`
	UserName       string `json:"username,omitempty"`
	Password       string `json:"password,omitempty"`
}

// TaskContainerSettings runs a task inside a container image. The pool must
// have a ContainerConfiguration; the command line runs in the container.
type TaskContainerSettings struct {
	ImageName           string             `json:"imageName"`
	ContainerRunOptions string             `json:"containerRunOptions,omitempty"`
	Registry            *ContainerRegistry `json:"registry,omitempty"`
	// WorkingDirectory is "taskWorkingDirectory" (default) or "containerImageDefault".
	WorkingDirectory string `json:"workingDirectory,omitempty"`
}

// VirtualMachineConfiguration is the OS image of a pool's nodes.
type VirtualMachineConfiguration struct {
	ImageReference         ImageReference          `json:"imageReference"`
	NodeAgentSKUID         string                  `json:"nodeAgentSKUId"`
	ContainerConfiguration *ContainerConfiguration `json:"containerConfiguration,omitempty"`
}

// StartTask runs on every node when it joins the pool.
type StartTask struct {
	CommandLine         string               `json:"commandLine"`
	ResourceFiles       []ResourceFile       `json:"resourceFiles,omitempty"`
	EnvironmentSettings []EnvironmentSetting `json:"environmentSettings,omitempty"`
	UserIdentity        *UserIdentity        `json:"userIdentity,omitempty"`
	MaxTaskRetryCount   *int32               `json:"maxTaskRetryCount,omitempty"`
	WaitForSuccess      *bool                `json:"waitForSuccess,omitempty"`
}

// TaskSchedulingPolicy says how tasks are distributed over nodes.
type TaskSchedulingPolicy struct {
	NodeFillType NodeFillType `json:"nodeFillType"`
}

// AutoScaleRun is the result of an autoscale formula evaluation.
type AutoScaleRun struct {
	Timestamp time.Time          `json:"timestamp,omitzero"`
	Results   string             `json:"results,omitempty"`
	Error     *AutoScaleRunError `json:"error,omitempty"`
}

// AutoScaleRunError is why an autoscale evaluation failed.
type AutoScaleRunError struct {
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Values  []NameValuePair `json:"values,omitempty"`
}

// ResizeError is one error from the last pool resize.
type ResizeError struct {
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Values  []NameValuePair `json:"values,omitempty"`
}

// FailureInfo says why a task (or start task) failed.
type FailureInfo struct {
	Category ErrorCategory   `json:"category,omitempty"`
	Code     string          `json:"code,omitempty"`
	Message  string          `json:"message,omitempty"`
	Details  []NameValuePair `json:"details,omitempty"`
}

// OutputFile is a file uploaded from the node after a task's process exits.
type OutputFile struct {
	FilePattern   string                  `json:"filePattern"`
	Destination   OutputFileDestination   `json:"destination"`
	UploadOptions OutputFileUploadOptions `json:"uploadOptions"`
}

// OutputFileDestination says where an output file goes.
type OutputFileDestination struct {
	Container *OutputFileBlobContainerDestination `json:"container,omitempty"`
}

// OutputFileBlobContainerDestination is a blob container (SAS URL with
// write permission) and an optional blob path or prefix.
type OutputFileBlobContainerDestination struct {
	ContainerURL  string       `json:"containerUrl"`
	Path          string       `json:"path,omitempty"`
	UploadHeaders []HTTPHeader `json:"uploadHeaders,omitempty"`
}

// HTTPHeader is a header set on uploaded output blobs.
type HTTPHeader struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// OutputFileUploadOptions says when to upload an output file.
type OutputFileUploadOptions struct {
	UploadCondition OutputFileUploadCondition `json:"uploadCondition"`
}
