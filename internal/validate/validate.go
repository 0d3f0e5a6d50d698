// Package validate checks the semantic rules of SWF's input that the
// service model cannot express (name characters, duration strings, numeric
// strings) and reports every violation of a request at once, in one
// ValidationException worded like the model-driven checks' (package api).
package validate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/swfd/swfd/api"
)

// Checker collects the violations of one request; Err reports them like
// the framework's own: "N validation errors detected: ...", as many listed
// as api.Violations lists. The zero value is ready to use.
type Checker struct{ errs api.Violations }

// Add records that val at path breaks constraint.
func (c *Checker) Add(val, path, constraint string) {
	c.errs.Add(api.Quote(val), path, constraint)
}

// Err returns the violations recorded as one ValidationException, or nil.
func (c *Checker) Err() error { return c.errs.Err() }

// Name checks SWF's name rule (api.NameProblem). Empty values are left to
// the model's checks.
func (c *Checker) Name(path, v string) {
	if p := api.NameProblem(v); p != "" {
		c.Add(v, path, p)
	}
}

// TrimmedName is Name plus no leading or trailing white space (domain
// names and task lists).
func (c *Checker) TrimmedName(path, v string) {
	if v != "" && strings.TrimSpace(v) != v {
		c.Add(v, path, "Member must not start or end with white space")
		return
	}
	c.Name(path, v)
}

// Duration checks a wire duration: digits, or NONE when allowed. An empty
// one is not checked: it is taken as not given (the type's default applies),
// as the model lets optional durations be empty.
func (c *Checker) Duration(path, v string, noneOK bool) {
	if v == "" {
		return
	}
	if v == "NONE" {
		if !noneOK {
			c.Add(v, path, "Member must be a number of seconds (NONE is not allowed)")
		}
		return
	}
	if _, err := strconv.ParseUint(v, 10, 32); err != nil {
		if noneOK {
			c.Add(v, path, "Member must be a number of seconds or NONE")
		} else {
			c.Add(v, path, "Member must be a number of seconds")
		}
	}
}

// ExecutionTimeout checks an execution start-to-close timeout: digits, at
// most one year, never NONE.
func (c *Checker) ExecutionTimeout(path, v string) {
	if v == "" {
		return
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > 31536000 {
		c.Add(v, path, "Member must be a number of seconds no greater than 31536000")
	}
}

// Priority checks a task priority: a signed 32-bit integer.
func (c *Checker) Priority(path, v string) {
	if v == "" {
		return
	}
	if _, err := strconv.ParseInt(v, 10, 32); err != nil {
		c.Add(v, path, "Member must be an integer between -2147483648 and 2147483647")
	}
}

// TaskList checks a task list name, if the task list is given.
func (c *Checker) TaskList(path string, tl *api.TaskList) {
	if tl != nil {
		c.TrimmedName(path+".name", tl.Name)
	}
}

// UniqueTagKeys checks that no two of a request's domain tags share a key.
// A domain keeps one value per key, so a request that gave a key twice
// would keep one value while an IAM condition on aws:RequestTag/KEY is
// shown both; the request is refused instead, before anything is
// authorized or stored. Keys are compared exactly, as the domain compares
// them: "Owner" and "owner" are two tags. The path names the later tag
// (tags.N.member.key) and the constraint the earlier.
func (c *Checker) UniqueTagKeys(tags []api.ResourceTag) {
	first := make(map[string]int, len(tags))
	for i, t := range tags {
		if j, dup := first[t.Key]; dup {
			c.Add(t.Key, fmt.Sprintf("tags.%d.member.key", i+1), fmt.Sprintf("Member must not repeat the key of tags.%d.member.key", j+1))
			continue
		}
		first[t.Key] = i
	}
}
