package sqlite

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"
)

// TestWriterArgumentsAndScans checks the conversions the writer does
// itself now that its statements bypass database/sql: arguments of the
// types the store passes go to the driver as database/sql would send them,
// and query results scan into the destinations the store reads them into.
func TestWriterArgumentsAndScans(t *testing.T) {
	db, _ := openTemp(t)
	db.wmu.Lock()
	defer db.wmu.Unlock()
	err := db.onWriter(func(x *wtx) {
		nv, err := x.bind([]any{nil, 7, int64(8), "s", []byte("b"), true, sql.NullInt64{Int64: 9, Valid: true}, sql.NullInt64{}})
		if err != nil {
			t.Fatal(err)
		}
		want := []driver.Value{nil, int64(7), int64(8), "s", []byte("b"), true, int64(9), nil}
		for i, v := range nv {
			if v.Ordinal != i+1 || !equalValue(v.Value, want[i]) {
				t.Errorf("argument %d: %#v, want ordinal %d value %#v", i, v, i+1, want[i])
			}
		}
		if _, err := x.bind([]any{struct{}{}}); err == nil {
			t.Error("an argument of an unsupported type was accepted")
		}

		var (
			n     int64
			i     int
			s     string
			b     []byte
			null  sql.NullInt64
			blob  []byte
			fromB string
		)
		err = x.queryRow("SELECT 42, 43, 'text', x'0102', NULL, NULL, x'6869'").Scan(&n, &i, &s, &b, &null, &blob, &fromB)
		if err != nil {
			t.Fatal(err)
		}
		if n != 42 || i != 43 || s != "text" || string(b) != "\x01\x02" || null.Valid || blob != nil || fromB != "hi" {
			t.Errorf("scanned %d %d %q %x %v %x %q", n, i, s, b, null, blob, fromB)
		}
		if err := x.queryRow("SELECT 1 WHERE 0").Scan(&n); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("no row: %v, want sql.ErrNoRows", err)
		}
		if err := x.queryRow("SELECT 'word'").Scan(&n); err == nil {
			t.Error("a string scanned into an int64")
		}
		if err := x.queryRow("SELECT 1, 2").Scan(&n); err == nil {
			t.Error("two columns scanned into one destination")
		}
		if err := x.queryRow("SELECT * FROM no_such_table").Scan(&n); err == nil {
			t.Error("a query of a missing table succeeded")
		}

		rows, err := x.query("SELECT value FROM (SELECT 1 AS value UNION ALL SELECT 2) ORDER BY value")
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(got) != 2 || got[0] != 1 || got[1] != 2 {
			t.Errorf("rows %v, %v", got, err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func equalValue(a, b driver.Value) bool {
	ab, aok := a.([]byte)
	bb, bok := b.([]byte)
	if aok || bok {
		return aok && bok && string(ab) == string(bb)
	}
	return a == b
}
