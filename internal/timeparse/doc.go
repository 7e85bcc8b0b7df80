// Package timeparse reads a naive local timestamp ("2001-06-15",
// "2001-06-15 08:30", "2001-06-15T08:30:00", with a fraction of a
// second) the way ingest's CSV and JSON readers do, for code that reads
// single values: serving, and the fitted feature pipeline's TransformRow.
//
// In: a string or bytes. Out: the time, in UTC as wall-clock time, or an
// error naming the value; a value with a zone or offset is an error.
package timeparse
