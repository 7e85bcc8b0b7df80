// Command ceiling is the yardstick for mlserve's speed: a minimal Go
// net/http server that only decodes the request body with encoding/json
// and returns a fixed answer. Nothing a JSON endpoint in Go can do is
// cheaper, so mlserve's throughput is measured as a fraction of this
// server's, on the same machine, with the same bodies and the same load
// generator (wrk), in the same run.
//
//	go run ./scripts/bench/ceiling --addr 127.0.0.1:8090
//
// It answers POST on any path. The body is one flights instance
//
//	{"date":"2001-06-15T08:30:00","distance":1250,"origin":"ATL","destination":"LAX"}
//
// or a batch {"instances":[...]} of them; a body that does not decode
// gets 400. GET /healthz answers 200, so a script can wait for it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// instance is one flight as a request carries it.
type instance struct {
	Date        string  `json:"date"`
	Distance    float64 `json:"distance"`
	Origin      string  `json:"origin"`
	Destination string  `json:"destination"`
}

// request is either form: the fields of one instance, or instances.
type request struct {
	instance
	Instances []instance `json:"instances"`
}

// The fixed answers, shaped like mlserve's.
var (
	single = []byte(`{"id":"x","model":"flights-delay","version":1,"probability":0.5,"label":"1"}` + "\n")
	batch  = []byte(`{"id":"x","model":"flights-delay","version":1,"predictions":[]}` + "\n")
)

func handle(w http.ResponseWriter, r *http.Request) {
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if req.Instances != nil {
		w.Write(batch)
		return
	}
	w.Write(single)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", handle)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"ok"}`)) })
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Printf("ceiling: serving on %s", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}
