package handlers

import (
	"context"
	"net/http"

	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/dashboard"
)

// Dashboard answers GET /api/dashboard with the operator's page
// (internal/dashboard), which polls the Status function next to it with
// the same function key. The host checks the key (authLevel function)
// before the request reaches the handler.
func (a *App) Dashboard(_ context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	hr, err := req.HTTP(bindingRequest)
	if err != nil {
		return nil, err
	}
	if hr.Method != http.MethodGet {
		return resp, resp.SetHTTP(bindingResponse, http.StatusMethodNotAllowed, errorView{"only GET is supported"})
	}
	page, err := dashboard.Render()
	if err != nil {
		return nil, err
	}
	resp.SetHTTPResponse(bindingResponse, customhandler.HTTPResponse{StatusCode: http.StatusOK, Body: page.HTML, Headers: page.Headers})
	return resp, nil
}
