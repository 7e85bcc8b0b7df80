package predlog_test

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/predlog"
)

// benchEncode encodes r with predlog's record encoder b.N times.
func benchEncode(b *testing.B, r *predlog.Record) {
	enc := predlog.RecordEncoder()
	var line []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if line, err = enc(line[:0], r); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(line)))
}

// BenchmarkEncode is the writer goroutine's cost per record, against
// encoding/json for scale.
func BenchmarkEncode(b *testing.B) {
	r := flight(1)
	r.Time = t0
	b.Run("predlog", func(b *testing.B) { benchEncode(b, &r) })
	// What mlserve logs: the request's own JSON object, compact (as
	// scripts/bench/bodies sends it) and pretty-printed.
	for _, raw := range []struct{ name, text string }{
		{"compact", `{"date":"2001-06-30T21:09:00","distance":1235,"origin":"DFW","destination":"LAX"}`},
		{"pretty", "{\n  \"date\": \"2001-06-30T21:09:00\",\n  \"distance\": 1235,\n  \"origin\": \"DFW\",\n  \"destination\": \"LAX\"\n}"},
	} {
		b.Run("predlog-raw-"+raw.name, func(b *testing.B) {
			benchEncode(b, &predlog.Record{ID: r.ID, Time: t0, Model: r.Model, Version: r.Version, RawInputs: json.RawMessage(raw.text), Probability: r.Probability, Predicted: r.Predicted})
		})
	}
	b.Run("encoding-json", func(b *testing.B) {
		var line []byte
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if line, err = json.Marshal(&r); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(line)))
	})
}

// rawFlight is a prediction as mlserve logs it: the request's own JSON
// object (as scripts/bench/bodies sends it) as the inputs.
func rawFlight() predlog.Record {
	r := flight(1)
	r.Inputs = nil
	r.RawInputs = json.RawMessage(`{"date":"2001-06-30T21:09:00","distance":1235,"origin":"DFW","destination":"LAX"}`)
	return r
}

// BenchmarkLog is the cost on the request path: Log (which encodes the
// record) from every CPU at once. Records the disk cannot keep up with
// are dropped, as in production; the drop share is reported.
func BenchmarkLog(b *testing.B) {
	w, err := predlog.NewWriter(b.TempDir(), predlog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := rawFlight()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Log(r)
		}
	})
	b.StopTimer()
	if err := w.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(w.Dropped())/float64(b.N), "dropped/op")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriter is the sustained throughput to disk: Log, encode and
// write, with a Flush every half queue so that nothing is dropped, for a
// record with decoded inputs and for one as mlserve logs it. cpu-ns/op
// is the CPU time of every goroutine (the writer's, the garbage
// collector's) per record: on a busy server, what the log takes from
// scoring.
func BenchmarkWriter(b *testing.B) {
	for _, tt := range []struct {
		name string
		r    predlog.Record
	}{{"inputs", flight(1)}, {"raw", rawFlight()}} {
		b.Run(tt.name, func(b *testing.B) {
			const buffer = 8192 // half of it between flushes keeps the queue from filling
			w, err := predlog.NewWriter(b.TempDir(), predlog.Options{Buffer: buffer})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			line, _ := predlog.RecordEncoder()(nil, &tt.r)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			start, cpu := time.Now(), cpuTime(b)
			n := 0
			for b.Loop() {
				w.Log(tt.r)
				if n++; n%(buffer/2) == 0 {
					if err := w.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := w.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(n), "cpu-ns/op")
			if w.Dropped() != 0 || w.Failed() != 0 || w.Written() != uint64(n) {
				b.Fatalf("written %d dropped %d failed %d of %d", w.Written(), w.Dropped(), w.Failed(), n)
			}
		})
	}
}
