package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
)

// The read pool keeps at most maxReadStmts prepared statements open: a
// query past the bound runs unprepared. Before, one past the bound was
// prepared at each call and never closed (database/sql keeps a statement
// until it is closed), so a client that sent visibility queries of many
// shapes (filters, time bounds, pages, orders) leaked a statement per call.
func TestReadStmtsBounded(t *testing.T) {
	var open atomic.Int64
	db := sql.OpenDB(countingConnector{&open})
	defer db.Close()
	r := &readStmts{db: db}
	defer r.close()
	ctx := context.Background()
	const shapes = 2 * maxReadStmts
	for round := range 3 {
		for i := range shapes {
			q := fmt.Sprint("SELECT ", i)
			if i%2 == 0 {
				rows, err := r.QueryContext(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				rows.Close()
			} else if err := r.QueryRowContext(ctx, q).Scan(new(int)); err != sql.ErrNoRows {
				t.Fatalf("round %d, query %d: %v, want sql.ErrNoRows", round, i, err)
			}
		}
		if n := open.Load(); n > maxReadStmts {
			t.Fatalf("round %d: %d statements open after %d queries of %d shapes; want at most %d", round, n, (round+1)*shapes, shapes, maxReadStmts)
		}
	}
	r.close()
	if n := open.Load(); n != 0 {
		t.Errorf("%d statements open after close", n)
	}
}

// countingConnector opens connections whose statements count themselves
// open until closed; every query returns no rows.
type countingConnector struct{ open *atomic.Int64 }

func (c countingConnector) Connect(context.Context) (driver.Conn, error) { return countingConn(c), nil }
func (c countingConnector) Driver() driver.Driver                        { return nil }

type countingConn struct{ open *atomic.Int64 }

func (c countingConn) Prepare(string) (driver.Stmt, error) {
	c.open.Add(1)
	return countingStmt(c), nil
}
func (c countingConn) Close() error              { return nil }
func (c countingConn) Begin() (driver.Tx, error) { return nil, driver.ErrSkip }

type countingStmt struct{ open *atomic.Int64 }

func (s countingStmt) Close() error                               { s.open.Add(-1); return nil }
func (s countingStmt) NumInput() int                              { return -1 }
func (s countingStmt) Exec([]driver.Value) (driver.Result, error) { return driver.RowsAffected(0), nil }
func (s countingStmt) Query([]driver.Value) (driver.Rows, error)  { return noRows{}, nil }

type noRows struct{}

func (noRows) Columns() []string         { return []string{"n"} }
func (noRows) Close() error              { return nil }
func (noRows) Next([]driver.Value) error { return io.EOF }
