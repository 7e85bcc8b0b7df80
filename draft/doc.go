// Package draft writes a first pipeline config for a data file, so that
// a new task starts from a config to check rather than a blank page.
//
// In: an ingest.Source (a file, a glob or a directory, in any format
// ingest reads) and Options: the label column, optionally its kind, and
// how many rows to look at.
//
// Out: Write returns the config as commented YAML that config.Parse
// accepts, with a comment at every choice that the data made:
//
//   - the schema: each column's name from the file (ingest.Columns) and
//     its type, from the file's own types (Parquet, Arrow) or inferred
//     from the values of the first rows (the text formats and Excel
//     worksheets): the narrowest
//     of int64, float64, bool, timestamp and string that every value
//     parses as; nullable where a value is missing;
//   - the label: its kind from its values (two values: binary, with the
//     rarer one positive; a few integers or strings: multiclass; other
//     numbers: regression), unless Options.Kind says;
//   - the split: by time on the first timestamp column, cut at 70% and
//     85% of its rows (read in full: the first rows of a file rarely span
//     its time), or at random when there is no time: of groups
//     (split.group) when a column's rows come in runs, each value in one
//     run (the rows of one entity written together), else of rows;
//   - the features: numeric for numbers, categorical for text and bools,
//     time parts for timestamps; columns that cannot help (one value, a
//     distinct value per row, numbers written with "NA" for missing, the
//     split's groups) are left out, each with the reason in a comment;
//   - the models: logreg and gbdt (ridge and gbdt for a regression).
//
// The types come from a sample, so the draft says how many rows it read;
// `mlpipe ingest` then checks every row against the schema.
package draft
