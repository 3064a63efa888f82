package odata

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	obj := map[string]any{
		"id":            "task1",
		"state":         "completed",
		"executionInfo": map[string]any{"exitCode": 0.0},
		"url":           "https://x/jobs/j/tasks/task1",
	}
	tests := []struct {
		name string
		expr string
		want map[string]any
	}{
		{"reference list", "id,state,executionInfo", map[string]any{"id": "task1", "state": "completed", "executionInfo": map[string]any{"exitCode": 0.0}}},
		{"single", "id", map[string]any{"id": "task1"}},
		{"spaces around names", " id , state ", map[string]any{"id": "task1", "state": "completed"}},
		{"duplicate names", "id,id", map[string]any{"id": "task1"}},
		{"absent optional property is left out", "id,nodeInfo", map[string]any{"id": "task1"}},
		{"names are case-sensitive", "ID,state", map[string]any{"state": "completed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(obj, tt.expr)
			if err != nil {
				t.Fatalf("Select(%q): %v", tt.expr, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Select(%q) = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
	if len(obj) != 4 {
		t.Errorf("Select modified its input: %v", obj)
	}
}

func TestSelectErrors(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		wantPos int
		wantMsg string
	}{
		{"empty", "", 1, "empty"},
		{"empty item", "id,,state", 4, "empty property name"},
		{"trailing comma", "id,", 4, "empty property name"},
		{"nested path", "id,executionInfo/exitCode", 4, "only top-level"},
		{"invalid name", "id, st ate", 5, "not a valid property name"},
		{"star", "*", 1, "not a valid property name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Select(map[string]any{"id": "x"}, tt.expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Select(%q) error = %v, want *SyntaxError", tt.expr, err)
			}
			if se.Pos+1 != tt.wantPos || !strings.Contains(se.Msg, tt.wantMsg) || se.Option != "$select" {
				t.Errorf("error = %q (pos %d), want position %d and message containing %q", err, se.Pos+1, tt.wantPos, tt.wantMsg)
			}
		})
	}
}

func TestValidateSelect(t *testing.T) {
	known := []string{"id", "state", "executionInfo", "nodeInfo"}
	tests := []struct {
		name    string
		expr    string
		wantErr string
	}{
		{"all known", "id,state,executionInfo,nodeInfo", ""},
		{"unknown property", "id,stat", `unknown property "stat"`},
		{"case matters", "Id", `unknown property "Id"`},
		{"syntax error first", "id,,x", "empty property name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSelect(tt.expr, known)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateSelect(%q) = %v, want nil", tt.expr, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateSelect(%q) = %v, want error containing %q", tt.expr, err, tt.wantErr)
			}
		})
	}
	err := ValidateSelect("id,stat", known)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Pos != 3 {
		t.Errorf("unknown property position = %+v, want 3", se)
	}
}
