package batchemu

import (
	"net/http"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// routes maps every supported Batch operation; anything else is a 404
// ResourceNotFound or 405 UnsupportedHttpVerb with a Batch error body.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	h := func(pattern string, f handlerFunc) { m.Handle(pattern, s.handle(f)) }

	h("POST /pools", s.addPool)
	h("GET /pools", s.listPools)
	h("GET /pools/{poolId}", s.getPool)
	h("HEAD /pools/{poolId}", s.getPool)
	h("DELETE /pools/{poolId}", s.deletePool)
	h("PATCH /pools/{poolId}", s.patchPool)
	h("POST /pools/{poolId}/resize", s.resizePool)
	h("POST /pools/{poolId}/updateproperties", s.updatePoolProperties)
	h("POST /pools/{poolId}/stopresize", s.stopResizePool)
	h("POST /pools/{poolId}/enableautoscale", s.enableAutoScale)
	h("POST /pools/{poolId}/disableautoscale", s.disableAutoScale)
	h("POST /pools/{poolId}/evaluateautoscale", s.evaluateAutoScale)
	h("POST /pools/{poolId}/removenodes", s.removeNodes)
	h("GET /pools/{poolId}/nodes", s.listNodes)
	h("GET /pools/{poolId}/nodes/{nodeId}", s.getNode)
	h("POST /pools/{poolId}/nodes/{nodeId}/reboot", s.rebootNode)
	h("POST /pools/{poolId}/nodes/{nodeId}/reimage", s.reimageNode)
	h("POST /pools/{poolId}/nodes/{nodeId}/disablescheduling", s.disableNodeScheduling)
	h("POST /pools/{poolId}/nodes/{nodeId}/enablescheduling", s.enableNodeScheduling)
	h("GET /pools/{poolId}/nodes/{nodeId}/files", inFiles(s.nodeFiles, listFiles))
	h("GET /pools/{poolId}/nodes/{nodeId}/files/{filePath...}", inFiles(s.nodeFiles, serveFile))
	h("HEAD /pools/{poolId}/nodes/{nodeId}/files/{filePath...}", inFiles(s.nodeFiles, serveFile))
	h("DELETE /pools/{poolId}/nodes/{nodeId}/files/{filePath...}", inFiles(s.nodeFiles, deleteFile))

	h("POST /jobs", s.addJob)
	h("GET /jobs", s.listJobs)
	h("GET /jobs/{jobId}", s.getJob)
	h("DELETE /jobs/{jobId}", s.deleteJob)
	h("PATCH /jobs/{jobId}", s.patchJob)
	h("PUT /jobs/{jobId}", s.updateJob)
	h("POST /jobs/{jobId}/terminate", s.terminateJob)
	h("POST /jobs/{jobId}/disable", s.disableJob)
	h("POST /jobs/{jobId}/enable", s.enableJob)
	h("GET /jobs/{jobId}/taskcounts", s.getTaskCounts)
	h("GET /jobs/{jobId}/jobpreparationandreleasetaskstatus", s.listPrepReleaseStatus)

	h("POST /jobs/{jobId}/tasks", s.addTask)
	h("GET /jobs/{jobId}/tasks", s.listTasks)
	h("POST /jobs/{jobId}/addtaskcollection", s.addTaskCollection)
	h("GET /jobs/{jobId}/tasks/{taskId}", s.getTask)
	h("PUT /jobs/{jobId}/tasks/{taskId}", s.updateTask)
	h("DELETE /jobs/{jobId}/tasks/{taskId}", s.deleteTask)
	h("POST /jobs/{jobId}/tasks/{taskId}/terminate", s.terminateTask)
	h("POST /jobs/{jobId}/tasks/{taskId}/reactivate", s.reactivateTask)
	h("GET /jobs/{jobId}/tasks/{taskId}/files", inFiles(s.taskFiles, listFiles))
	h("GET /jobs/{jobId}/tasks/{taskId}/files/{filePath...}", inFiles(s.taskFiles, serveFile))
	h("HEAD /jobs/{jobId}/tasks/{taskId}/files/{filePath...}", inFiles(s.taskFiles, serveFile))
	h("DELETE /jobs/{jobId}/tasks/{taskId}/files/{filePath...}", inFiles(s.taskFiles, deleteFile))

	m.Handle("/", s.handle(func(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
		for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = method
			if _, pattern := m.Handler(probe); pattern != "/" {
				return wireerr.UnsupportedVerb(r.Method)
			}
		}
		return wireerr.ResourceNotFound()
	}))
	return m
}
