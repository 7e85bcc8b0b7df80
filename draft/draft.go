package draft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/numfmt"
	"github.com/mlpipe/mlpipe/internal/suggest"
)

// Label kinds (ingest.LabelSpec.Kind).
const (
	KindBinary     = "binary"
	KindMulticlass = "multiclass"
	KindRegression = ingest.KindRegression
)

// ErrLabel means the label named cannot be drafted: it is not a column,
// or its values are not a class or a number to predict.
var ErrLabel = errors.New("label")

func labelErr(format string, args ...any) error {
	return fmt.Errorf("draft: %w: %s", ErrLabel, fmt.Sprintf(format, args...))
}

// Options say what to draft.
type Options struct {
	// Label is the column to predict. Required.
	Label string
	// Kind is the label's kind; "" infers it from the label's values.
	Kind string
	// Rows is how many rows the types and roles are inferred from
	// (default DefaultRows).
	Rows int
	// Path is the data path written in the config: relative to the
	// config's directory, as config.Load resolves it (default the
	// source's path).
	Path string
	// Progress, if set, gets the share of the source read while the
	// time column is read in full.
	Progress func(float64)
}

// DefaultRows is how many rows a draft is inferred from unless Options
// say otherwise: enough to see most values of a categorical column, few
// enough to read in a moment.
const DefaultRows = 10000

// maxClasses is the most distinct values of a text label drafted as
// multiclass; maxIntClasses of an integer label, above which a number is
// taken to be a quantity (a regression).
const (
	maxClasses    = 50
	maxIntClasses = 10
)

// Write drafts a config for src and returns it as YAML. src's Delimiter,
// Header and SkipRows are used as given; a CSV delimiter left empty is
// guessed from the header line (ingest.Columns).
func Write(ctx context.Context, src ingest.Source, opt Options) ([]byte, error) {
	if opt.Rows <= 0 {
		opt.Rows = DefaultRows
	}
	switch opt.Kind {
	case "", KindBinary, KindMulticlass, KindRegression:
	default:
		return nil, labelErr("unknown kind %q (want %s, %s or %s)", opt.Kind, KindBinary, KindMulticlass, KindRegression)
	}
	lay, err := ingest.Columns(ctx, src)
	if err != nil {
		return nil, err
	}
	if lay.Format == ingest.FormatCSV && src.Delimiter == "" && lay.Delimiter != ',' {
		src.Delimiter = string(lay.Delimiter)
	}
	sheetNote := ""
	if lay.Format == ingest.FormatXLSX && src.Sheet == "" {
		// Named, so that the config reads the same sheet if the
		// workbook's sheets are moved.
		src.Sheet = lay.Sheet
		if len(lay.Sheets) > 1 {
			sheetNote = fmt.Sprintf("the first visible of %d: %s", len(lay.Sheets), strings.Join(lay.Sheets, ", "))
		}
	}
	if !lay.Header {
		f := false
		src.Header = &f
	}
	cols := make([]*column, len(lay.Columns))
	names := make([]string, len(lay.Columns))
	for j, f := range lay.Columns {
		cols[j] = &column{name: f.Name}
		names[j] = f.Name
		if strings.TrimSpace(f.Name) == "" {
			// A schema cannot name it; pandas writes its index so.
			cols[j].why = "no name in the header (an index written by pandas?)"
			continue
		}
		if f.Type != nil { // the file's own type
			if cols[j].typ = ingest.ContractType(f.Type); cols[j].typ == "" {
				cols[j].why = fmt.Sprintf("its type %s is not one mlpipe reads", f.Type)
			}
		}
	}
	label := find(cols, opt.Label)
	switch {
	case opt.Label == "":
		return nil, labelErr("name the label column; the columns are %s", strings.Join(names, ", "))
	case label == nil:
		return nil, labelErr("%s has no column %q%s; its columns are %s", lay.File, opt.Label,
			hintOf(suggest.DidYouMean(opt.Label, names, strconv.Quote)), strings.Join(names, ", "))
	}
	if dup := duplicate(names); dup != "" {
		return nil, fmt.Errorf("draft: %s: %w: the column %q appears more than once; rename one", lay.File, ingest.ErrInvalid, dup)
	}
	switch lay.Format {
	case ingest.FormatCSV, ingest.FormatTSV, ingest.FormatXLSX, ingest.FormatJSONL, ingest.FormatJSON: // text: infer the types
		if err := typesFromText(ctx, src, cols, opt.Rows); err != nil {
			return nil, err
		}
	}
	if err := profile(ctx, src, cols, opt.Rows); err != nil {
		return nil, err
	}
	d := &doc{src: src, lay: lay, cols: cols, label: label, opt: opt, sheetNote: sheetNote}
	if err := d.decideLabel(); err != nil {
		return nil, err
	}
	if err := d.decideSplit(ctx); err != nil {
		return nil, err
	}
	out := d.render()
	if _, err := config.Parse(out, "the draft"); err != nil {
		return nil, fmt.Errorf("draft: the config drafted does not validate (a bug; please report it): %w", err)
	}
	return out, nil
}

// duplicate is a name that names holds twice, or "". Columns without a
// name are not read, so they may be several.
func duplicate(names []string) string {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] && strings.TrimSpace(n) != "" {
			return n
		}
		seen[n] = true
	}
	return ""
}

func hintOf(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// doc is a config being drafted.
type doc struct {
	src   ingest.Source
	lay   *ingest.Layout
	cols  []*column
	label *column
	opt   Options

	kind, positive string
	labelNote      string

	timeCol             *column // the column a time split cuts, if any
	validFrom, testFrom time.Time
	group               *column // the column a random split keeps the groups of, if any
	splitNote           string
	sheetNote           string // how the worksheet was chosen, when the draft chose it among others
}

// decideLabel sets the label's kind (Options.Kind, or inferred from its
// values) and, for a binary label, its positive value.
func (d *doc) decideLabel() error {
	c := d.label
	n, rows := len(c.distinct), numfmt.Thousands(c.rows)
	if c.values() == 0 {
		return labelErr("the label column %q has no values in the first %s rows", c.name, rows)
	}
	if n == 1 && !c.more {
		return labelErr("the label column %q has one value in %s rows: there is nothing to predict", c.name, rows)
	}
	d.kind = d.opt.Kind
	if d.kind == "" {
		switch {
		case c.typ == "" || strings.HasPrefix(c.typ, "timestamp"):
			return labelErr("the label column %q is a %s: mlpipe predicts a class or a number", c.name, c.typeName())
		case n == 2 && !c.more:
			d.kind = KindBinary
		case c.typ == typeString || c.typ == typeBool:
			if c.more || n > maxClasses {
				return labelErr("the label column %q has %s distinct text values in %s rows: too many classes; a label is a class (binary, multiclass) or a number (regression)", c.name, c.distinctText(), rows)
			}
			d.kind = KindMulticlass
			d.labelNote = fmt.Sprintf("%d classes in %s rows", n, rows)
		case c.typ == typeInt && n <= maxIntClasses:
			d.kind = KindMulticlass
			d.labelNote = fmt.Sprintf("%d distinct integers in %s rows; for a quantity to predict, set kind: regression", n, rows)
		default:
			d.kind = KindRegression
			d.labelNote = fmt.Sprintf("%s distinct numbers in %s rows", c.distinctText(), rows)
		}
	}
	switch d.kind {
	case KindBinary:
		if n != 2 || c.more {
			return labelErr("the label column %q has %s distinct values in %s rows, not 2: a binary label needs a rule; write label.positive yourself (e.g. \"> 15\")", c.name, c.distinctText(), rows)
		}
		vals := c.sortedValues()
		a, b := vals[0], vals[1] // b is the rarer, or the later of two as common
		if c.distinct[a] < c.distinct[b] {
			a, b = b, a
		}
		d.positive = b
		if c.typ == typeInt || c.typ == typeFloat {
			d.positive = "== " + b
		}
		d.labelNote = fmt.Sprintf("%s: %s of %s rows; the other value is %s", b, numfmt.Thousands(c.distinct[b]), numfmt.Thousands(c.values()), a)
	case KindMulticlass:
		if c.more || n > maxClasses {
			return labelErr("the label column %q has %s distinct values in %s rows: too many classes for multiclass", c.name, c.distinctText(), rows)
		}
	case KindRegression:
		if c.typ != typeInt && c.typ != typeFloat {
			return labelErr("the label column %q is %s, not a number: a regression label is int64 or float64", c.name, c.typeName())
		}
	}
	return nil
}

// decideSplit picks a time split on the first timestamp column that is
// not the label, cut at 70% and 85% of its rows in time order, or a
// random split when there is none or its times span too few days.
func (d *doc) decideSplit(ctx context.Context) error {
	if err := d.decideTimeSplit(ctx); err != nil || d.timeCol != nil {
		return err
	}
	// Rows in runs of one value of a column, each value in one run, are
	// the rows of one entity (a person's four choices); a random split
	// of rows would put some in training and the others in test, and
	// score the model on what it has seen.
	for _, c := range d.cols {
		if c != d.label && c.grouping() {
			d.group = c
			d.splitNote += fmt.Sprintf(" of the values of %s (%s values, %s rows each, every value's rows together): no value is both learned from and tested on",
				c.name, c.distinctText(), strconv.FormatFloat(float64(c.values())/float64(c.runs), 'f', 1, 64))
			return nil
		}
	}
	return nil
}

// decideTimeSplit sets the time split's column and dates, or why there
// is none.
func (d *doc) decideTimeSplit(ctx context.Context) error {
	for _, c := range d.cols {
		if c != d.label && strings.HasPrefix(c.typ, "timestamp") && c.nulls == 0 {
			d.timeCol = c
			break
		}
	}
	if d.timeCol == nil {
		d.splitNote = "no timestamp column: a seeded random split"
		for _, c := range d.cols {
			if c != d.label && strings.HasPrefix(c.typ, "timestamp") {
				d.splitNote = fmt.Sprintf("%s has missing times, which a time split refuses: a seeded random split", c.name)
				break
			}
		}
		return nil
	}
	ts, unit, err := times(ctx, d.src, d.cols, d.timeCol, d.opt.Progress)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		d.splitNote = fmt.Sprintf("%s has no times: a seeded random split", d.timeCol.name)
		d.timeCol = nil
		return nil
	}
	slices.Sort(ts)
	day := func(q float64) time.Time {
		t := arrow.Timestamp(ts[int(q*float64(len(ts)-1))]).ToTime(unit)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	first, last := day(0), day(1)
	d.validFrom, d.testFrom = day(0.70), day(0.85)
	if !(first.Before(d.validFrom) && d.validFrom.Before(d.testFrom) && !d.testFrom.After(last)) {
		d.splitNote = fmt.Sprintf("the %s rows of %s (%s to %s) do not cut into three periods of whole days: a seeded random split", numfmt.Thousands(len(ts)), d.timeCol.name, first.Format(time.DateOnly), last.Format(time.DateOnly))
		d.timeCol = nil
		return nil
	}
	d.splitNote = fmt.Sprintf("by time on %s (%s rows, %s to %s), cut at 70%% and 85%% of the rows: the model is judged on a later period than it learned from",
		d.timeCol.name, numfmt.Thousands(len(ts)), first.Format(time.DateOnly), last.Format(time.DateOnly))
	return nil
}

func (c *column) sortedValues() []string {
	vals := make([]string, 0, len(c.distinct))
	for v := range c.distinct {
		vals = append(vals, v)
	}
	sort.Strings(vals)
	return vals
}

func (c *column) distinctText() string {
	if c.more {
		return "over " + numfmt.Thousands(c.maxDistinct())
	}
	return numfmt.Thousands(len(c.distinct))
}

func (c *column) typeName() string {
	if c.typ == "" {
		return "column of a type mlpipe does not read"
	}
	return c.typ + " column"
}

// render writes the config.
func (d *doc) render() []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	path := d.opt.Path
	if path == "" {
		path = d.src.Path
	}
	w("# mlpipe pipeline config drafted by `mlpipe init` from %s\n", d.src.Path)
	if d.lay.File != d.src.Path {
		w("# (its columns from %s)\n", d.lay.File)
	}
	w("# (%s rows read for the types and roles). Check every choice; then\n", numfmt.Thousands(d.label.rows))
	w("# `mlpipe ingest --config THIS` checks every row against the schema,\n")
	w("# and `mlpipe run --config THIS` trains. docs/config.md lists every key.\n\n")
	w("name: %s\n\n", nameOf(d.lay.File))

	w("data:\n  path: %s\n", q(path))
	if d.src.Format != "" && d.src.Format != "auto" {
		w("  format: %s\n", q(d.src.Format))
	}
	if d.src.Delimiter != "" {
		w("  delimiter: %s\n", q(d.src.Delimiter))
	}
	if d.src.Sheet != "" {
		w("  sheet: %s", q(d.src.Sheet))
		if d.sheetNote != "" {
			w("                 # %s", d.sheetNote)
		}
		w("\n")
	}
	if d.src.SkipRows > 0 {
		w("  skip_rows: %d\n", d.src.SkipRows)
	}
	if d.src.Header != nil && !*d.src.Header {
		w("  header: false                    # the first line is data: the columns are named here, in file order\n")
	}

	w("\nschema:\n  columns:\n")
	var lines, notes []string
	for _, c := range d.cols {
		if c.typ == "" {
			continue
		}
		line := fmt.Sprintf("    - {name: %s, type: %s", q(c.name), q(c.typ))
		if c.nulls > 0 {
			line += ", nullable: true"
		}
		if c.format != "" {
			line += ", format: " + strconv.Quote(c.format)
		}
		lines = append(lines, line+"}")
		notes = append(notes, c.schemaNote())
	}
	writeAligned(&b, lines, notes)
	var unread []string
	for _, c := range d.cols {
		if c.typ == "" {
			name := c.name
			if strings.TrimSpace(name) == "" {
				name = "a column"
			}
			unread = append(unread, fmt.Sprintf("%s (%s)", name, c.why))
		}
	}
	if len(unread) > 0 {
		w("  allow_extra_columns: true         # not read: %s\n", strings.Join(unread, "; "))
	}

	w("\nlabel:\n  name: %s\n  column: %s\n  kind: %s", q(d.label.name), q(d.label.name), d.kind)
	if d.labelNote != "" && d.kind != KindBinary {
		w("                 # %s", d.labelNote)
	}
	w("\n")
	if d.kind == KindBinary {
		w("  positive: %s                # %s\n", q(d.positive), d.labelNote)
	}
	if d.label.nulls > 0 {
		w("  missing: drop                    # %s of %s rows have no label\n", numfmt.Thousands(d.label.nulls), numfmt.Thousands(d.label.rows))
	}

	w("\n# %s\nsplit:\n", d.splitNote)
	if d.timeCol != nil {
		w("  method: time\n  column: %s\n  validation_from: %s\n  test_from: %s\n",
			q(d.timeCol.name), d.validFrom.Format(time.DateOnly), d.testFrom.Format(time.DateOnly))
	} else {
		w("  method: random\n  validation_fraction: 0.2\n  test_fraction: 0.2\n  seed: 1\n")
		if d.group != nil {
			w("  group: %s\n", q(d.group.name))
		}
	}

	w("\nfeatures:\n")
	lines, notes = nil, nil
	var left []string
	for _, c := range d.cols {
		if c == d.label || c.typ == "" {
			continue
		}
		f, why := d.feature(c)
		if f == "" {
			left = append(left, fmt.Sprintf("#   %s: %s", c.name, why))
			continue
		}
		lines, notes = append(lines, f), append(notes, why)
	}
	writeAligned(&b, lines, notes)
	if len(left) > 0 {
		w("# left out:\n%s\n", strings.Join(left, "\n"))
	}

	w("\nmodels:\n")
	if d.kind == KindRegression {
		w("  - {name: ridge}\n  - {name: gbdt}\n")
	} else {
		w("  - {name: logreg}\n  - {name: gbdt}\n")
	}
	w("\nseed: 1\n")
	return b.Bytes()
}

// feature is column c's feature line, or "" and why it is left out.
func (d *doc) feature(c *column) (line, why string) {
	col := q(c.name)
	switch {
	case c.values() == 0:
		return "", "no values in the rows read"
	case c.constant():
		return "", "one value in every row read"
	case c.nullWords != nil:
		return "", c.schemaNote()
	case c == d.group:
		return "", "the split's groups: the test rows' values are never seen in training"
	}
	switch c.typ {
	case typeInt, typeFloat:
		if c.rowNumber() {
			return "", fmt.Sprintf("the integers %s to %s in order: a row number or an id", numfmt.Thousands(int64(c.min)), numfmt.Thousands(int64(c.max)))
		}
		return fmt.Sprintf("  - {column: %s, transform: numeric}", col), ""
	case typeBool:
		return fmt.Sprintf("  - {column: %s, transform: categorical}", col), ""
	case typeString:
		if c.identifier() {
			return "", fmt.Sprintf("%s distinct values in %s rows: an identifier or free text, which a model can only memorise", c.distinctText(), numfmt.Thousands(c.values()))
		}
		return fmt.Sprintf("  - {column: %s, transform: categorical}", col), fmt.Sprintf("%s distinct values", c.distinctText())
	}
	// A timestamp: the parts that differ between the rows read. Month
	// and year are left out of a time split: the test months were never
	// seen in training.
	var parts, same []string
	add := func(varies bool, names ...string) {
		if varies {
			parts = append(parts, names...)
		} else {
			same = append(same, names...)
		}
	}
	v := c.varies
	add(v.hour, "hour")
	add(v.day, "day_of_week", "day_of_month")
	if c != d.timeCol {
		add(v.month, "month")
		add(v.year, "year")
	}
	if len(parts) == 0 {
		if c == d.timeCol {
			return "", "only its month or year differ, and the test period's are unseen in training"
		}
		return "", "the same hour and day in every row read"
	}
	var notes []string
	if len(same) > 0 {
		notes = append(notes, "no "+strings.Join(same, ", ")+": the same in every row read")
	}
	if c == d.timeCol {
		notes = append(notes, "no month or year: the test months are unseen in training")
	}
	why = strings.Join(notes, "; ")
	return fmt.Sprintf("  - {column: %s, transform: time, parts: [%s]}", col, strings.Join(parts, ", ")), why
}

// schemaNote is the comment on c's schema line.
func (c *column) schemaNote() string {
	if c.nullWords != nil {
		words := make([]string, 0, len(c.nullWords))
		for w, n := range c.nullWords {
			words = append(words, fmt.Sprintf("%q %s times", w, numfmt.Thousands(n)))
		}
		sort.Strings(words)
		return fmt.Sprintf("text: %s; mlpipe reads only an empty field as missing", strings.Join(words, ", "))
	}
	var notes []string
	if c.zoned {
		notes = append(notes, "times with a zone (Z or an offset) are read as the wall clock they name there; set timezone to convert them to one zone")
	}
	if c.format != "" {
		notes = append(notes, fmt.Sprintf("times written as %q", c.first))
	}
	if c.nulls > 0 {
		notes = append(notes, fmt.Sprintf("%s of %s rows missing", numfmt.Thousands(c.nulls), numfmt.Thousands(c.rows)))
	}
	return strings.Join(notes, "; ")
}

// writeAligned writes lines with their notes as comments, aligned.
func writeAligned(b *bytes.Buffer, lines, notes []string) {
	width := 0
	for i, l := range lines {
		if notes[i] != "" {
			width = max(width, len(l))
		}
	}
	for i, l := range lines {
		if notes[i] == "" {
			fmt.Fprintln(b, l)
			continue
		}
		fmt.Fprintf(b, "%-*s  # %s\n", width, l, notes[i])
	}
}

var plainScalar = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

// q is s as a YAML scalar: as it is when that reads back as the same
// string, else double-quoted.
func q(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~":
		return strconv.Quote(s)
	}
	if plainScalar.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

var notName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// nameOf is a model name from a file name: its base without extensions,
// with letters, digits, '-' and '_' only.
func nameOf(file string) string {
	base := filepath.Base(file)
	for ext := filepath.Ext(base); ext != "" && ext != base; ext = filepath.Ext(base) {
		base = strings.TrimSuffix(base, ext)
	}
	name := strings.Trim(notName.ReplaceAllString(base, "-"), "-_") // a name starts with a letter or digit
	if name == "" {
		return "model"
	}
	return name
}
