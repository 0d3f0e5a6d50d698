package service

import (
	"context"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/history"
)

// TaskTokenDomain returns the domain of the task a task token names, for
// authorizing the task-token operations (auth.TaskTokens). ok is false for
// a token this service did not issue.
func (s *Service) TaskTokenDomain(token string) (string, bool) {
	for _, kind := range []swfd.TaskKind{swfd.DecisionTask, swfd.ActivityTask} {
		if ref, err := s.openTaskToken(token, kind); err == nil {
			return ref.Domain, true
		}
	}
	return "", false
}

// decisionEnv is the history environment for a decision batch in domain:
// when the call carries an authenticated principal, each decision is
// authorized against its policies (swf-semantics.md §9.3).
func (s *Service) decisionEnv(ctx context.Context, domain string) history.Env {
	env := s.env(ctx)
	env.AuthorizeDecision = auth.DecisionHook(ctx, s.region, s.accountID, domain)
	return env
}
