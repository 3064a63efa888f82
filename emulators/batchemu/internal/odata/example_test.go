package odata_test

import (
	"encoding/json"
	"fmt"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/odata"
)

func ExampleFilter_Match() {
	f, err := odata.ParseFilter("state eq 'completed' and (executionInfo/exitCode lt 0 or executionInfo/exitCode gt 0)")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, doc := range []string{
		`{"id":"t1","state":"completed","executionInfo":{"exitCode":0}}`,
		`{"id":"t2","state":"completed","executionInfo":{"exitCode":2}}`,
		`{"id":"t3","state":"active"}`,
	} {
		var task map[string]any
		if err := json.Unmarshal([]byte(doc), &task); err != nil {
			fmt.Println(err)
			return
		}
		ok, err := f.Match(task)
		fmt.Println(task["id"], ok, err)
	}
	// Output:
	// t1 false <nil>
	// t2 true <nil>
	// t3 false <nil>
}

func ExampleParseFilter_error() {
	_, err := odata.ParseFilter("state = 'completed'")
	fmt.Println(err)
	// Output:
	// invalid $filter expression: unexpected character '=' at position 7
}

func ExampleSelect() {
	task := map[string]any{"id": "t1", "state": "active", "url": "https://x/jobs/j/tasks/t1"}
	m, err := odata.Select(task, "id,state,executionInfo")
	fmt.Println(m, err)
	// Output:
	// map[id:t1 state:active] <nil>
}
