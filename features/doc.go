// Package features turns raw columns into the numbers models learn from.
//
// In: the training split (an arrow.Table) and a Spec saying which
// transform applies to each column. Out: a fitted Pipeline, plain data
// serialised as JSON, whose Transform maps a table to a Matrix and whose
// TransformRow maps one raw row to the same vector, bit for bit.
//
// Matrix is the contract between features and train: column-major
// float64 columns, each Numeric (NaN means missing) or Categorical
// (integer codes in [0, Card); code 0 is "unknown": unseen, rare or
// missing).
//
// Large training splits: FitEncoderFrom fits the same Pipeline as Fit in
// one pass over a tables.Source, a range of rows at a time (every count
// and sum is taken in row order, so the ranges change no bit), without
// the training table held whole; FitEncoder is FitEncoderFrom over a
// table. Both return a TrainEncoder that transforms the training rows
// (with their out-of-fold target encodings) a range, or a gathered
// sample, at a time, bit for bit as Fit's matrix; a caller that bins
// each range at once (gbdt's BinBuilder) never holds the float training
// matrix whole. ConstantPartsFrom, the check for time parts that never
// change, reads a Source likewise.
package features
