// Command swfd-null serves the null SWF service of package nullswf: it
// answers the calls `swf bench` makes and hands out tasks, and does nothing
// else (no validation, no state, no disk). It measures the ceiling one
// machine sets for any SWF server under that benchmark:
//
//	swfd-null --addr 127.0.0.1:7771 &
//	swf bench --endpoint-url http://127.0.0.1:7771 --workflows 3000 --activities 1 --concurrency 8
//
// It is a measuring tool; never point real clients at it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/swfd/swfd/internal/nullswf"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200) // as swfd runs
	}
	addr := flag.String("addr", "127.0.0.1:7771", "address to listen on")
	poll := flag.Duration("poll-timeout", 60*time.Second, "how long a poll waits for a task")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "swfd-null:", err)
		os.Exit(2)
	}
	hs := &http.Server{Handler: &nullswf.Handler{PollTimeout: *poll}, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	fmt.Fprintln(os.Stderr, "swfd-null listening on", ln.Addr())
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "swfd-null:", err)
		os.Exit(1)
	}
}
