package ui

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/mlpipe/mlpipe/backtest"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/report"
)

// MonitoringDir is where the monitor's reports of model NAME are read
// from: REGISTRY/monitoring/NAME/*.json, one monitor.Report each.
const MonitoringDir = "monitoring"

// maxWindows is how many of a model's latest monitor reports the page
// shows.
const maxWindows = 30

// window is one monitor report and the label of its column.
type window struct {
	Label  string
	Report *monitor.Report
}

type driftCell struct {
	PSI    string
	Status string
}

type driftRow struct {
	Feature string
	Cells   []driftCell
}

type modelMonitoring struct {
	Name         string
	Windows      []window
	Drift        []driftRow
	DriftChart   template.HTML
	PerfChart    template.HTML
	Unreadable   []string
	Latest       *monitor.Report
	PSIThreshold float64
}

type backtestView struct {
	Path   string
	Result *backtest.Result
	Chart  template.HTML
}

type monitoringPage struct {
	Models   []modelMonitoring
	Backtest *backtestView
	Dir      string
}

func (s *Server) handleMonitoring(w http.ResponseWriter, r *http.Request) {
	names, err := s.store.Models()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := monitoringPage{Dir: filepath.Join(s.store.Root(), MonitoringDir)}
	for _, name := range names {
		m, err := readMonitoring(filepath.Join(p.Dir, name))
		if err != nil {
			s.internal(w, r, err)
			return
		}
		m.Name = name
		p.Models = append(p.Models, m)
	}
	if p.Backtest, err = s.latestBacktest(); err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, monitoringTmpl, "monitoring", "Monitoring", p)
}

// readMonitoring reads the monitor reports in dir (none if it does not
// exist), oldest window first, and draws them.
func readMonitoring(dir string) (modelMonitoring, error) {
	var m modelMonitoring
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return m, err
	}
	type named struct {
		file string
		r    *monitor.Report
	}
	var reports []named
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			m.Unreadable = append(m.Unreadable, fmt.Sprintf("%s: %v", filepath.Base(f), err))
			continue
		}
		var rep monitor.Report
		if err := json.Unmarshal(data, &rep); err != nil {
			m.Unreadable = append(m.Unreadable, fmt.Sprintf("%s: %v", filepath.Base(f), err))
			continue
		}
		reports = append(reports, named{filepath.Base(f), &rep})
	}
	slices.SortStableFunc(reports, func(a, b named) int {
		return cmp.Or(windowEnd(a.r).Compare(windowEnd(b.r)), strings.Compare(a.file, b.file))
	})
	if len(reports) > maxWindows {
		reports = reports[len(reports)-maxWindows:]
	}
	if len(reports) == 0 {
		return m, nil
	}
	var features []string
	for _, n := range reports {
		label := strings.TrimSuffix(n.file, ".json")
		if t := windowEnd(n.r); !t.IsZero() {
			label = t.UTC().Format("Jan 2 15:04")
		}
		m.Windows = append(m.Windows, window{Label: label, Report: n.r})
		for _, f := range allSeries(n.r) {
			if !slices.Contains(features, f.Name) {
				features = append(features, f.Name)
			}
		}
	}
	m.Latest = reports[len(reports)-1].r
	m.PSIThreshold = m.Latest.Thresholds.PSI
	for _, name := range features {
		row := driftRow{Feature: name}
		for _, win := range m.Windows {
			cell := driftCell{PSI: "—"}
			for _, f := range allSeries(win.Report) {
				if f.Name == name {
					cell.Status = f.Status
					if f.PSI != nil {
						cell.PSI = fmt.Sprintf("%.3f", *f.PSI)
					}
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		m.Drift = append(m.Drift, row)
	}
	svg, err := driftChart(m.Windows, features, m.PSIThreshold)
	if err != nil {
		return m, err
	}
	m.DriftChart = report.InlineSVG(svg)
	if svg, err = perfChart(m.Windows); err != nil {
		return m, err
	}
	m.PerfChart = report.InlineSVG(svg)
	return m, nil
}

// windowEnd is when a report's window ends (or starts, if it is open).
func windowEnd(r *monitor.Report) time.Time {
	if !r.To.IsZero() {
		return r.To
	}
	return r.From
}

// allSeries are a report's features and its score series.
func allSeries(r *monitor.Report) []monitor.Feature {
	if r.Score == nil {
		return r.Features
	}
	return append(slices.Clip(r.Features), *r.Score)
}

// seriesColors are the lines of the charts (Okabe–Ito, as the backtest
// chart's).
var seriesColors = []color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, {0xd5, 0x5e, 0x00, 0xff}, {0x00, 0x9e, 0x73, 0xff}, {0xcc, 0x79, 0xa7, 0xff},
	{0xe6, 0x9f, 0x00, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0x00, 0x00, 0x00, 0xff}, {0xf0, 0xe4, 0x42, 0xff},
}

func newChart(title, y string, windows []window) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "monitoring window (end)"
	p.Y.Label.Text = y
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.Legend.TextStyle.Font, &p.X.Label.TextStyle.Font,
		&p.Y.Label.TextStyle.Font, &p.X.Tick.Label.Font, &p.Y.Tick.Label.Font} {
		f.Variant = "Sans"
	}
	var ticks plot.ConstantTicks
	step := max(1, len(windows)/6)
	for i, w := range windows {
		t := plot.Tick{Value: float64(i)}
		if i%step == 0 {
			t.Label = w.Label
		}
		ticks = append(ticks, t)
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = -0.2, float64(len(windows))-0.8
	p.Add(plotter.NewGrid())
	return p
}

// drawLegendBeside draws p on c with its legend in a column to the right
// of the plot, where it covers no line: inside, it hid the drift
// threshold whenever the PSIs were small.
func drawLegendBeside(p *plot.Plot, c draw.Canvas) {
	legend := p.Legend
	p.Legend = plot.NewLegend() // no entries: p.Draw draws no legend
	p.Legend.TextStyle = legend.TextStyle
	const gap = vg.Length(12)
	r := legend.Rectangle(c)
	// The text is measured in Liberation Sans; a quarter more leaves room
	// for a wider sans-serif in the viewer.
	width := 1.25*(r.Max.X-r.Min.X) + 2*gap
	p.Draw(draw.Crop(c, 0, -width, 0, 0))
	legend.Top, legend.Left = true, true
	legend.YOffs = -p.Title.TextStyle.Height(p.Title.Text) - gap // level with the plot's top
	legend.Draw(draw.Crop(c, c.Max.X-c.Min.X-width+gap, 0, 0, 0))
}

// driftChart draws the PSI of each series per window, with the drift
// threshold dashed.
func driftChart(windows []window, features []string, threshold float64) ([]byte, error) {
	p := newChart("Drift: PSI per feature", "PSI", windows)
	top := threshold
	for i, name := range features {
		var pts plotter.XYs
		for k, w := range windows {
			for _, f := range allSeries(w.Report) {
				if f.Name == name && f.PSI != nil && !math.IsNaN(*f.PSI) {
					pts = append(pts, plotter.XY{X: float64(k), Y: *f.PSI})
					top = max(top, *f.PSI)
				}
			}
		}
		if err := addLine(p, pts, name, seriesColors[i%len(seriesColors)], false); err != nil {
			return nil, err
		}
	}
	if threshold > 0 {
		ref := plotter.XYs{{X: p.X.Min, Y: threshold}, {X: p.X.Max, Y: threshold}}
		if err := addLine(p, ref, "drift threshold", color.RGBA{0x99, 0x99, 0x99, 0xff}, true); err != nil {
			return nil, err
		}
	}
	p.Y.Min = 0
	if top > 0 {
		p.Y.Max = 1.15 * top // the threshold below the top edge, not on it
	}
	return svgOf(p)
}

// perfChart draws the labelled ROC AUC (a regression's RMSE) per window
// beside the test split's, and a binary model's ROC AUC estimated
// without labels with its 95% band; nil when no window has either.
func perfChart(windows []window) ([]byte, error) {
	var live, test, est, low, high plotter.XYs
	name := "ROC AUC"
	for k, w := range windows {
		if e := w.Report.Estimate; e != nil && e.Rows > 0 {
			x := float64(k)
			est = append(est, plotter.XY{X: x, Y: e.ROCAUC.Value})
			low = append(low, plotter.XY{X: x, Y: e.ROCAUC.Low})
			high = append(high, plotter.XY{X: x, Y: e.ROCAUC.High})
		}
		perf := w.Report.Performance
		if perf == nil {
			continue
		}
		liveV, testV := perf.ROCAUC, (*float64)(nil)
		if perf.Test != nil {
			testV = perf.Test.ROCAUC
		}
		if perf.RMSE != nil {
			name, liveV, testV = "RMSE", perf.RMSE, nil
			if perf.Test != nil {
				testV = perf.Test.RMSE
			}
		}
		if liveV != nil {
			live = append(live, plotter.XY{X: float64(k), Y: *liveV})
		}
		if testV != nil {
			// A step across the window's column, so that the reference
			// shows with a single window too (a dashed line of one
			// point is invisible).
			x, y := float64(k), *testV
			test = append(test, plotter.XY{X: max(x-0.5, -0.2), Y: y}, plotter.XY{X: min(x+0.5, float64(len(windows))-0.8), Y: y})
		}
	}
	if len(live) == 0 && len(est) == 0 {
		return nil, nil
	}
	title := "Performance: " + name + " of the labelled predictions"
	if len(est) > 0 {
		title = "Performance: " + name + ", labelled and estimated without labels"
	}
	p := newChart(title, name, windows)
	if err := addLine(p, live, "labelled", seriesColors[0], false); err != nil {
		return nil, err
	}
	if err := addLine(p, est, "estimated", seriesColors[1], false); err != nil {
		return nil, err
	}
	for _, b := range []plotter.XYs{low, high} {
		if err := addLine(p, b, "", seriesColors[1], true); err != nil {
			return nil, err
		}
	}
	if err := addLine(p, test, "test split", color.RGBA{0x99, 0x99, 0x99, 0xff}, true); err != nil {
		return nil, err
	}
	// A margin above and below the lines, so that none runs along the
	// plot's edge.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, pt := range slices.Concat(live, test, low, high) {
		lo, hi = min(lo, pt.Y), max(hi, pt.Y)
	}
	pad := max(0.15*(hi-lo), 0.02*max(math.Abs(lo), math.Abs(hi)), 1e-3)
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	return svgOf(p)
}

func addLine(p *plot.Plot, pts plotter.XYs, name string, c color.Color, dashed bool) error {
	if len(pts) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color, l.Width = c, vg.Points(1.5)
	s.Color, s.Shape = c, draw.CircleGlyph{}
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		s.Radius = 0
	}
	p.Add(l, s)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

func svgOf(p *plot.Plot) ([]byte, error) {
	c := vgsvg.New(8*vg.Inch, 3.5*vg.Inch)
	drawLegendBeside(p, draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	return buf.Bytes(), nil
}

// BacktestsDir holds backtest results in the registry:
// REGISTRY/backtests/NAME/backtest.json.
const BacktestsDir = "backtests"

// latestBacktest reads the newest backtest.json (by modification time)
// of the registry's backtests/ and Options.Backtests; nil if none.
func (s *Server) latestBacktest() (*backtestView, error) {
	files, err := filepath.Glob(filepath.Join(s.store.Root(), BacktestsDir, "*", "backtest.json"))
	if err != nil {
		return nil, err
	}
	files = append(files, s.opts.Backtests...)
	var newest string
	var at time.Time
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if newest == "" || info.ModTime().After(at) {
			newest, at = f, info.ModTime()
		}
	}
	if newest == "" {
		return nil, nil
	}
	res, err := ReadBacktest(newest)
	if err != nil {
		return nil, err
	}
	svg, err := res.Chart("svg")
	if err != nil {
		return nil, err
	}
	return &backtestView{Path: newest, Result: res, Chart: report.InlineSVG(svg)}, nil
}

// ReadBacktest reads a backtest.json as `mlpipe simulate` writes it. Its
// scores that are null (an AUC of a period with one class) read back as
// NaN.
func ReadBacktest(path string) (*backtest.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read backtest: %w", err)
	}
	var res backtest.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("read backtest %s: %w", path, err)
	}
	// encoding/json leaves a float at 0 for null: find the nulls again.
	var nulls struct {
		Policies []struct {
			Score     []*float64 `json:"score"`
			MeanScore *float64   `json:"mean_score"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(data, &nulls); err != nil {
		return nil, fmt.Errorf("read backtest %s: %w", path, err)
	}
	for i, p := range nulls.Policies {
		if i >= len(res.Policies) {
			break
		}
		for k, v := range p.Score {
			if v == nil && k < len(res.Policies[i].Score) {
				res.Policies[i].Score[k] = math.NaN()
			}
		}
		if p.MeanScore == nil {
			res.Policies[i].MeanScore = math.NaN()
		}
	}
	for _, p := range res.Policies {
		n := len(res.Periods)
		if len(p.Score) != n || len(p.Retrained) != n || len(p.Promoted) != n {
			return nil, fmt.Errorf("read backtest %s: policy %q has %d scores for %d periods (a backtest.json from before mlpipe wrote scores: run mlpipe simulate again)", path, p.Name, len(p.Score), n)
		}
	}
	return &res, nil
}
