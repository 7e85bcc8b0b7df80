package predlog

import "io"

// SetTestHooks makes the writers built with o write each file through
// wrap (nil: directly) with a write buffer of bufSize bytes (0: default).
func SetTestHooks(o *Options, wrap func(io.Writer) io.Writer, bufSize int) {
	o.wrap, o.bufSize = wrap, bufSize
}

// RecordEncoder returns the writer goroutine's encoder for predictions,
// with its own scratch space, for tests and benchmarks.
func RecordEncoder() func([]byte, *Record) ([]byte, error) {
	e := new(encoder)
	return func(b []byte, r *Record) ([]byte, error) { return e.appendRecord(b, r) }
}
