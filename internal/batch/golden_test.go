package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestGoldenRequests pins what every operation puts on the wire: method,
// path, query, content type and length, and body.
func TestGoldenRequests(t *testing.T) {
	f := newFakeBatch(t)
	c := f.client(t, fakeKey)
	ctx := context.Background()
	steps := []func() error{
		func() error {
			return c.CreatePool(ctx, PoolAddParameter{
				ID: "LinuxFfmpegPool", VMSize: "STANDARD_A1_v2",
				VirtualMachineConfiguration: &VirtualMachineConfiguration{
					ImageReference: ImageReference{Publisher: "Canonical", Offer: "ubuntu-24_04-lts", SKU: "server", Version: "latest"},
					NodeAgentSKUID: "batch.node.ubuntu 24.04",
				},
				TargetDedicatedNodes: to.Ptr[int32](0), TargetLowPriorityNodes: to.Ptr[int32](5),
				StartTask: &StartTask{
					CommandLine:    `/bin/bash -c "apt-get update && apt-get install -y ffmpeg"`,
					UserIdentity:   &UserIdentity{AutoUser: &AutoUserSpecification{Scope: AutoUserScopePool, ElevationLevel: ElevationLevelAdmin}},
					WaitForSuccess: to.Ptr(true), MaxTaskRetryCount: to.Ptr[int32](2),
				},
				TaskSlotsPerNode:     2,
				TaskSchedulingPolicy: &TaskSchedulingPolicy{NodeFillType: NodeFillTypeSpread},
				Metadata:             []MetadataItem{{Name: "owner", Value: "ffbatch"}},
			})
		},
		func() error { _, err := c.GetPool(ctx, "LinuxFfmpegPool", &GetOptions{Select: "id,state"}); return err },
		func() error { _, err := c.PoolExists(ctx, "LinuxFfmpegPool"); return err },
		func() error {
			return c.ResizePool(ctx, "LinuxFfmpegPool", PoolResizeParameter{TargetDedicatedNodes: to.Ptr[int32](2), TargetLowPriorityNodes: to.Ptr[int32](0),
				ResizeTimeout: to.Ptr(Duration(15 * time.Minute)), NodeDeallocationOption: NodeDeallocationOptionTaskCompletion})
		},
		func() error {
			return c.EnableAutoScale(ctx, "LinuxFfmpegPool", PoolEnableAutoScaleParameter{AutoScaleFormula: "$TargetDedicatedNodes=1;",
				AutoScaleEvaluationInterval: to.Ptr(Duration(5 * time.Minute))})
		},
		func() error {
			_, err := c.EvaluateAutoScale(ctx, "LinuxFfmpegPool", "$TargetDedicatedNodes=2;")
			return err
		},
		func() error { return c.DisableAutoScale(ctx, "LinuxFfmpegPool") },
		func() error {
			return c.CreateJob(ctx, JobAddParameter{ID: "job-1", PoolInfo: PoolInfo{PoolID: "LinuxFfmpegPool"}, Priority: to.Ptr[int32](0),
				Constraints: &JobConstraints{MaxTaskRetryCount: to.Ptr[int32](1)}, OnAllTasksComplete: OnAllTasksCompleteNoAction,
				OnTaskFailure: OnTaskFailureNoAction, UsesTaskDependencies: to.Ptr(false)})
		},
		func() error {
			return c.PatchJob(ctx, "job-1", JobPatchParameter{OnAllTasksComplete: OnAllTasksCompleteTerminateJob})
		},
		func() error {
			_, err := c.AddTaskCollection(ctx, "job-1", []TaskAddParameter{{
				ID: "task-a", DisplayName: "a.mp4", CommandLine: `/bin/sh -c "ffmpeg -y -i a.mp4 a.mp3"`,
				ResourceFiles: []ResourceFile{{HTTPURL: "http://127.0.0.1:10000/devstoreaccount1/input/a.mp4?sv=x&sig=REDACTED", FilePath: "a.mp4"}},
				OutputFiles: []OutputFile{{FilePattern: "a.mp3",
					Destination:   OutputFileDestination{Container: &OutputFileBlobContainerDestination{ContainerURL: "http://127.0.0.1:10000/devstoreaccount1/output?sig=REDACTED", Path: "a.mp3"}},
					UploadOptions: OutputFileUploadOptions{UploadCondition: OutputFileUploadConditionTaskSuccess}}},
				EnvironmentSettings: []EnvironmentSetting{{Name: "IN", Value: "a.mp4"}},
				Constraints:         &TaskConstraints{MaxWallClockTime: to.Ptr(Duration(time.Hour)), RetentionTime: to.Ptr(InfiniteDuration), MaxTaskRetryCount: to.Ptr[int32](3)},
				RequiredSlots:       1,
			}})
			return err
		},
		func() error {
			_, err := c.NewListTasksPager("job-1", &ListOptions{Filter: "executionInfo/result eq 'failure'", Select: "id,state,executionInfo", MaxResults: 10}).NextPage(ctx)
			return err
		},
		func() error { return c.TerminateJob(ctx, "job-1", "") },
		func() error { return c.TerminateJob(ctx, "job-1", "done") },
		func() error { return c.DeleteJob(ctx, "job-1") },
		func() error { return c.DeletePool(ctx, "LinuxFfmpegPool") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	got, err := json.MarshalIndent(f.recorded(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "requests.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("requests differ from %s (run with -update after checking the change):\n%s", path, got)
	}
}
