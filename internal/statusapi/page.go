package statusapi

import (
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
)

// Schema is the value of Page.Schema for this version of the document.
const Schema = "ffbatch.status/v1"

// Page is the Status API's answer without ?blob=.
type Page struct {
	Schema      string    `json:"schema"`
	GeneratedAt time.Time `json:"generatedAt"`
	Query       Query     `json:"query"`
	// Containers are the containers rows can be listed for: the input
	// container first, then the upstream containers.
	Containers []string `json:"containers"`
	Rows       []Row    `json:"rows"`
	// Next continues the listing (the query's marker), absent at the end.
	Next     string            `json:"next,omitempty"`
	Scan     Scan              `json:"scan"`
	Activity Activity          `json:"activity"`
	Pool     *Pool             `json:"pool"`
	Tasks    *batch.TaskCounts `json:"tasks"`
	Queue    Queue             `json:"queue"`
	// Problems name the parts that could not be read, without secrets.
	Problems []string `json:"problems,omitempty"`
}

// Row is a file's row with its live state and links.
type Row struct {
	lifecycle.Row
	Links *Links `json:"links,omitempty"`
}

// Links are read-only SAS URLs of one blob each, valid until ExpiresAt.
type Links struct {
	Output    string    `json:"output,omitempty"`
	Stdout    string    `json:"stdout,omitempty"`
	Stderr    string    `json:"stderr,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Scan is what listing the rows cost.
type Scan struct {
	// Listed records, in Requests List Blobs requests.
	Listed   int `json:"listed"`
	Requests int `json:"requests"`
	// Limited is set when a state filter stopped before finding Limit rows.
	Limited bool `json:"limited"`
}

// Activity is the last hour's answers, per minute, with totals.
type Activity struct {
	WindowMinutes int                     `json:"windowMinutes"`
	Minutes       []lifecycle.MinuteCount `json:"minutes"`
	Totals        Totals                  `json:"totals"`
	Recent        []lifecycle.Answer      `json:"recent"`
}

// Totals add up the minutes.
type Totals struct {
	Succeeded   int   `json:"succeeded"`
	Failed      int   `json:"failed"`
	Reused      int   `json:"reused"`
	Refused     int   `json:"refused"`
	AudioMillis int64 `json:"audioMillis"`
}

// Pool is the pool's size, autoscale target and nodes.
type Pool struct {
	ID              string `json:"id"`
	State           string `json:"state"`
	AllocationState string `json:"allocationState"`
	Autoscale       bool   `json:"autoscale"`
	// Target* are the sizes the pool is heading for (autoscale's or a
	// resize's target), Current* the sizes it has.
	TargetDedicated  int32 `json:"targetDedicatedNodes"`
	TargetSpot       int32 `json:"targetSpotNodes"`
	CurrentDedicated int32 `json:"currentDedicatedNodes"`
	CurrentSpot      int32 `json:"currentSpotNodes"`
	TaskSlotsPerNode int32 `json:"taskSlotsPerNode"`
	// Nodes are the first page of nodes; NodesTruncated says there are more.
	Nodes          []Node       `json:"nodes"`
	NodesTruncated bool         `json:"nodesTruncated"`
	Heat           map[Heat]int `json:"heat"`
	Slots          Slots        `json:"slots"`
}

// Slots count the task slots of the listed nodes.
type Slots struct {
	Total   int32 `json:"total"`
	Running int32 `json:"running"`
}

// Node is one compute node.
type Node struct {
	ID           string `json:"id"`
	State        string `json:"state"`
	Heat         Heat   `json:"heat"`
	RunningSlots int32  `json:"runningSlots"`
	Dedicated    bool   `json:"dedicated"`
}

// Queue is the arrivals queue's depth, when the app may read it.
type Queue struct {
	Name  string `json:"name"`
	Known bool   `json:"known"`
	// Reason says why the depth is unknown.
	Reason     string `json:"reason,omitempty"`
	Active     int64  `json:"active"`
	Scheduled  int64  `json:"scheduled"`
	DeadLetter int64  `json:"deadLetter"`
}
