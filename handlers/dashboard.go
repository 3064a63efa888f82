package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/dashboard"
)

// dashboardDataView is the route parameter under which the Dashboard
// function answers the Status page's JSON.
const dashboardDataView = "status"

// Dashboard answers GET /api/dashboard with the operator's page
// (internal/dashboard) and GET /api/dashboard/status with the Status
// page's JSON (the same document as GET /api/status without blob, built by
// the same code), which the page polls. So one function key, the
// Dashboard's, opens the page and its data; the host checks it
// (authLevel function) before the request reaches the handler.
func (a *App) Dashboard(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	hr, ok, err := httpGet(req, resp)
	if !ok {
		return resp, err
	}
	switch view := strings.ToLower(hr.Params["view"]); view {
	case "":
	case dashboardDataView:
		return resp, a.statusPage(ctx, resp, hr.Query)
	default:
		return resp, resp.SetHTTP(bindingResponse, http.StatusNotFound, errorView{"no dashboard view " + view})
	}
	page, err := dashboard.Render()
	if err != nil {
		return nil, err
	}
	resp.SetHTTPResponse(bindingResponse, customhandler.HTTPResponse{StatusCode: http.StatusOK, Body: page.HTML, Headers: page.Headers})
	return resp, nil
}
