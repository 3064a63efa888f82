package batch

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func addFakeTasks(t *testing.T, f *fakeBatch, c *Client, job string, n int) {
	t.Helper()
	if err := c.CreateJob(context.Background(), JobAddParameter{ID: job, PoolInfo: PoolInfo{PoolID: "p"}}); err != nil {
		t.Fatal(err)
	}
	tasks := make([]TaskAddParameter, n)
	for i := range tasks {
		tasks[i] = TaskAddParameter{ID: "t" + strconv.Itoa(i), CommandLine: "true"}
	}
	res, err := c.AddTasks(context.Background(), job, tasks, nil)
	if err != nil || len(res.Added) != n {
		t.Fatalf("AddTasks: %v, %+v", err, res)
	}
}

func TestListPaging(t *testing.T) {
	tests := []struct {
		name               string
		tasks              int
		maxResults         int32
		nextLinkAPIVersion bool
		wantPages          int
	}{
		{"one page", 3, 0, false, 1},
		{"link without api-version", 25, 10, false, 3},
		{"link with api-version", 25, 10, true, 3},
		{"exact multiple", 20, 10, false, 2},
		{"empty", 0, 10, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeBatch(t)
			f.nextLinkAPIVersion = tt.nextLinkAPIVersion
			c := f.client(t, fakeKey)
			if tt.tasks > 0 {
				addFakeTasks(t, f, c, "j1", tt.tasks)
			}
			pager := c.NewListTasksPager("j1", &ListOptions{MaxResults: tt.maxResults, Select: "id,state", Filter: "state eq 'active'"})
			var ids []string
			pages := 0
			for pager.More() && pages < 100 {
				page, err := pager.NextPage(context.Background())
				if err != nil {
					t.Fatalf("page %d: %v", pages, err)
				}
				pages++
				for _, task := range page.Value {
					ids = append(ids, task.ID)
				}
			}
			if pages != tt.wantPages || len(ids) != tt.tasks {
				t.Errorf("got %d pages with %d tasks, want %d pages with %d", pages, len(ids), tt.wantPages, tt.tasks)
			}
			for i, id := range ids {
				if id != "t"+strconv.Itoa(i) {
					t.Fatalf("task %d = %s, want t%d", i, id, i)
				}
			}
			var lists []recordedRequest
			for _, r := range f.recorded() {
				if r.Method == "GET" && strings.HasSuffix(r.Path, "/tasks") {
					lists = append(lists, r)
				}
			}
			for i, r := range lists {
				q, _ := url.ParseQuery(r.Query)
				if len(q["api-version"]) != 1 || q.Get("api-version") != DefaultAPIVersion {
					t.Errorf("request %d query %q: want exactly one api-version", i, r.Query)
				}
				if i == 0 && (q.Get("$filter") != "state eq 'active'" || q.Get("$select") != "id,state") {
					t.Errorf("first request query %q lacks the OData options", r.Query)
				}
				if i == 0 && strings.Contains(r.Query, "+") {
					t.Errorf("first request query %q encodes spaces as +, want %%20", r.Query)
				}
				if i > 0 && !strings.Contains(r.Query, "%24skiptoken=") {
					t.Errorf("request %d query %q is not the next link", i, r.Query)
				}
			}
		})
	}
}

func TestListOptionsErrors(t *testing.T) {
	c := newFakeBatch(t).client(t, fakeKey)
	_, err := c.NewListPoolsPager(&ListOptions{MaxResults: 1001}).NextPage(context.Background())
	if err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("err = %v, want out of range", err)
	}
}

func TestNextLinkRequest(t *testing.T) {
	c := newFakeBatch(t).client(t, fakeKey)
	tests := []struct {
		name, link, want, wantErr string
	}{
		{name: "absolute without version", link: c.Endpoint() + "/jobs?$skiptoken=abc", want: c.Endpoint() + "/jobs?$skiptoken=abc&api-version=" + DefaultAPIVersion},
		{name: "absolute with version kept verbatim", link: c.Endpoint() + "/jobs?api-version=2022-10-01.16.0&$skiptoken=a%2Fb", want: c.Endpoint() + "/jobs?api-version=2022-10-01.16.0&$skiptoken=a%2Fb"},
		{name: "relative", link: "/jobs?$skiptoken=x", want: c.Endpoint() + "/jobs?$skiptoken=x&api-version=" + DefaultAPIVersion},
		{name: "other host refused", link: "https://evil.example/jobs", wantErr: "not on the endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := c.nextLinkRequest(context.Background(), tt.link)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := req.Raw().URL.String(); got != tt.want {
				t.Errorf("url = %s, want %s", got, tt.want)
			}
		})
	}
}
