package draft

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// Contract type names (ingest.ColumnSpec.Type).
const (
	typeInt    = "int64"
	typeFloat  = "float64"
	typeBool   = "bool"
	typeString = "string"
	typeTime   = "timestamp[us]"
)

// How many distinct values of a column are counted; past that a column
// only knows it has more. Text needs the count to tell an id or a free
// text from a category; any other column only whether it has one value,
// two, or a few classes, and a file may have thousands of such columns
// (2,000 columns of 5,000 numbers held 713 MB of distinct values when
// every column counted up to 100,000).
const (
	maxTextDistinct  = 100000
	maxOtherDistinct = 1000
)

// maxDistinct is how many distinct values of c are counted.
func (c *column) maxDistinct() int {
	if c.typ == typeString {
		return maxTextDistinct
	}
	return maxOtherDistinct
}

// column is one column of the data and what the sample says of it.
type column struct {
	name   string
	typ    string // a contract type; "" when the file's type has none
	format string // a timestamp's strftime pattern, when not ISO 8601
	first  string // the first value, as a text file writes it
	zoned  bool   // a text timestamp names an instant (Z or an offset)
	why    string // why typ is "" (the file's type)
	// nullWords counts values such as "NA" in a column whose other
	// values are all numbers (text formats only).
	nullWords map[string]int
	stats
}

// stats is what profile reads of a column's values in the sample.
type stats struct {
	rows     int            // sampled rows
	nulls    int            // of them, missing
	distinct map[string]int // value (as text) → rows, up to maxDistinct() values
	more     bool           // more than maxDistinct() distinct values
	// sequence: every integer so far is the one before plus 1; last is
	// the last one.
	sequence bool
	last     int64
	// runs counts the runs of one value in the rows read (nulls are
	// skipped); rerun says that a value came back after its run ended.
	runs    int
	lastKey string
	rerun   bool
	// Timestamps: the first value's parts, and which parts of the
	// values differ from them.
	firstTime time.Time
	varies    struct{ year, month, day, hour bool }
	min, max  float64 // numbers: the least and the largest value
}

func newStats() stats {
	return stats{distinct: map[string]int{}, sequence: true, min: math.Inf(1), max: math.Inf(-1)}
}

// spec is c's column in a contract that reads it as drafted.
func (c *column) spec() ingest.ColumnSpec {
	return ingest.ColumnSpec{Name: c.name, Type: c.typ, Nullable: true, Format: c.format}
}

// missingWords are the words some tools write for a missing value.
// mlpipe reads only an empty field as missing, so a column of numbers
// with these is text to it.
var missingWords = map[string]bool{"NA": true, "N/A": true, "n/a": true, "na": true, "null": true, "NULL": true, "None": true, "?": true, "-": true, ".": true}

// errEnough stops a scan once the sample is full.
var errEnough = errors.New("enough rows")

// sample reads up to rows rows of src with schema and calls add with
// each chunk's table. A value that is not of its column's type stops it
// with an error naming the column (bad.column).
func sample(ctx context.Context, src ingest.Source, schema ingest.Schema, rows int, add func(arrow.Table) error) error {
	n := 0
	err := ingest.Scan(ctx, src, schema, &ingest.Options{Parallelism: 1}, func(c *ingest.Chunk) error {
		t := c.Table
		lastLine := int64(math.MaxInt64) // the issues of rows past the sample do not count
		if left := int64(rows - n); t.NumRows() > left {
			t = tables.Slice(t, 0, left)
			defer t.Release()
			if c.Lines != nil {
				lastLine = c.Lines[left]
			}
		}
		for _, is := range c.Issues {
			if is.Severity == ingest.Error && is.Line < lastLine {
				return &badValue{column: is.Column, issue: is}
			}
		}
		n += int(t.NumRows())
		if err := add(t); err != nil {
			return err
		}
		if n >= rows {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// badValue is a sampled value that is not of its column's type.
type badValue struct {
	column string
	issue  ingest.Issue
}

func (e *badValue) Error() string { return e.issue.String() }

// Unwrap makes a bad value, left over when no column explains it (a row
// with too few fields), bad data to the caller.
func (e *badValue) Unwrap() error { return ingest.ErrInvalid }

// typesFromText reads the sample with every column as text and gives
// each the narrowest type all of its values parse as. A column whose
// values are not text at all (JSON objects or arrays) is not read: its
// why says so.
func typesFromText(ctx context.Context, src ingest.Source, cols []*column, rows int) error {
	for range len(cols) + 1 {
		schema := ingest.Schema{AllowExtra: true}
		var used []*column
		for _, c := range cols {
			if c.why == "" {
				schema.Columns = append(schema.Columns, ingest.ColumnSpec{Name: c.name, Type: typeString, Nullable: true})
				used = append(used, c)
			}
		}
		guesses := make([]textGuess, len(used))
		for j := range guesses {
			guesses[j] = newTextGuess()
		}
		err := sample(ctx, src, schema, rows, func(t arrow.Table) error {
			for j := range used {
				for _, a := range t.Column(j).Data().Chunks() {
					s := a.(*array.String)
					for i := range s.Len() {
						if s.IsValid(i) {
							guesses[j].see(s.Value(i))
						}
					}
				}
			}
			return nil
		})
		var bad *badValue
		if errors.As(err, &bad) {
			if c := find(cols, bad.column); c != nil && c.why == "" {
				c.why = fmt.Sprintf("it holds values that are not text, numbers or bools (%s)", bad.issue.Message)
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("sample %s: %w", src.Path, err)
		}
		for j, c := range used {
			c.typ, c.format = guesses[j].typ()
			c.nullWords, c.first, c.zoned = guesses[j].missing(), guesses[j].first, guesses[j].zoned
		}
		return nil
	}
	return fmt.Errorf("sample %s: no column could be read as text", src.Path)
}

// timeFormats are the strftime patterns a text column that is not ISO
// 8601 is tried with, in order: the first that reads every value wins
// (so 03/04/2020 is March 4, as in the US; the draft says which).
var timeFormats = []string{"%b %d %Y", "%d %b %Y", "%B %d, %Y", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"}

// layouts are timeFormats as Go layouts.
var layouts = func() []string {
	out := make([]string, len(timeFormats))
	for i, f := range timeFormats {
		l, err := ingest.ParseFormat(f)
		if err != nil {
			panic(err) // the list above is wrong
		}
		out[i] = l
	}
	return out
}()

// textGuess is what the text values of one column parse as so far.
type textGuess struct {
	values                         int
	first                          string
	isInt, isFloat, isBool, isTime bool
	zoned                          bool   // a time with Z or an offset was seen
	formats                        []bool // whether every value parses with timeFormats[i]
	nullWords                      map[string]int
}

func newTextGuess() textGuess {
	g := textGuess{isInt: true, isFloat: true, isBool: true, isTime: true, formats: make([]bool, len(layouts))}
	for i := range g.formats {
		g.formats[i] = true
	}
	return g
}

func (g *textGuess) see(v string) {
	if missingWords[v] {
		if g.nullWords == nil {
			g.nullWords = map[string]int{}
		}
		g.nullWords[v]++
		return
	}
	if g.values == 0 {
		g.first = v
	}
	g.values++
	if g.isInt {
		_, err := strconv.ParseInt(v, 10, 64)
		g.isInt = err == nil
	}
	if g.isFloat {
		_, err := strconv.ParseFloat(v, 64)
		g.isFloat = err == nil || errors.Is(err, strconv.ErrRange)
	}
	if g.isBool {
		switch strings.ToLower(v) {
		case "true", "false":
		default:
			g.isBool = false
		}
	}
	if g.isTime {
		// A number is not a time here, though a year alone parses as one.
		_, err := ingest.ParseTime(v)
		if err != nil && isInstant(v) {
			err, g.zoned = nil, true
		}
		g.isTime = err == nil && strings.ContainsAny(v, "-/:")
	}
	for i, ok := range g.formats {
		if ok {
			_, err := time.Parse(layouts[i], v)
			g.formats[i] = err == nil
		}
	}
}

// isInstant says whether v is an ISO 8601 time with a zone (Z or an
// offset), which the readers convert to the column's time zone.
func isInstant(v string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

// missing is the count of each word for a missing value in a column
// whose other values are numbers, bools or times; nil in a column of
// text, where such a word is one more category (penguins' sex ".").
func (g *textGuess) missing() map[string]int {
	if g.values == 0 || !(g.isInt || g.isFloat || g.isBool || g.isTime || slices.Contains(g.formats, true)) {
		return nil
	}
	return g.nullWords
}

// typ is the narrowest type of the values seen, and a timestamp's
// format when it is not ISO 8601; a column with no values is text.
func (g *textGuess) typ() (string, string) {
	switch {
	case g.values == 0:
		return typeString, ""
	case g.missing() != nil:
		return typeString, "" // numbers or times, but the words are text
	case g.isInt:
		return typeInt, ""
	case g.isFloat:
		return typeFloat, ""
	case g.isBool:
		return typeBool, ""
	case g.isTime:
		return typeTime, ""
	}
	for i, ok := range g.formats {
		if ok {
			return typeTime, timeFormats[i]
		}
	}
	return typeString, ""
}

// profile reads the sample with the columns' types and records what
// each column holds. A value that is not of its column's type (a later
// row of a text file that the types were not inferred from) makes that
// column text, and the sample is read again.
func profile(ctx context.Context, src ingest.Source, cols []*column, rows int) error {
	for range len(cols) + 1 {
		schema := ingest.Schema{AllowExtra: true}
		var used []*column
		for _, c := range cols {
			if c.typ != "" {
				schema.Columns = append(schema.Columns, c.spec())
				used = append(used, c)
				c.stats = newStats()
			}
		}
		err := sample(ctx, src, schema, rows, func(t arrow.Table) error {
			for j, c := range used {
				for _, a := range t.Column(j).Data().Chunks() {
					c.add(a)
				}
			}
			return nil
		})
		var bad *badValue
		if errors.As(err, &bad) {
			if c := find(cols, bad.column); c != nil && c.typ != typeString {
				c.typ, c.format = typeString, ""
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("sample %s: %w", src.Path, err)
		}
		return nil
	}
	return fmt.Errorf("sample %s: the types did not settle", src.Path) // cannot happen: each pass makes a column text
}

func find(cols []*column, name string) *column {
	for _, c := range cols {
		if c.name == name {
			return c
		}
	}
	return nil
}

// add records the values of a.
func (c *column) add(a arrow.Array) {
	for i := range a.Len() {
		c.rows++
		if a.IsNull(i) {
			c.nulls++
			continue
		}
		var key string
		switch a := a.(type) {
		case *array.Int64:
			v := a.Value(i)
			key = strconv.FormatInt(v, 10)
			c.minMax(float64(v))
			c.sequence = c.sequence && (c.values() == 1 || v == c.last+1)
			c.last = v
		case *array.Float64:
			key = strconv.FormatFloat(a.Value(i), 'g', -1, 64)
			c.minMax(a.Value(i))
		case *array.Boolean:
			key = strconv.FormatBool(a.Value(i))
		case *array.String:
			key = a.Value(i)
		case *array.Timestamp:
			t := a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit)
			key = t.Format(time.RFC3339Nano)
			c.timeParts(t)
		default:
			key = a.ValueStr(i)
		}
		_, seen := c.distinct[key]
		if c.runs == 0 || key != c.lastKey {
			c.runs++
			c.rerun = c.rerun || seen
			c.lastKey = key
		}
		if seen || len(c.distinct) < c.maxDistinct() {
			c.distinct[key]++
		} else {
			c.more = true
		}
	}
}

// timeParts records which parts of the times differ from the first's.
func (c *column) timeParts(t time.Time) {
	if c.firstTime.IsZero() {
		c.firstTime = t
		return
	}
	f, v := c.firstTime, &c.varies
	v.year = v.year || t.Year() != f.Year()
	v.month = v.month || t.Month() != f.Month()
	v.day = v.day || t.Day() != f.Day()
	v.hour = v.hour || t.Hour() != f.Hour()
}

func (c *column) minMax(v float64) {
	c.min, c.max = math.Min(c.min, v), math.Max(c.max, v)
}

// values is the number of non-missing sampled values.
func (c *column) values() int { return c.rows - c.nulls }

// constant says whether the sample holds one value only (or none).
func (c *column) constant() bool { return !c.more && len(c.distinct) <= 1 }

// identifier says whether most rows have a value of their own: an id, a
// name, a free text, which a model can only memorise (a category needs
// rows to learn from: on average two or more here).
func (c *column) identifier() bool {
	n := len(c.distinct)
	return (c.more || n > 50) && float64(n) > 0.5*float64(c.values())
}

// grouping says whether c's rows come in runs of one value, each value
// in a single run, at least minGroups of them and two rows a value on
// average: the rows of one entity (a person, a household) written
// together, as long-format data is. A value that comes back later in the
// rows, as a category or a measurement does, rules it out. (Past
// maxDistinct values only the counted ones can be seen to come back.)
func (c *column) grouping() bool {
	return (c.typ == typeInt || c.typ == typeString) && c.runs >= minGroups && !c.rerun && c.values() >= 2*c.runs
}

// minGroups is the fewest groups a grouping column has: fewer, and a
// random split of them is too coarse to be the draft's guess.
const minGroups = 20

// rowNumber says whether an integer column counts up by one from row to
// row, as a row number or a sequential id does.
func (c *column) rowNumber() bool {
	return c.typ == typeInt && c.values() > 50 && c.sequence
}

// times reads the whole of timestamp column c of src and returns its
// values, for the time split's cut dates. Only that column is read,
// unless a text file has no header: its fields are matched to the schema
// by position, so every column is.
func times(ctx context.Context, src ingest.Source, cols []*column, c *column, progress func(float64)) ([]int64, arrow.TimeUnit, error) {
	schema := ingest.Schema{AllowExtra: true}
	byPosition := src.Header != nil && !*src.Header
	k := -1
	for _, col := range cols {
		if col.typ == "" || (col != c && !byPosition) {
			continue
		}
		if col == c {
			k = len(schema.Columns)
		}
		schema.Columns = append(schema.Columns, col.spec())
	}
	dt, err := ingest.ArrowType(c.typ)
	if err != nil {
		return nil, 0, err
	}
	unit := dt.(*arrow.TimestampType).Unit
	var out []int64
	err = ingest.Scan(ctx, src, schema, nil, func(ch *ingest.Chunk) error {
		for _, is := range ch.Issues {
			if is.Severity == ingest.Error {
				return fmt.Errorf("%s (the types were drafted from the first rows; set --rows higher, or fix the file)", is)
			}
		}
		for _, a := range ch.Table.Column(k).Data().Chunks() {
			ts := a.(*array.Timestamp)
			for i := range ts.Len() {
				if ts.IsValid(i) {
					out = append(out, int64(ts.Value(i)))
				}
			}
		}
		if progress != nil {
			progress(ch.Progress)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read the times of %s: %w", c.name, err)
	}
	return out, unit, nil
}
