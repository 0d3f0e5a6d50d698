package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// Commits that run out of time on a live server. A commit's statement may
// wait on the server for a lock another session holds: an operator's
// BEGIN; LOCK TABLE … left open in psql, a client of the database stuck in
// its transaction. pgx's way with a context that ends under a statement is
// to give the connection up (a deadline on the socket; closing it, it asks
// the server to cancel the statement), so the statement's answer is never
// read, and a commit whose statements were sent cannot tell whether it
// committed: the store then read the data back (outcome.go), and when the
// lock hid that too, answered after 10 s more that the outcome was unknown.
//
// A commit's statements are sent under a context marked by serverCancel
// instead: when it ends, the store asks the server to cancel the statement
// under way, as pg_cancel_backend does, and reads the answer on the same
// connection. A live server answers at once: ERROR 57014 for a statement
// it cancelled (the transaction did not commit: cancelledAtDeadline), or
// the statement's result if it had finished. A server that does not answer
// within cancelWait gets the old treatment: the connection is given up,
// and what happened is learnt from the data.

// cancelWait is how long a commit whose time ran out waits for the
// server's answer to its cancel request before it gives its connection up.
// A live server answers in milliseconds.
const cancelWait = time.Second

// serverCancelKey marks a context whose end has the server cancel the
// statement under way (serverCancel).
type serverCancelKey struct{}

// serverCancel marks ctx so that, when it ends under a statement, the
// server is asked to cancel the statement and its answer is read.
func serverCancel(ctx context.Context) context.Context {
	return context.WithValue(ctx, serverCancelKey{}, true)
}

// cancelHandler is each connection's handler of a context that ends under
// a statement: pgx's own (a deadline on the socket) unless the context is
// marked by serverCancel, when it sends the server a cancel request and
// waits cancelWait for the answer before setting that deadline.
type cancelHandler struct {
	deadline pgconn.DeadlineContextWatcherHandler
	cancel   pgconn.CancelRequestContextWatcherHandler
	using    ctxwatch.Handler
}

func newCancelHandler(pg *pgconn.PgConn) ctxwatch.Handler {
	return &cancelHandler{
		deadline: pgconn.DeadlineContextWatcherHandler{Conn: pg.Conn()},
		cancel:   pgconn.CancelRequestContextWatcherHandler{Conn: pg, DeadlineDelay: cancelWait},
	}
}

func (h *cancelHandler) HandleCancel(ctx context.Context) {
	h.using = &h.deadline
	if ctx.Value(serverCancelKey{}) != nil {
		h.using = &h.cancel
	}
	h.using.HandleCancel(ctx)
}

func (h *cancelHandler) HandleUnwatchAfterCancel() { h.using.HandleUnwatchAfterCancel() }

// answered reports whether err is an ERROR the server answered a statement
// with: the statement failed, and its transaction with it, on a connection
// that still works.
func answered(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Severity == "ERROR"
}

// cancelledAtDeadline reports whether err is the server's answer to the
// cancel request sent when ctx, a commit's, ran out (serverCancel): the
// statement did not finish, and nothing of its transaction committed.
func cancelledAtDeadline(ctx context.Context, err error) bool {
	var pe *pgconn.PgError
	return ctx.Err() != nil && errors.As(err, &pe) && pe.Severity == "ERROR" && pe.Code == codeQueryCanceled
}

// cancelledError is the error of a commit cancelled at its deadline: it
// wraps context.DeadlineExceeded (nothing applied, answered
// ServiceUnavailable) and the server's answer.
func cancelledError(what string, err error) error {
	return fmt.Errorf("postgres: commit: %s: no answer in its time, so the server was asked to cancel it, which it did; nothing was applied: %w (%w)",
		what, context.DeadlineExceeded, err)
}

// TooManyConnections reports whether err is the server's refusal of a new
// connection for its connection limits: the server's max_connections, or
// the role's or the database's CONNECTION LIMIT (SQLSTATE 53300).
func TooManyConnections(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "53300"
}
