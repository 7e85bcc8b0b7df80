// Package score scores files in batch with a model bundle: the work of
// `mlpipe predict`.
//
// In: a serve.Model (a bundle that passed serving's load checks), an
// ingest.Source (a file, a glob or a directory in any format ingest
// reads, with its CSV settings) and Options (among them the columns'
// timestamp formats and zones, as the training config gave them). Out: one file (Parquet, CSV or JSON Lines) with a
// row per scored input row, in input order: the columns kept from the
// input, the probability of the positive class and the label (a binary
// model), the probability of each class (probability_CLASS) and the
// label (a multiclass one) or the prediction (a regression), the
// inputs that fell into the unknown bucket, the model's name and
// version, and, when asked, the explanation (base value and each input's
// contribution, or the largest few); a rejects file of the rows that
// were skipped, with the reason; a Result that counts them.
//
// The input is read a chunk at a time (ingest.Scan: a Parquet row group,
// a block of CSV lines), and chunks are checked, encoded, scored and
// explained on several goroutines while the next ones are read and the
// previous ones written, so memory is bounded by a few chunks whatever
// the size of the input.
//
// Every row is checked against the bundle's input contract by the rules
// mlserve applies to a request (serve.Rule): a null where training had
// none, a number that is not finite, negative where training had no
// negative value, or more than ten times the largest training
// magnitude, and a value that does not parse. With Skip unset the first
// bad row, in file order, stops the run with an error naming its file,
// row (or line) and column; with Skip it is left out, counted and
// written with its reason to the rejects file.
//
// The numbers are mlserve's, bit for bit: the features come from
// features.Pipeline.Transform (bit for bit the serving encoder's, as the
// features tests check) and the probabilities from the model's
// PredictProba (bit for bit PredictRow's); score_test.go checks the
// written file against mlserve's responses for the same rows.
package score
