// Command floor is the yardstick for mlserve's tail latency: a server on
// mlserve's own HTTP stack (fasthttp, the same timeouts) that reads nothing of the request body and answers a fixed
// body. No Go server on this stack does less per request, so its latency
// at a given rate, measured in the same run with the same load generator,
// is the floor the machine and the stack allow; what mlserve adds above
// it is the cost of decoding, features, the model and the prediction log.
//
//	go run ./scripts/bench/floor --addr 127.0.0.1:8091
//
// It answers POST on any path with mlserve's single-row answer, and
// GET /healthz with 200, so a script can wait for it. With -spin D it
// first keeps the CPU busy for D per request, which shows how the tail
// grows with the CPU a request costs (docs/serving.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// single is the fixed answer, shaped like mlserve's.
var single = []byte(`{"id":"x","model":"flights-delay","version":1,"probability":0.5,"label":"1"}` + "\n")

// spin is how long each POST keeps the CPU busy before it answers.
var spin time.Duration

func handle(ctx *fasthttp.RequestCtx) {
	switch {
	case ctx.IsGet() && string(ctx.Path()) == "/healthz":
		ctx.SetBodyString(`{"status":"ok"}`)
	case ctx.IsPost():
		for t := time.Now(); time.Since(t) < spin; {
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(single)
	default:
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	flag.DurationVar(&spin, "spin", 0, "keep the CPU busy this long per request before answering")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	// mlserve's defaults (serve/server.go).
	srv := &fasthttp.Server{Handler: handle, ReadTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: 120 * time.Second, ReadBufferSize: 16 << 10, NoDefaultServerHeader: true}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.ShutdownWithContext(sctx)
	}()
	log.Printf("floor: serving on %s", ln.Addr())
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
