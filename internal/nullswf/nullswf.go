// Package nullswf is a measuring tool, not a workflow service: an HTTP
// handler that answers the calls `swf bench` makes (registering its domain
// and types, starting workflows, polling for and completing decision and
// activity tasks) with the shapes SWF answers with, and does nothing else.
// It validates nothing, keeps no executions, writes nothing to disk and
// enforces no timeout; the only thing it holds is the tasks waiting on their
// task lists. A task carries everything the next step needs in its token
// (the run, its type, how many activities have completed), so a decision
// task's history is made up from the token when it is handed out.
//
// What it costs per workflow is the floor any SWF server pays on the same
// machine for HTTP, JSON and long polls: swfd's cost is measured against it
// (see BENCHMARKS.md, and cmd/swfd-null, which serves it).
package nullswf

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Handler serves the null service. The zero value is ready to use.
type Handler struct {
	// PollTimeout is how long a poll waits for a task (default 60s).
	PollTimeout time.Duration

	mu    sync.Mutex
	lists map[string]chan *task
}

// task is a decision or activity task waiting on a list, and (JSON, in
// base64) its token.
type task struct {
	Decision     bool   `json:"d,omitempty"`
	WorkflowID   string `json:"w"`
	RunID        string `json:"r"`
	TypeName     string `json:"tn"`
	TypeVersion  string `json:"tv"`
	DecisionList string `json:"dl"`
	Input        string `json:"i,omitempty"`
	Done         int    `json:"n"` // activities completed before this task
	ActivityID   string `json:"a,omitempty"`
	ActName      string `json:"an,omitempty"`
	ActVersion   string `json:"av,omitempty"`
}

const targetPrefix = "SimpleWorkflowService."

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	var out any
	switch op {
	case "RegisterDomain", "RegisterWorkflowType", "RegisterActivityType":
	case "StartWorkflowExecution":
		out = h.start(body)
	case "PollForDecisionTask":
		out = h.poll(r, body, true)
	case "PollForActivityTask":
		out = h.poll(r, body, false)
	case "RespondDecisionTaskCompleted":
		h.decided(body)
	case "RespondActivityTaskCompleted":
		h.completed(body)
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"com.amazon.coral.service#UnknownOperationException","message":"the null server does not implement `+strconv.Quote(op)[1:])
		io.WriteString(w, `}`)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if out == nil {
		w.Header().Set("Content-Length", "0")
		return
	}
	js, err := json.Marshal(out)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(js)))
	w.Write(js)
}

func (h *Handler) list(name string) chan *task {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lists == nil {
		h.lists = map[string]chan *task{}
	}
	c, ok := h.lists[name]
	if !ok {
		c = make(chan *task, 1<<16)
		h.lists[name] = c
	}
	return c
}

type named struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type execution struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
}

func (h *Handler) start(body []byte) any {
	var in struct {
		WorkflowID   string `json:"workflowId"`
		WorkflowType named  `json:"workflowType"`
		TaskList     named  `json:"taskList"`
		Input        string `json:"input"`
	}
	json.Unmarshal(body, &in)
	t := &task{Decision: true, WorkflowID: in.WorkflowID, RunID: newRunID(), TypeName: in.WorkflowType.Name,
		TypeVersion: in.WorkflowType.Version, DecisionList: in.TaskList.Name, Input: in.Input}
	h.list(t.DecisionList) <- t
	return struct {
		RunID string `json:"runId"`
	}{t.RunID}
}

func (h *Handler) poll(r *http.Request, body []byte, decision bool) any {
	var in struct {
		TaskList named `json:"taskList"`
	}
	json.Unmarshal(body, &in)
	timeout := h.PollTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	var t *task
	select {
	case t = <-h.list(in.TaskList.Name):
	case <-tm.C:
	case <-r.Context().Done():
	}
	if t == nil {
		if decision {
			return struct {
				StartedEventID int `json:"startedEventId"`
			}{}
		}
		return struct{}{}
	}
	token, _ := json.Marshal(t)
	tok := base64.RawURLEncoding.EncodeToString(token)
	exec := execution{t.WorkflowID, t.RunID}
	if !decision {
		return struct {
			TaskToken         string    `json:"taskToken"`
			ActivityID        string    `json:"activityId"`
			StartedEventID    int       `json:"startedEventId"`
			WorkflowExecution execution `json:"workflowExecution"`
			ActivityType      named     `json:"activityType"`
			Input             string    `json:"input"`
		}{tok, t.ActivityID, 6*t.Done + 6, exec, named{t.ActName, t.ActVersion}, strconv.Itoa(t.Done)}
	}
	events := history(t, time.Now())
	return struct {
		TaskToken              string    `json:"taskToken"`
		StartedEventID         int       `json:"startedEventId"`
		PreviousStartedEventID int       `json:"previousStartedEventId"`
		WorkflowExecution      execution `json:"workflowExecution"`
		WorkflowType           named     `json:"workflowType"`
		Events                 []event   `json:"events"`
	}{tok, len(events), max(0, len(events)-6), exec, named{t.TypeName, t.TypeVersion}, events}
}

// event is a history event: its id, type, time and attributes.
type event struct {
	EventID   int     `json:"eventId"`
	EventType string  `json:"eventType"`
	Timestamp float64 `json:"eventTimestamp"`
	Attrs     map[string]any
}

// MarshalJSON writes the attributes under the member SWF names for the
// event's type.
func (e event) MarshalJSON() ([]byte, error) {
	m := map[string]any{"eventId": e.EventID, "eventType": e.EventType, "eventTimestamp": e.Timestamp}
	attr := strings.ToLower(e.EventType[:1]) + e.EventType[1:] + "EventAttributes"
	m[attr] = e.Attrs
	return json.Marshal(m)
}

// history makes up the events a decider would be given for t: the start,
// and for each completed activity the decision that scheduled it, its start
// and completion, then the decision task now started.
func history(t *task, now time.Time) []event {
	ts := float64(now.UnixMilli()) / 1000
	list := map[string]any{"name": t.DecisionList}
	var evs []event
	add := func(typ string, attrs map[string]any) int {
		evs = append(evs, event{EventID: len(evs) + 1, EventType: typ, Timestamp: ts, Attrs: attrs})
		return len(evs)
	}
	add("WorkflowExecutionStarted", map[string]any{"workflowType": named{t.TypeName, t.TypeVersion}, "taskList": list,
		"input": t.Input, "childPolicy": "TERMINATE", "executionStartToCloseTimeout": "3600", "taskStartToCloseTimeout": "300"})
	sched := add("DecisionTaskScheduled", map[string]any{"taskList": list, "startToCloseTimeout": "300"})
	for i := 0; i < t.Done; i++ {
		started := add("DecisionTaskStarted", map[string]any{"scheduledEventId": sched, "identity": "bench-decider"})
		completed := add("DecisionTaskCompleted", map[string]any{"scheduledEventId": sched, "startedEventId": started})
		id := "a" + strconv.Itoa(i)
		as := add("ActivityTaskScheduled", map[string]any{"activityId": id, "activityType": named{"bench-activity", "1"},
			"taskList": map[string]any{"name": "workers"}, "input": strconv.Itoa(i), "decisionTaskCompletedEventId": completed})
		ast := add("ActivityTaskStarted", map[string]any{"scheduledEventId": as, "identity": "bench-worker"})
		add("ActivityTaskCompleted", map[string]any{"scheduledEventId": as, "startedEventId": ast, "result": "done"})
		sched = add("DecisionTaskScheduled", map[string]any{"taskList": list, "startToCloseTimeout": "300"})
	}
	add("DecisionTaskStarted", map[string]any{"scheduledEventId": sched, "identity": "bench-decider"})
	return evs
}

func (h *Handler) decided(body []byte) {
	var in struct {
		TaskToken string `json:"taskToken"`
		Decisions []struct {
			DecisionType string `json:"decisionType"`
			Schedule     *struct {
				ActivityID   string `json:"activityId"`
				ActivityType named  `json:"activityType"`
				TaskList     *named `json:"taskList"`
			} `json:"scheduleActivityTaskDecisionAttributes"`
		} `json:"decisions"`
	}
	json.Unmarshal(body, &in)
	t, ok := decodeToken(in.TaskToken)
	if !ok {
		return
	}
	for _, d := range in.Decisions {
		if d.DecisionType != "ScheduleActivityTask" || d.Schedule == nil || d.Schedule.TaskList == nil {
			continue
		}
		a := *t
		a.Decision = false
		a.ActivityID, a.ActName, a.ActVersion = d.Schedule.ActivityID, d.Schedule.ActivityType.Name, d.Schedule.ActivityType.Version
		h.list(d.Schedule.TaskList.Name) <- &a
	}
}

func (h *Handler) completed(body []byte) {
	var in struct {
		TaskToken string `json:"taskToken"`
	}
	json.Unmarshal(body, &in)
	t, ok := decodeToken(in.TaskToken)
	if !ok {
		return
	}
	d := *t
	d.Decision, d.Done = true, t.Done+1
	d.ActivityID, d.ActName, d.ActVersion = "", "", ""
	h.list(d.DecisionList) <- &d
}

func decodeToken(s string) (*task, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var t task
	return &t, json.Unmarshal(raw, &t) == nil
}

// newRunID returns a random run id shaped like SWF's.
func newRunID() string {
	var b [33]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])[:44]
}
