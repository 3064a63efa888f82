package batchtest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/internal/batch"
)

func (s *suite) testPools(t *testing.T) {
	ctx := s.ctx(t)
	id := s.pool(t, "pool", 0, func(p *batch.PoolAddParameter) {
		p.DisplayName = "conformance pool"
		p.StartTask = &batch.StartTask{
			CommandLine:       `/bin/sh -c "echo start"`,
			UserIdentity:      &batch.UserIdentity{AutoUser: &batch.AutoUserSpecification{Scope: batch.AutoUserScopePool, ElevationLevel: batch.ElevationLevelAdmin}},
			MaxTaskRetryCount: to.Ptr[int32](1),
			WaitForSuccess:    to.Ptr(true),
		}
		p.TaskSlotsPerNode = 2
		p.TaskSchedulingPolicy = &batch.TaskSchedulingPolicy{NodeFillType: batch.NodeFillTypePack}
		p.Metadata = []batch.MetadataItem{{Name: "suite", Value: "batchtest"}}
	})

	t.Run("get", func(t *testing.T) {
		p, err := s.c.GetPool(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != id || !strings.EqualFold(p.VMSize, s.ep.VMSize) || p.DisplayName != "conformance pool" {
			t.Errorf("pool id/vmSize/displayName = %q/%q/%q", p.ID, p.VMSize, p.DisplayName)
		}
		if p.State != batch.PoolStateActive || p.TargetDedicatedNodes != 0 || p.CurrentDedicatedNodes != 0 || p.EnableAutoScale {
			t.Errorf("pool state=%s target=%d current=%d autoscale=%v", p.State, p.TargetDedicatedNodes, p.CurrentDedicatedNodes, p.EnableAutoScale)
		}
		if p.ETag == "" || p.CreationTime.IsZero() || p.LastModified.IsZero() || p.URL == "" {
			t.Errorf("pool eTag=%q creationTime=%v lastModified=%v url=%q: want all set", p.ETag, p.CreationTime, p.LastModified, p.URL)
		}
		st := p.StartTask
		if st == nil || st.CommandLine != `/bin/sh -c "echo start"` || st.WaitForSuccess == nil || !*st.WaitForSuccess ||
			st.MaxTaskRetryCount == nil || *st.MaxTaskRetryCount != 1 || st.UserIdentity == nil || st.UserIdentity.AutoUser == nil ||
			st.UserIdentity.AutoUser.Scope != batch.AutoUserScopePool || st.UserIdentity.AutoUser.ElevationLevel != batch.ElevationLevelAdmin {
			t.Errorf("start task = %+v", st)
		}
		if p.TaskSlotsPerNode != 2 || p.TaskSchedulingPolicy == nil || p.TaskSchedulingPolicy.NodeFillType != batch.NodeFillTypePack {
			t.Errorf("taskSlotsPerNode=%d taskSchedulingPolicy=%+v", p.TaskSlotsPerNode, p.TaskSchedulingPolicy)
		}
		if len(p.Metadata) != 1 || p.Metadata[0] != (batch.MetadataItem{Name: "suite", Value: "batchtest"}) {
			t.Errorf("metadata = %+v", p.Metadata)
		}
		if vm := p.VirtualMachineConfiguration; vm == nil || vm.NodeAgentSKUID != s.ep.NodeAgentSKUID || vm.ImageReference.Offer != s.ep.Image.Offer {
			t.Errorf("virtualMachineConfiguration = %+v", vm)
		}
		sel, err := s.c.GetPool(ctx, id, &batch.GetOptions{Select: "id,state"})
		if err != nil {
			t.Fatal(err)
		}
		if sel.ID != id || sel.State != batch.PoolStateActive || sel.VMSize != "" || sel.StartTask != nil {
			t.Errorf("$select=id,state returned vmSize=%q startTask=%v, want only id and state", sel.VMSize, sel.StartTask)
		}
	})

	t.Run("exists", func(t *testing.T) {
		for _, tc := range []struct {
			id   string
			want bool
		}{{id, true}, {strings.ToUpper(id), true}, {s.id("nosuchpool"), false}} {
			got, err := s.c.PoolExists(ctx, tc.id)
			if err != nil || got != tc.want {
				t.Errorf("PoolExists(%s) = %v, %v; want %v", tc.id, got, err, tc.want)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		valid := func(id string) batch.PoolAddParameter {
			return batch.PoolAddParameter{ID: id, VMSize: s.ep.VMSize, TargetDedicatedNodes: to.Ptr[int32](0),
				VirtualMachineConfiguration: &batch.VirtualMachineConfiguration{ImageReference: s.ep.Image, NodeAgentSKUID: s.ep.NodeAgentSKUID}}
		}
		err := s.c.CreatePool(ctx, valid(strings.ToUpper(id)))
		wantError(t, "create an existing pool (ids are case-insensitive)", err, http.StatusConflict, batch.CodePoolExists)
		_, err = s.c.GetPool(ctx, s.id("nosuchpool"), nil)
		wantError(t, "get a missing pool", err, http.StatusNotFound, batch.CodePoolNotFound)
		err = s.c.DeletePool(ctx, s.id("nosuchpool"))
		wantError(t, "delete a missing pool", err, http.StatusNotFound, batch.CodePoolNotFound)
		err = s.c.ResizePool(ctx, s.id("nosuchpool"), batch.PoolResizeParameter{TargetDedicatedNodes: to.Ptr[int32](1)})
		wantError(t, "resize a missing pool", err, http.StatusNotFound, batch.CodePoolNotFound)
		err = s.c.CreatePool(ctx, valid("bad id!"))
		wantError(t, "create a pool with an invalid id", err, http.StatusBadRequest, batch.CodeInvalidPropertyValue)
		err = s.c.CreatePool(ctx, valid(strings.Repeat("a", 65)))
		wantError(t, "create a pool with a 65-character id", err, http.StatusBadRequest, batch.CodeInvalidPropertyValue)
		noSize := valid(s.id("nosize"))
		noSize.VMSize = ""
		err = s.c.CreatePool(ctx, noSize)
		wantError(t, "create a pool without vmSize", err, http.StatusBadRequest, batch.CodeMissingRequiredProperty, batch.CodeInvalidRequestBody)
		if ok, _ := s.c.PoolExists(ctx, s.id("nosize")); ok {
			t.Error("a refused pool was created")
		}
	})

	t.Run("list", func(t *testing.T) {
		other := s.pool(t, "pool2", 0, nil)
		var got []string
		pager := s.c.NewListPoolsPager(&batch.ListOptions{Filter: fmt.Sprintf("startswith(id,'%s-pool')", s.prefix), Select: "id,state", MaxResults: 1})
		for pages := 0; pager.More(); pages++ {
			if pages > 10 {
				t.Fatal("more than 10 pages")
			}
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Value) > 1 {
				t.Errorf("page has %d pools, want at most maxresults=1", len(page.Value))
			}
			for _, p := range page.Value {
				got = append(got, p.ID)
				if p.VMSize != "" {
					t.Errorf("$select=id,state returned vmSize %q", p.VMSize)
				}
			}
		}
		slices.Sort(got)
		if want := []string{id, other}; !slices.Equal(got, want) {
			t.Errorf("pools = %v, want %v", got, want)
		}
	})

	t.Run("resize", func(t *testing.T) {
		s.waitSteady(t, id)
		err := s.c.ResizePool(ctx, id, batch.PoolResizeParameter{TargetDedicatedNodes: to.Ptr[int32](1), TargetLowPriorityNodes: to.Ptr[int32](0)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.c.GetPool(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.TargetDedicatedNodes != 1 {
			t.Errorf("targetDedicatedNodes after resize = %d, want 1", p.TargetDedicatedNodes)
		}
		s.waitNodes(t, id, 1)
		nodes := s.listNodes(t, id)
		if len(nodes) != 1 || !nodes[0].IsDedicated || nodes[0].ID == "" || nodes[0].SchedulingState != batch.SchedulingStateEnabled {
			t.Errorf("nodes = %+v, want one dedicated enabled node", nodes)
		}
		if si := nodes[0].StartTaskInfo; si == nil || si.State != batch.StartTaskStateCompleted || si.ExitCode == nil || *si.ExitCode != 0 {
			t.Errorf("start task info = %+v, want completed with exit code 0", si)
		}
		// What the Status page asks for: a node's state and busy slots only.
		sel := s.listNodesWith(t, id, &batch.ListOptions{Select: "id,state,runningTaskSlotsCount,isDedicated", Filter: "state eq 'idle'", MaxResults: 1000})
		if len(sel) != 1 || sel[0].ID != nodes[0].ID || sel[0].State != batch.NodeStateIdle || !sel[0].IsDedicated || sel[0].RunningTaskSlotsCount != 0 {
			t.Errorf("nodes with $filter=state eq 'idle' = %+v, want the one idle node", sel)
		} else if sel[0].VMSize != "" || sel[0].StartTaskInfo != nil || sel[0].URL != "" {
			t.Errorf("$select=id,state,runningTaskSlotsCount,isDedicated returned vmSize=%q startTaskInfo=%v url=%q", sel[0].VMSize, sel[0].StartTaskInfo, sel[0].URL)
		}
		if busy := s.listNodesWith(t, id, &batch.ListOptions{Filter: "state eq 'running'"}); len(busy) != 0 {
			t.Errorf("nodes with $filter=state eq 'running' = %+v, want none on an idle pool", busy)
		}
		err = s.c.ResizePool(ctx, id, batch.PoolResizeParameter{TargetDedicatedNodes: to.Ptr[int32](0), NodeDeallocationOption: batch.NodeDeallocationOptionTaskCompletion})
		if err != nil {
			t.Fatal(err)
		}
		s.eventually(t, "pool shrinks to 0 nodes", func() (bool, string) {
			p, err := s.c.GetPool(ctx, id, nil)
			if err != nil {
				return false, err.Error()
			}
			return p.AllocationState == batch.PoolAllocationStateSteady && p.CurrentDedicatedNodes == 0,
				fmt.Sprintf("allocationState=%s current=%d", p.AllocationState, p.CurrentDedicatedNodes)
		})
	})

	t.Run("delete", func(t *testing.T) {
		doomed := s.pool(t, "doomed", 0, nil)
		if err := s.c.DeletePool(ctx, doomed); err != nil {
			t.Fatal(err)
		}
		s.eventually(t, "deleted pool disappears", func() (bool, string) {
			p, err := s.c.GetPool(ctx, doomed, nil)
			switch {
			case batch.HasCode(err, batch.CodePoolNotFound):
				return true, ""
			case err != nil:
				return false, err.Error()
			case p.State != batch.PoolStateDeleting:
				t.Errorf("pool state after delete = %s, want deleting or gone", p.State)
			}
			// While it is deleting, changes are refused.
			err = s.c.ResizePool(ctx, doomed, batch.PoolResizeParameter{TargetDedicatedNodes: to.Ptr[int32](1)})
			wantOneOf(t, "resize a deleting pool", err, statusCode{http.StatusConflict, batch.CodePoolBeingDeleted}, statusCode{http.StatusNotFound, batch.CodePoolNotFound})
			return false, "state=" + string(p.State)
		})
		if ok, err := s.c.PoolExists(ctx, doomed); err != nil || ok {
			t.Errorf("PoolExists after delete = %v, %v; want false", ok, err)
		}
	})
}

func (s *suite) waitSteady(t *testing.T, poolID string) {
	t.Helper()
	s.eventually(t, "pool "+poolID+" steady", func() (bool, string) {
		p, err := s.c.GetPool(ctxFor(t), poolID, nil)
		if err != nil {
			return false, err.Error()
		}
		return p.AllocationState == batch.PoolAllocationStateSteady, "allocationState=" + string(p.AllocationState)
	})
}

// waitNodes waits until the pool is steady with n dedicated nodes that are
// all idle (ready for tasks).
func (s *suite) waitNodes(t *testing.T, poolID string, n int32) {
	t.Helper()
	s.eventually(t, fmt.Sprintf("pool %s has %d idle nodes", poolID, n), func() (bool, string) {
		p, err := s.c.GetPool(ctxFor(t), poolID, nil)
		if err != nil {
			return false, err.Error()
		}
		if p.AllocationState != batch.PoolAllocationStateSteady || p.CurrentDedicatedNodes != n {
			return false, fmt.Sprintf("allocationState=%s currentDedicatedNodes=%d", p.AllocationState, p.CurrentDedicatedNodes)
		}
		nodes := s.listNodes(t, poolID)
		var states []string
		idle := 0
		for _, nd := range nodes {
			states = append(states, string(nd.State))
			if nd.State == batch.NodeStateIdle {
				idle++
			}
		}
		return idle == int(n), fmt.Sprintf("node states %v", states)
	})
}

func (s *suite) listNodes(t *testing.T, poolID string) []batch.Node {
	t.Helper()
	return s.listNodesWith(t, poolID, nil)
}

func (s *suite) listNodesWith(t *testing.T, poolID string, opts *batch.ListOptions) []batch.Node {
	t.Helper()
	pager := s.c.NewListNodesPager(poolID, opts)
	var nodes []batch.Node
	for pages := 0; pager.More() && pages < 100; pages++ {
		page, err := pager.NextPage(ctxFor(t))
		if err != nil {
			t.Fatalf("list nodes of %s: %v", poolID, err)
		}
		nodes = append(nodes, page.Value...)
	}
	return nodes
}
