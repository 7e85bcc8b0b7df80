// Package ingest is the first stage of the pipeline: it turns files into
// a validated, profiled and split Arrow table.
//
// In: a Source (a file, a glob or a directory of partition files in
// Parquet, Arrow IPC file or stream, CSV or TSV (any one-byte delimiter,
// with or without a header), JSON Lines or a JSON array, the text formats
// gzip- or zstd-compressed or not, or an Excel worksheet, read as the CSV
// it would be saved as (xlsx.go); optionally a time window) and a Schema
// (the data contract: column names, types, nullability, ranges, allowed
// categories, and how a text timestamp is written and in which zone).
//
// Out:
//   - Load: a *Dataset, one arrow.Table in the contract's column order and
//     types, with the file and row each table row came from;
//   - Scan: the same rows a chunk at a time (a Parquet row group, an Arrow
//     record batch, a block of text lines), in order, for work whose
//     memory must not grow with the data (scan.go);
//   - Validate: a *Report of issues (errors fail the stage, warnings do
//     not), each naming the file, column and row or line; a Validator
//     gives the same report from Scan's chunks, a chunk at a time;
//   - Fingerprint: a content hash that ignores file names and layout
//     (a Fingerprinter computes it fed a scan's chunks one by one);
//   - ProfileTable: per-column statistics, saved as JSON, which are the
//     drift monitor's baseline;
//   - Split: train, validation and test tables, by time or at random, in
//     one pass whatever the row order (TimeSlice cuts one time window);
//     an Assigner makes the same per-row decision a chunk at a time,
//     and SplitRows reads one split's rows again from the files, range
//     by range, as a tables.Source (splitrows.go);
//   - LabelSpec.Derive: the training target of each row, and
//     DropUnlabelled: the rows without one left out (label.missing: drop);
//     LabelSpec.Keep tells which rows of a chunk stay, for a stream;
//   - ReadSplits: all of the above in one pass of Scan, holding the
//     validation and test rows and leaving the training rows in the files
//     (read again through SplitRows): the ingest stages of a run that
//     never holds the whole table (readsplits.go).
//
// Load checks structure (files, columns, types, parsing) and Validate
// checks values. Scan checks what Load checks and stops with the same
// error, but a chunk at a time: a text file fails only once Scan reaches
// its problem (a byte that is not UTF-8, say), and a JSON Lines file
// whose keys do not meet the contract fails at its end, as only then
// are all its keys known, so fn may have seen the chunks before. Both report bad data as an *InvalidError wrapping
// ErrInvalid, never a panic; an I/O failure is a plain wrapped error, and
// a source that matches no file wraps ErrNoFiles.
//
// Reading is parallel: row groups of one Parquet file, chunks of one
// CSV or JSON Lines file, batches of a JSON array's elements, or whole
// files when there are several. Each long loop checks its context. A file
// that is not what its name says (compressed, binary, UTF-16, Latin-1,
// CR-only line ends, a FIFO) gets one error saying so.
package ingest
