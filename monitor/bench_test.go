package monitor_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/predlog"
)

// BenchmarkCompute is the report's cost on windows already in memory:
// seven series (two of them a timestamp's parts, parsed from text) and
// the predicted probability against a 20,000-row reference sample, plus
// the performance over every row labelled.
func BenchmarkCompute(b *testing.B) {
	base, err := monitor.LoadBaseline(makeBundle(b, false))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10_000, 100_000, 500_000} {
		rows := draw(rand.New(rand.NewPCG(90, 90)), n, june)
		preds, labels := records(rows), labelsOf(rows)
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := monitor.Compute(base, preds, labels, monitor.Thresholds{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkRun is `mlpipe monitor` without the CLI: read 500,000
// predictions and their labels from a prediction log, then Compute.
func BenchmarkRun(b *testing.B) {
	base, err := monitor.LoadBaseline(makeBundle(b, false))
	if err != nil {
		b.Fatal(err)
	}
	const n = 500_000
	rows := draw(rand.New(rand.NewPCG(91, 91)), n, june)
	dir := b.TempDir()
	opts := predlog.Options{Now: func() time.Time { return logTime }}
	w, err := predlog.NewWriter(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	lw, err := predlog.NewLabelWriter(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i, r := range records(rows) {
		w.Log(r)
		if i%8192 == 0 {
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i, l := range labelsOf(rows) {
		lw.Log(l)
		if i%8192 == 0 {
			if err := lw.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if err := lw.Close(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := monitor.Run(ctx, base, dir, logTime, logTime.Add(30*24*time.Hour), nil)
		if err != nil {
			b.Fatal(err)
		}
		if r.Predictions != n {
			b.Fatalf("read %d predictions of %d", r.Predictions, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkObserve is a Live gauge's cost on the request path, from
// every CPU at once.
func BenchmarkObserve(b *testing.B) {
	base, err := monitor.LoadBaseline(makeBundle(b, false))
	if err != nil {
		b.Fatal(err)
	}
	l := monitor.NewLiveWithReference(base.Profile, base.Reference, base.Inputs, 0)
	rows := draw(rand.New(rand.NewPCG(92, 92)), 1024, june)
	reqs := make([]map[string]any, len(rows))
	for i, r := range rows {
		reqs[i] = request(r)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Observe(reqs[i%len(reqs)], rows[i%len(rows)].score)
			i++
		}
	})
}

// BenchmarkRefresh is the background half: counting a full window of
// 10,000 requests and computing seven PSIs.
func BenchmarkRefresh(b *testing.B) {
	base, err := monitor.LoadBaseline(makeBundle(b, false))
	if err != nil {
		b.Fatal(err)
	}
	l := monitor.NewLiveWithReference(base.Profile, base.Reference, base.Inputs, 0)
	for _, r := range draw(rand.New(rand.NewPCG(93, 93)), monitor.DefaultLiveWindow, june) {
		l.Observe(request(r), r.score)
	}
	b.ReportAllocs()
	for b.Loop() {
		l.Refresh()
	}
}
