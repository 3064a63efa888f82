package batchemu

import "github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"

// recover runs once at start-up on loaded state: every node "reboots"
// (its start task runs again) and tasks that were running are requeued.
func (s *Server) recover() {
	now := s.now()
	for _, j := range s.st.Jobs {
		for _, t := range j.Tasks {
			if t.Task.State != wire.TaskRunning {
				continue
			}
			s.setTaskState(t, wire.TaskActive, now)
			ei := &t.Task.ExecutionInfo
			ei.RequeueCount++
			ei.LastRequeueTime = wire.AtPtr(now)
			t.Task.NodeInfo = nil
			s.touchTask(j, t, now)
		}
	}
	for _, j := range s.st.Jobs {
		for k, st := range j.Prep {
			switch {
			case st.Prep != nil && st.Prep.State == "running":
				delete(j.Prep, k) // prepare again after the "reboot"
			case st.Release != nil && st.Release.State == "running":
				st.Release = nil // release again
			}
		}
	}
	for _, p := range s.st.Pools {
		for _, n := range p.Nodes {
			n.Node.RunningTasksCount = 0
			n.Node.RunningTaskSlotsCount = 0
			if n.Node.State == wire.NodeStartTaskFailed || n.Leaving {
				continue
			}
			n.ReadyAt = now
			n.Node.StartTaskInfo = nil
			setNodeState(n, wire.NodeStarting, now)
		}
	}
	s.markDirty()
}
