package score_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/score"
	"github.com/mlpipe/mlpipe/serve"
)

// The tests score with bundles that the real pipeline trains on the
// fixtures, built once by TestMain with the mlpipe command: the flights
// task with gbdt only and with logreg only, and the three-class penguins.
var bundles = map[string]string{}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "score-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := buildBundles(dir); err != nil {
			fmt.Fprintln(os.Stderr, "score tests: training the fixture models:", err)
			return 1
		}
		return m.Run()
	}())
}

func buildBundles(dir string) error {
	root, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	run := func(args ...string) error {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	bin := filepath.Join(dir, "mlpipe")
	if err := run("go", "build", "-o", bin, "./cmd/mlpipe"); err != nil {
		return err
	}
	cfg, err := os.ReadFile(filepath.Join(root, "testdata", "flights-10k.yaml"))
	if err != nil {
		return err
	}
	text := strings.Replace(string(cfg), "path: flights-10k.parquet", "path: "+filepath.Join(root, "testdata", "flights-10k.parquet"), 1)
	at, end := strings.Index(text, "\nmodels:"), strings.Index(text, "\nevaluate:")
	if at < 0 || end < at {
		return errors.New("testdata/flights-10k.yaml has no models: section before evaluate:")
	}
	for name, models := range map[string]string{
		"gbdt":   "  - {name: gbdt, params: {rounds: 30, max_leaves: 15}}",
		"logreg": "  - {name: logreg}",
	} {
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(text[:at]+"\nmodels:\n"+models+text[end:]), 0o644); err != nil {
			return err
		}
		bundles[name] = filepath.Join(dir, name)
		if err := run(bin, "train", "--config", path, "--out", bundles[name], "--log-level", "error"); err != nil {
			return err
		}
	}
	bundles["penguins"] = filepath.Join(dir, "penguins")
	if err := run(bin, "train", "--config", "configs/penguins.yaml", "--out", bundles["penguins"], "--log-level", "error"); err != nil {
		return err
	}
	bundles["mass"] = filepath.Join(dir, "mass")
	return run(bin, "train", "--config", "configs/penguins-body-mass.yaml", "--models", "gbdt", "--out", bundles["mass"], "--log-level", "error")
}

func loadModel(t *testing.T, name string) *serve.Model {
	t.Helper()
	m, err := serve.LoadModel(bundles[name], 0)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// readParquet reads a whole Parquet file.
func readParquet(t *testing.T, path string) arrow.Table {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Release)
	return tbl
}

// column returns a column's values as strings (floats in their shortest
// exact form, "" for null).
func column(t *testing.T, tbl arrow.Table, name string) []string {
	t.Helper()
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %q in %v", name, tbl.Schema())
	}
	var out []string
	for _, ch := range tbl.Column(idx[0]).Data().Chunks() {
		for i := range ch.Len() {
			switch {
			case ch.IsNull(i):
				out = append(out, "")
			case ch.DataType().ID() == arrow.FLOAT64:
				out = append(out, strconv.FormatFloat(ch.(*array.Float64).Value(i), 'g', -1, 64))
			default:
				out = append(out, ch.ValueStr(i))
			}
		}
	}
	return out
}

// instances returns the rows of a JSON Lines fixture as request
// instances, without the columns the model does not read.
func instances(t *testing.T, path string, m *serve.Model) []map[string]json.RawMessage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inputs := map[string]bool{}
	for _, in := range m.Inputs() {
		inputs[in.Name] = true
	}
	var out []map[string]json.RawMessage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		for k := range row {
			if !inputs[k] {
				delete(row, k)
			}
		}
		out = append(out, row)
	}
	return out
}

// served sends the rows to mlserve's handler in batches of the native
// API and returns each prediction object.
func served(t *testing.T, m *serve.Model, rows []map[string]json.RawMessage, extra string) []map[string]json.RawMessage {
	t.Helper()
	s := serve.New(serve.Options{MaxExplain: 1000})
	s.SetModel(m)
	h := s.Handler()
	var out []map[string]json.RawMessage
	for lo := 0; lo < len(rows); lo += 1000 {
		body, err := json.Marshal(rows[lo:min(lo+1000, len(rows))])
		if err != nil {
			t.Fatal(err)
		}
		var req fasthttp.Request
		req.Header.SetMethod("POST")
		req.SetRequestURI("/v1/models/" + m.Name + "/predict")
		req.SetBodyString(`{"instances":` + string(body) + extra + `}`)
		req.Header.SetContentType("application/json")
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, nil, nil)
		h(&ctx)
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("mlserve: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
		var resp struct {
			Predictions []map[string]json.RawMessage `json:"predictions"`
		}
		if err := json.Unmarshal(ctx.Response.Body(), &resp); err != nil {
			t.Fatal(err)
		}
		out = append(out, resp.Predictions...)
	}
	return out
}

// number reads a JSON number exactly.
func number(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		t.Fatalf("%s is not a number", raw)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// TestSameAsServing: scoring the 10,000 fixture rows from Parquet gives,
// row for row, the probability, the label, the unknown inputs and the
// explanation (base value and every contribution) that mlserve's native
// API gives for the same rows, bit for bit.
func TestSameAsServing(t *testing.T) {
	for _, name := range []string{"gbdt", "logreg"} {
		t.Run(name, func(t *testing.T) {
			m := loadModel(t, name)
			out := filepath.Join(t.TempDir(), "scored.parquet")
			res, err := score.Run(context.Background(), m, ingest.Source{Path: "../testdata/flights-10k.parquet"}, score.Options{Out: out, Explain: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != 10_000 || res.Scored != 10_000 || res.Rejected != 0 {
				t.Fatalf("result %+v", res)
			}
			tbl := readParquet(t, out)
			prob, label, unknown, base := column(t, tbl, "probability"), column(t, tbl, "label"), column(t, tbl, "unknown"), column(t, tbl, "base_value")
			inputs := []string{"date", "distance", "origin", "destination", "origin × destination"}
			contrib := map[string][]string{}
			for _, in := range inputs {
				contrib[in] = column(t, tbl, "contribution_"+in)
			}
			want := served(t, m, instances(t, "../testdata/flights-10k.jsonl", m), `,"explain":true`)
			if len(want) != len(prob) {
				t.Fatalf("%d rows written, %d served", len(prob), len(want))
			}
			for i, w := range want {
				var wl string
				json.Unmarshal(w["label"], &wl)
				var wu []string
				json.Unmarshal(w["unknown"], &wu)
				if got := number(t, w["probability"]); prob[i] != got || label[i] != wl || unknown[i] != strings.Join(wu, ",") {
					t.Fatalf("row %d: predict %s %s %q, mlserve %s %s %q", i, prob[i], label[i], unknown[i], got, wl, wu)
				}
				var x struct {
					Base          json.RawMessage            `json:"base"`
					Contributions map[string]json.RawMessage `json:"contributions"`
				}
				if err := json.Unmarshal(w["explanation"], &x); err != nil {
					t.Fatal(err)
				}
				if got := number(t, x.Base); base[i] != got {
					t.Fatalf("row %d: base %s, mlserve %s", i, base[i], got)
				}
				for _, in := range inputs {
					if got := number(t, x.Contributions[in]); contrib[in][i] != got {
						t.Fatalf("row %d: contribution of %s %s, mlserve %s", i, in, contrib[in][i], got)
					}
				}
			}
			if res.Unknown == 0 {
				t.Error("no row of the fixture has an unknown input: the comparison of the unknown column proves little")
			}
		})
	}
}

// TestFormats: Parquet, CSV and JSON Lines outputs hold the same values,
// and the input format does not change them either.
func TestFormats(t *testing.T) {
	m := loadModel(t, "gbdt")
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.parquet")
	if _, err := score.Run(context.Background(), m, ingest.Source{Path: "../testdata/flights-10k.parquet"}, score.Options{Out: ref, Keep: []string{"origin", "date"}}); err != nil {
		t.Fatal(err)
	}
	want := readParquet(t, ref)
	for _, tc := range []struct{ in, out string }{
		{"../testdata/flights-10k.csv", "a.csv"},
		{"../testdata/flights-10k.jsonl", "b.jsonl"},
		{"../testdata/monthly", "c.parquet"},
	} {
		out := filepath.Join(dir, tc.out)
		if _, err := score.Run(context.Background(), m, ingest.Source{Path: tc.in}, score.Options{Out: out, Keep: []string{"origin", "date"}}); err != nil {
			t.Fatal(err)
		}
		var got arrow.Table
		if strings.HasSuffix(out, ".parquet") {
			got = readParquet(t, out)
		} else {
			schema := ingest.Schema{Columns: []ingest.ColumnSpec{
				{Name: "origin", Type: "string"}, {Name: "date", Type: "timestamp[us]"}, {Name: "probability", Type: "float64"},
				{Name: "label", Type: "string"}, {Name: "unknown", Type: "string", Nullable: true},
				{Name: "model", Type: "string"}, {Name: "model_version", Type: "int64", Nullable: true},
			}}
			ds, err := ingest.Load(context.Background(), ingest.Source{Path: out}, schema, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(ds.Release)
			got = ds.Table
		}
		for _, col := range []string{"origin", "date", "probability", "label"} {
			a, b := column(t, want, col), column(t, got, col)
			if strings.Join(a, "\n") != strings.Join(b, "\n") {
				t.Errorf("%s from %s: column %s differs from the Parquet input's", tc.out, tc.in, col)
			}
		}
	}
}

// TestInputs: every shape of file ingest reads gives the same
// predictions as the Parquet fixture: compressed text, a JSON array, a
// TSV, another delimiter with lines before the header, no header, a
// strftime time format, a glob of two files. The shapes are written
// here from the fixture's first rows.
func TestInputs(t *testing.T) {
	m := loadModel(t, "gbdt")
	dir := t.TempDir()
	const n = 300
	ref := filepath.Join(dir, "ref.parquet")
	if _, err := score.Run(context.Background(), m, ingest.Source{Path: "../testdata/flights-10k.parquet"}, score.Options{Out: ref}); err != nil {
		t.Fatal(err)
	}
	want := column(t, readParquet(t, ref), "probability")[:n]
	data, err := os.ReadFile("../testdata/flights-10k.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", n+2)[:n+1] // the header and n rows
	rows := lines[1:]
	// reshape rewrites each row: fields split at commas, date changed by
	// date, joined by sep.
	reshape := func(sep string, date func(string) string) []string {
		var out []string
		for _, r := range rows {
			f := strings.Split(r, ",")
			f[0] = date(f[0])
			out = append(out, strings.Join(f, sep))
		}
		return out
	}
	same := func(s string) string { return s }
	european := func(s string) string { // 2001-01-01T06:06:00 → 01/01/2001 06:06
		return s[8:10] + "/" + s[5:7] + "/" + s[0:4] + " " + s[11:16]
	}
	text := func(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	zst := func(b []byte) []byte {
		w, _ := zstd.NewWriter(nil)
		defer w.Close()
		return w.EncodeAll(b, nil)
	}
	var jsonRows []string
	for _, r := range rows {
		f := strings.Split(r, ",")
		jsonRows = append(jsonRows, fmt.Sprintf(`{"date":%q,"delay":%s,"distance":%s,"origin":%q,"destination":%q}`, f[0], f[1], f[2], f[3], f[4]))
	}
	no := false
	write("part-a.csv", text(lines[:1+n/2]...))
	write("part-b.csv", text(append(lines[:1:1], lines[1+n/2:]...)...))
	for _, tc := range []struct {
		name string
		src  ingest.Source
		cols []ingest.ColumnSpec
	}{
		{"gzip", ingest.Source{Path: write("in.csv.gz", gz(text(lines...)))}, nil},
		{"zstd", ingest.Source{Path: write("in.jsonl.zst", zst(text(jsonRows...)))}, nil},
		{"json array", ingest.Source{Path: write("in.json", []byte("["+strings.Join(jsonRows, ",\n")+"]"))}, nil},
		{"tsv", ingest.Source{Path: write("in.tsv", text(append([]string{strings.ReplaceAll(lines[0], ",", "\t")}, reshape("\t", same)...)...))}, nil},
		{"delimiter, skipped lines, time format", ingest.Source{Path: write("eu.csv", text(append([]string{"flights export", "date;delay;distance;origin;destination"}, reshape(";", european)...)...)),
			Delimiter: ";", SkipRows: 1}, []ingest.ColumnSpec{{Name: "date", Type: "timestamp[us]", Format: "%d/%m/%Y %H:%M"}}},
		{"no header", ingest.Source{Path: write("bare.csv", text(rows...)), Header: &no}, nil},
		{"glob", ingest.Source{Path: filepath.Join(dir, "part-*.csv")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.parquet")
			res, err := score.Run(context.Background(), m, tc.src, score.Options{Out: out, Columns: tc.cols})
			if err != nil {
				t.Fatal(err)
			}
			got := column(t, readParquet(t, out), "probability")
			if res.Scored != n || strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%d rows scored; the probabilities differ from the Parquet fixture's", res.Scored)
			}
		})
	}
}

// TestMemoryBounded: scoring 24 copies of the fixture holds no more
// live heap than scoring 3: memory is bounded by the chunks in flight,
// not by the input. The live heap is measured after a collection at the
// end of every chunk written (the Progress callback).
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("scores 270,000 rows")
	}
	m := loadModel(t, "gbdt")
	data, err := os.ReadFile("../testdata/flights-10k.parquet")
	if err != nil {
		t.Fatal(err)
	}
	peak := func(copies int) uint64 {
		dir := t.TempDir()
		for i := range copies {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%02d.parquet", i)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var most uint64
		opts := score.Options{Out: filepath.Join(t.TempDir(), "out.parquet"), Explain: true, Progress: func(int64, float64) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			most = max(most, ms.HeapAlloc)
		}}
		res, err := score.Run(context.Background(), m, ingest.Source{Path: dir}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Scored != int64(copies)*10_000 {
			t.Fatalf("%d rows scored", res.Scored)
		}
		return most
	}
	small, large := peak(3), peak(24)
	t.Logf("peak live heap: %d KB for 30,000 rows, %d KB for 240,000", small>>10, large>>10)
	// 1.5: room for the collector's timing; a heap that grew with the
	// input would be 8 times as large.
	if float64(large) > 1.5*float64(small) {
		t.Errorf("the live heap grew with the input: %d KB for 3 files, %d KB for 24", small>>10, large>>10)
	}
}

// writeCSV writes rows under the fixture's header.
func writeCSV(t *testing.T, rows ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.csv")
	text := "date,delay,distance,origin,destination\n" + strings.Join(rows, "\n") + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBadRows: a bad row stops the run with an error naming its file,
// line and column, and no output appears; with Skip the bad rows are
// left out, counted and written with their reasons to the rejects file.
func TestBadRows(t *testing.T) {
	m := loadModel(t, "gbdt")
	in := writeCSV(t,
		"2001-06-01T08:00:00,5,300,ORD,SFO",
		"2001-06-01T09:00:00,5,-4,ORD,SFO",     // line 3: negative distance
		"2001-06-01T10:00:00,5,300,,SFO",       // line 4: null origin
		"2001-06-01T11:00:00,5,30x,ORD,SFO",    // line 5: not an int64
		"2001-06-01T12:00:00,5,300,ORD",        // line 6: ragged
		"2001-06-01T13:00:00,5,1e9,ORD,SFO",    // line 7: not an int64 either
		"2001-06-01T14:00:00,5,999999,ORD,SFO", // line 8: out of range
		"2001-06-01T15:00:00,5,300,ZZZ,SFO",    // line 9: an unseen airport, scored
	)
	out := filepath.Join(t.TempDir(), "out.csv")
	_, err := score.Run(context.Background(), m, ingest.Source{Path: in}, score.Options{Out: out})
	if !errors.Is(err, ingest.ErrInvalid) || !strings.Contains(err.Error(), in+`: line 3, column "distance"`) {
		t.Errorf("fail mode: %v, want an invalid-data error at line 3, column distance", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed run left %s behind: %v", out, err)
	}
	res, err := score.Run(context.Background(), m, ingest.Source{Path: in}, score.Options{Out: out, Skip: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 8 || res.Scored != 2 || res.Rejected != 6 || res.Unknown != 1 {
		t.Errorf("result %+v: want 8 rows, 2 scored, 6 rejected, 1 unknown", res)
	}
	data, err := os.ReadFile(res.Rejects)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	wants := []string{
		`"line":3,"column":"distance","code":"range","reason":"-4 is negative`,
		`"line":4,"column":"origin","code":"null"`,
		`"line":5,"column":"distance","code":"parse"`,
		`"line":6,"code":"parse","reason":"the row has 4 fields, the header has 5"`,
		`"line":7,"column":"distance","code":"parse"`,
		`"line":8,"column":"distance","code":"range","reason":"999999 is out of range`,
	}
	if len(lines) != len(wants) {
		t.Fatalf("rejects:\n%s\nwant %d lines", data, len(wants))
	}
	for i, w := range wants {
		if !strings.Contains(lines[i], w) {
			t.Errorf("reject %d: %s\nwant it to contain %s", i, lines[i], w)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &obj); err != nil {
			t.Errorf("reject %d is not JSON: %v", i, err)
		}
	}
	if !strings.Contains(lines[0], `"values":{"date":"2001-06-01T09:00:00","distance":-4,"origin":"ORD","destination":"SFO"}`) {
		t.Errorf("reject 0 does not carry its values: %s", lines[0])
	}
	scored, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Split(strings.TrimSpace(string(scored)), "\n"); len(rows) != 3 || !strings.HasSuffix(rows[2], ",origin,flights-delay,") {
		t.Errorf("output:\n%s\nwant a header and 2 rows, the second with origin unknown", scored)
	}
}

// TestExplain: each row's base value and contributions add up to its
// margin, the log-odds of its probability; Top writes the largest ones,
// in order; a multiclass model explains the predicted class.
func TestExplain(t *testing.T) {
	for _, name := range []string{"gbdt", "logreg", "penguins"} {
		t.Run(name, func(t *testing.T) {
			m := loadModel(t, name)
			src := "../testdata/flights-10k.parquet"
			if name == "penguins" {
				src = "../data/penguins.csv"
			}
			dir := t.TempDir()
			all, top := filepath.Join(dir, "all.parquet"), filepath.Join(dir, "top.parquet")
			if _, err := score.Run(context.Background(), m, ingest.Source{Path: src}, score.Options{Out: all, Explain: true, Skip: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := score.Run(context.Background(), m, ingest.Source{Path: src}, score.Options{Out: top, Explain: true, Top: 2, Skip: true}); err != nil {
				t.Fatal(err)
			}
			a, b := readParquet(t, all), readParquet(t, top)
			var contribs []string
			for _, f := range a.Schema().Fields() {
				if strings.HasPrefix(f.Name, "contribution_") {
					contribs = append(contribs, f.Name)
				}
			}
			if len(contribs) == 0 {
				t.Fatalf("no contribution columns in %v", a.Schema())
			}
			values := func(tbl arrow.Table, col string) []float64 {
				var out []float64
				for _, s := range column(t, tbl, col) {
					f, _ := strconv.ParseFloat(s, 64)
					out = append(out, f)
				}
				return out
			}
			base := values(a, "base_value")
			cs := make([][]float64, len(contribs))
			for j, c := range contribs {
				cs[j] = values(a, c)
			}
			label := column(t, a, "label")
			top1, top1c, top2c := column(t, b, "top1_input"), values(b, "top1_contribution"), values(b, "top2_contribution")
			var probs []float64
			if m.Outputs() == 1 {
				probs = values(a, "probability")
			}
			checked := 0
			for i := range base {
				p := 0.0
				if probs != nil {
					p = probs[i]
				}
				sum, best := base[i], 0
				for j := range cs {
					sum += cs[j][i]
					if math.Abs(cs[j][i]) > math.Abs(cs[best][i]) {
						best = j
					}
				}
				if top1[i] != strings.TrimPrefix(contribs[best], "contribution_") || top1c[i] != cs[best][i] || math.Abs(top2c[i]) > math.Abs(top1c[i]) {
					t.Fatalf("row %d: top1 %s %v, top2 %v; the largest is %s %v", i, top1[i], top1c[i], top2c[i], contribs[best], cs[best][i])
				}
				// The log-odds from the probability are exact enough away
				// from 0 and 1 (their error is about 1e-16/(p(1-p))).
				if m.Outputs() == 1 && p > 1e-4 && p < 1-1e-4 {
					if logit := math.Log(p / (1 - p)); math.Abs(sum-logit) > 1e-9 {
						t.Fatalf("row %d: base + contributions %v, log-odds of p = %v: %v", i, sum, p, logit)
					}
					checked++
				}
			}
			if m.Outputs() == 1 && checked < len(base)/2 {
				t.Errorf("only %d of %d rows checked", checked, len(base))
			}
			if m.Outputs() > 1 && len(label) == 0 {
				t.Error("no rows")
			}
		})
	}
}

// TestKeep: kept columns come first, typed as in the input, including a
// column the model never saw; a kept column may not take an output
// column's name.
func TestKeep(t *testing.T) {
	m := loadModel(t, "gbdt")
	in := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(in, []byte("flight,date,delay,distance,origin,destination\nAA1,2001-06-01T08:00:00,5,300,ORD,SFO\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	res, err := score.Run(context.Background(), m, ingest.Source{Path: in}, score.Options{Out: out, Keep: []string{"flight", "delay"}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	if !bytes.HasPrefix(data, []byte(`{"flight":"AA1","delay":5,"probability":`)) || res.Columns[0] != "flight" {
		t.Errorf("output %s", data)
	}
	if _, err := score.Run(context.Background(), m, ingest.Source{Path: in}, score.Options{Out: out, Keep: []string{"label"}}); !errors.Is(err, score.ErrUsage) {
		t.Errorf("keeping a column named label: %v, want ErrUsage", err)
	}
}

// TestRegression: a regression model writes its prediction (no label),
// the number TransformRow and PredictRow give for the row, bit for bit,
// and its explanation adds up to the prediction.
func TestRegression(t *testing.T) {
	m := loadModel(t, "mass")
	out := filepath.Join(t.TempDir(), "mass.parquet")
	res, err := score.Run(context.Background(), m, ingest.Source{Path: "../data/penguins.csv"}, score.Options{Out: out, Explain: true, Skip: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scored == 0 || slices.Contains(res.Columns, "label") || !slices.Contains(res.Columns, "prediction") {
		t.Fatalf("result %+v", res)
	}
	tbl := readParquet(t, out)
	pred, base := column(t, tbl, "prediction"), column(t, tbl, "base_value")
	var contribs [][]string
	for _, f := range tbl.Schema().Fields() {
		if strings.HasPrefix(f.Name, "contribution_") {
			contribs = append(contribs, column(t, tbl, f.Name))
		}
	}
	// The same rows, one at a time, through the single-row path.
	schema := ingest.Schema{}
	for _, in := range m.Inputs() {
		schema.Columns = append(schema.Columns, ingest.ColumnSpec{Name: in.Name, Type: in.Type, Nullable: true})
	}
	schema.AllowExtra = true
	ds, err := ingest.Load(context.Background(), ingest.Source{Path: "../data/penguins.csv"}, schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Release()
	rules := m.Rules()
	cols := make([]arrow.Array, len(rules))
	for j := range rules {
		if cols[j], err = array.Concatenate(ds.Table.Column(j).Data().Chunks(), memory.DefaultAllocator); err != nil {
			t.Fatal(err)
		}
		defer cols[j].Release()
	}
	k, row, vec := 0, make([]float64, 1), []float64(nil)
	for i := range int(ds.Table.NumRows()) {
		r := features.Row{}
		skip := false
		for j, rule := range rules {
			ch := cols[j]
			switch {
			case ch.IsNull(i):
				r[rule.Name] = nil
				skip = skip || !rule.Nullable
			case ch.DataType().ID() == arrow.FLOAT64:
				r[rule.Name] = ch.(*array.Float64).Value(i)
			case ch.DataType().ID() == arrow.INT64:
				r[rule.Name] = ch.(*array.Int64).Value(i)
			default:
				r[rule.Name] = ch.ValueStr(i)
			}
		}
		if skip {
			continue // a rejected row
		}
		if vec, err = m.Bundle.Features.TransformRow(r, vec); err != nil {
			t.Fatal(err)
		}
		m.Bundle.Model.PredictRow(vec, row)
		if want := strconv.FormatFloat(row[0], 'g', -1, 64); pred[k] != want {
			t.Fatalf("row %d: predict wrote %s, PredictRow gives %s", i, pred[k], want)
		}
		sum, _ := strconv.ParseFloat(base[k], 64)
		for _, c := range contribs {
			v, _ := strconv.ParseFloat(c[k], 64)
			sum += v
		}
		if math.Abs(sum-row[0]) > 1e-9 {
			t.Fatalf("row %d: base + contributions %v, prediction %v", i, sum, row[0])
		}
		k++
	}
	if int64(k) != res.Scored {
		t.Errorf("%d rows checked, %d scored", k, res.Scored)
	}
}
