package runs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// rowOf stores what json.Marshal writes, in a slice of its own (not the
// pooled scratch buffer, which the next row reuses), and fails as
// json.Marshal does on a state it cannot encode.
func TestRowOfState(t *testing.T) {
	st := &history.State{
		Domain: "d", WorkflowID: "w", RunID: "r", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		StartTime: time.Date(2024, 3, 1, 12, 0, 0, 5, time.UTC), Open: true, NextEventID: 3,
		Activities: map[string]*history.Activity{"a": {ActivityID: "a<&>"}},
	}
	want, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	row, err := rowOf(st, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(row.State, want) || row.Version != 7 || row.WorkflowID != "w" {
		t.Fatalf("row %+v\nstate %s\nwant  %s", row, row.State, want)
	}
	other, err := rowOf(&history.State{Domain: "x"}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(row.State, want) || string(other.State) != `{"Domain":"x","Activities":null,"Timers":null,"Children":null,"Externals":null,"Lambdas":null}` {
		t.Fatalf("rows share a buffer: %s, %s", row.State, other.State)
	}

	st.CloseTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	_, jerr := json.Marshal(st)
	if _, err := rowOf(st, 8, nil); err == nil || jerr == nil || err.Error() != "encode state: "+jerr.Error() || !strings.Contains(err.Error(), "year outside of range") {
		t.Fatalf("rowOf error %v, json.Marshal's %v", err, jerr)
	}
}
