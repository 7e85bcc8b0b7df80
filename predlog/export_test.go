package predlog

import "io"

// SetTestHooks makes the writers built with o write each file through
// wrap (nil: directly).
func SetTestHooks(o *Options, wrap func(io.Writer) io.Writer) {
	o.wrap = wrap
}

// RecordEncoder returns Log's encoder for predictions, with its own
// scratch space and the default MaxFieldBytes, for tests and benchmarks.
func RecordEncoder() func([]byte, *Record) ([]byte, error) {
	e := &encoder{max: DefaultMaxFieldBytes}
	return func(b []byte, r *Record) ([]byte, error) { return e.appendRecord(b, r) }
}
