package frontend

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/iotest"
)

// TestReadSized reads bodies whose declared length is right, too short, too
// long or unknown, a byte at a time or whole, below and above maxPresize:
// always the body, as io.ReadAll reads it.
func TestReadSized(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 2000, maxPresize - 1, maxPresize, maxPresize + 1, 3 * maxPresize} {
		body := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		for _, declared := range []int64{-1, 0, int64(n), int64(n) - 1, int64(n) + 1, int64(n) / 2, 2*int64(n) + 7} {
			for _, oneByte := range []bool{false, true} {
				var rd io.Reader = bytes.NewReader(body)
				if oneByte {
					rd = iotest.OneByteReader(rd)
				}
				got, err := readSized(rd, declared)
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("n=%d declared=%d oneByte=%v: %d bytes, %v; want the body", n, declared, oneByte, len(got), err)
				}
			}
		}
	}
	// An error other than the end comes back with what was read.
	boom := errors.New("boom")
	got, err := readSized(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), 10)
	if !errors.Is(err, boom) || string(got) != "abc" {
		t.Fatalf("got %q, %v; want abc, boom", got, err)
	}
}

// TestReadRawSizesItsBuffer: a body of a known length is read into one
// buffer made to its size, not grown from 512 bytes as io.ReadAll grows
// it; one of an unknown length still is.
func TestReadRawSizesItsBuffer(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 3000)
	br := bytes.NewReader(body)
	r := &http.Request{ContentLength: int64(len(body))}
	allocs := testing.AllocsPerRun(100, func() {
		br.Reset(body)
		raw, err := readRaw(r, br, MaxBodyBytes)
		if err != nil || len(raw) != len(body) {
			t.Fatalf("%d bytes, %v", len(raw), err)
		}
	})
	// One for the buffer, one for the capReader.
	if allocs > 2 {
		t.Errorf("readRaw of a 3,000-byte body of known length: %v allocations, want at most 2", allocs)
	}
	// Declared larger than maxPresize, the buffer starts at maxPresize.
	b, err := readSized(bytes.NewReader(body), MaxBodyBytes)
	if err != nil || len(b) != len(body) || cap(b) != maxPresize+1 {
		t.Errorf("declared %d: len %d cap %d, %v; want len %d cap %d", MaxBodyBytes, len(b), cap(b), err, len(body), maxPresize+1)
	}
}
