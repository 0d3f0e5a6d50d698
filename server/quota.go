package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/frontend"
	"github.com/swfd/swfd/quota"
	"github.com/swfd/swfd/service"
)

// Values of Config.Quotas besides a file's path.
const (
	QuotasOff = "off"
	QuotasAWS = "aws"
)

// throttled is what a call refused by a bucket is answered, as the real
// service answers it.
var throttled = &api.Fault{Code: api.ThrottlingException, Message: "Rate exceeded"}

// openQuotas makes the limiter Config.Quotas asks for: nil when off; the
// real service's buckets for "aws"; else the quota file it names, which
// must be valid.
func openQuotas(spec string, clk swfd.Clock) (*quota.Limiter, error) {
	switch spec {
	case "", QuotasOff:
		return nil, nil
	case QuotasAWS:
		return quota.New(quota.AWS(), clk), nil
	}
	cfg, err := quota.Load(spec)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(spec, `/\.`) {
			// A word such as "AWS" or "none" reads as a file's name;
			// say which words there are.
			return nil, fmt.Errorf("--quotas: %w (besides a quota file, the values are %q and %q)", err, QuotasOff, QuotasAWS)
		}
		return nil, fmt.Errorf("--quotas: %w", err)
	}
	return quota.New(cfg, clk), nil
}

// quotaFile is the quota file to reload on SIGHUP; "" if none.
func (s *Server) quotaFile() string {
	if s.Quotas == nil || s.cfg.Quotas == QuotasAWS {
		return ""
	}
	return s.cfg.Quotas
}

// reloadQuotas reads the quota file again and puts it in force; a file
// that is not valid, or that names a principal the auth file in force
// does not know, leaves the quotas in force as they were.
func (s *Server) reloadQuotas() error {
	cfg, err := quota.Load(s.quotaFile())
	if err != nil {
		return err
	}
	if err := s.checkQuotaPrincipals(cfg); err != nil {
		return fmt.Errorf("quota file %s: %w", s.quotaFile(), err)
	}
	s.Quotas.SetConfig(cfg)
	return nil
}

// checkQuotaPrincipals refuses quotas that give an override to a principal
// the auth file in force does not list: no call would ever be that
// principal's, so the override (a name mistyped, a principal renamed or
// removed) would throttle nothing while seeming to. Without
// authentication there is nothing to check against (no call has a
// principal): a file that names principals is then only warned of.
//
// At a reload the auth file is read first and put in force whatever the
// quota file says, so that a key it revokes stops working at once; a
// quota file that still names a principal the new auth file dropped is
// then refused, and the quotas in force stay (the dropped principal's
// override among them, which no call can reach any more) until the quota
// file drops it too.
func (s *Server) checkQuotaPrincipals(cfg *quota.Config) error {
	if s.Auth == nil {
		if len(cfg.Principals) > 0 {
			s.log.Warn("the quota file names principals, but without --auth no call has a principal: their overrides apply to no call",
				"quotas", s.cfg.Quotas, "principals", strings.Join(slices.Sorted(maps.Keys(cfg.Principals)), ", "))
		}
		return nil
	}
	known := map[string]bool{}
	for _, p := range s.Auth.Config().Principals {
		known[p.Name] = true
	}
	unknown := cfg.UnknownPrincipals(func(name string) bool { return known[name] })
	if len(unknown) == 0 {
		return nil
	}
	quoted := make([]string, len(unknown))
	for i, n := range unknown {
		quoted[i] = strconv.Quote(n)
	}
	of := "the auth file"
	if path := s.Auth.Path(); path != "" {
		of += " " + path
	}
	if len(unknown) == 1 {
		return fmt.Errorf("principals: %s is not a principal of %s (names are matched exactly, case included): its override would apply to no call", quoted[0], of)
	}
	return fmt.Errorf("principals: %s are not principals of %s (names are matched exactly, case included): their overrides would apply to no call", strings.Join(quoted, ", "), of)
}

// admit is the frontend's Admit with quotas: a call its buckets refuse is
// answered ThrottlingException and goes no further. A long poll takes one
// token per call, as the real service counts them.
func (s *Server) admit(ctx context.Context, c *frontend.Call, in any) *api.Fault {
	if s.Quotas.Allow(quota.Call{Operation: c.Operation, Domain: c.Domain, Principal: c.Principal, Execution: s.executionOf(in)}) {
		return nil
	}
	return throttled
}

// executionOf names the workflow execution a call acts on, for the buckets
// per execution: the workflow id for a signal or a cancel request (a
// workflow id has at most one open run, the one they reach), the run for
// a history read and for an activity's heartbeat (found from its task
// token). "" for other calls.
func (s *Server) executionOf(in any) string {
	switch in := in.(type) {
	case *api.SignalWorkflowExecutionInput:
		return "w:" + in.WorkflowID
	case *api.RequestCancelWorkflowExecutionInput:
		return "w:" + in.WorkflowID
	case *api.GetWorkflowExecutionHistoryInput:
		return "r:" + in.Execution.RunID
	case *api.RecordActivityTaskHeartbeatInput:
		if run, ok := s.current().svc.TaskTokenRun(in.TaskToken); ok {
			return "r:" + run
		}
	}
	return ""
}

// decisionRates is the service's DecisionRates with quotas: the decisions
// of a batch are limited in the run's domain, for the principal that sent
// the call.
func decisionRates(l *quota.Limiter) service.DecisionRates {
	return func(ctx context.Context, domain string) service.RateBatch {
		principal := ""
		if p := auth.FromContext(ctx); p != nil {
			principal = p.Name
		}
		return l.Batch(domain, principal)
	}
}
