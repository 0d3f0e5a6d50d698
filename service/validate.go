package service

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/swfd/swfd/api"
)

// checker collects semantic validation errors the model cannot express
// (name characters, duration strings, numeric strings), reported like the
// framework's own: "N validation errors detected: ...".
type checker struct{ errs []string }

func (c *checker) add(val, path, constraint string) {
	c.errs = append(c.errs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", val, path, constraint))
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	noun := "error"
	if len(c.errs) > 1 {
		noun = "errors"
	}
	return api.ErrValidation("%d validation %s detected: %s", len(c.errs), noun, strings.Join(c.errs, "; "))
}

// name checks SWF's name rules: no ':', '/', '|', control characters, and
// not the literal "arn". Empty values are left to the model's checks.
func (c *checker) name(path, v string) {
	if v == "" {
		return
	}
	if v == "arn" {
		c.add(v, path, "Member must not be the literal string 'arn'")
		return
	}
	for _, r := range v {
		if r == ':' || r == '/' || r == '|' || r <= 0x1f || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError {
			c.add(v, path, "Member must not contain ':', '/', '|' or control characters")
			return
		}
	}
}

// trimmedName is name plus no leading or trailing white space (domain
// names and task lists).
func (c *checker) trimmedName(path, v string) {
	if v != "" && strings.TrimSpace(v) != v {
		c.add(v, path, "Member must not start or end with white space")
		return
	}
	c.name(path, v)
}

// duration checks a wire duration: digits, or NONE when allowed.
func (c *checker) duration(path, v string, noneOK bool) {
	if v == "" {
		return
	}
	if v == "NONE" {
		if !noneOK {
			c.add(v, path, "Member must be a number of seconds (NONE is not allowed)")
		}
		return
	}
	if _, err := strconv.ParseUint(v, 10, 32); err != nil {
		if noneOK {
			c.add(v, path, "Member must be a number of seconds or NONE")
		} else {
			c.add(v, path, "Member must be a number of seconds")
		}
	}
}

// executionTimeout checks an execution start-to-close timeout: digits, at
// most one year, never NONE.
func (c *checker) executionTimeout(path, v string) {
	if v == "" {
		return
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > 31536000 {
		c.add(v, path, "Member must be a number of seconds no greater than 31536000")
	}
}

// priority checks a task priority: a signed 32-bit integer.
func (c *checker) priority(path, v string) {
	if v == "" {
		return
	}
	if _, err := strconv.ParseInt(v, 10, 32); err != nil {
		c.add(v, path, "Member must be an integer between -2147483648 and 2147483647")
	}
}

func (c *checker) taskList(path string, tl *api.TaskList) {
	if tl != nil {
		c.trimmedName(path+".name", tl.Name)
	}
}
