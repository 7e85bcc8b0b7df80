// Package docs holds no code: it is the home of the doc test
// (doc_test.go), which runs every shell command that README.md and
// docs/*.md show, so that a command in the documentation cannot go stale
// (a README line once told users to run `mlpipe export` without the flag
// it needed).
//
// What a doc test run takes and gives:
//
//   - In: the fenced shell blocks of README.md and docs/*.md (```sh
//     blocks, and blocks whose lines start with "$ ", followed by the
//     output they show), and the command lines in inline code
//     (`bin/mlpipe …`, `mlserve …`) that hold no placeholder such as FILE.
//   - Out: each command run, in document order, in a scratch directory
//     laid out like the repository (bin/, configs/, data/, testdata/,
//     out/), its exit status and output checked against what the
//     documentation shows. Servers (mlserve, mlpipe ui, mlpipe schedule)
//     run in the background until the next server takes their port or
//     the file ends; their ports are moved to free ones.
//
// Two levels of checking:
//
//   - `make test` (TestDocs): data/flights-3m.parquet is replaced by the
//     10,000-row fixture, so every command runs in seconds. Numbers then
//     differ from the documented ones, so it checks what does not depend
//     on the data: the exit status (an error shown is an error got), the
//     labels of the summary lines in order, the keys of every JSON answer,
//     HTTP status codes and headers of CSV output.
//   - `make docs` (TestDocs with MLPIPE_DOCS=real): the real data, and the
//     shown output compared line by line once timings, memory sizes, run
//     and request ids are masked; -update rewrites the shown output from
//     the real run. It takes several minutes (the pipeline on 3,000,000
//     rows, the backtest).
//
// An HTML comment directly above a fence steers it:
//
//	<!-- doctest: skip REASON -->   the block is not run, for REASON
//	<!-- doctest: setup COMMAND --> COMMAND runs first, unseen by readers
package docs
