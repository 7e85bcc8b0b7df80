package ingest

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/ingest/profile"
)

// A table's profile is computed by package ingest/profile, which
// serving and the monitor read profiles with, without ingest's readers;
// these are its names here.
type (
	Profile            = profile.Profile
	ColumnProfile      = profile.ColumnProfile
	NumericProfile     = profile.NumericProfile
	Quantile           = profile.Quantile
	Histogram          = profile.Histogram
	CategoricalProfile = profile.CategoricalProfile
	Frequency          = profile.Frequency
)

// QuantileProbs are the probabilities at which Profile records
// quantiles (profile.QuantileProbs).
var QuantileProbs = profile.QuantileProbs

// Defaults for ProfileOptions.
const (
	DefaultHistogramBins = profile.DefaultHistogramBins
	DefaultMaxCategories = profile.DefaultMaxCategories
)

// ProfileOptions tune ProfileTable (profile.Options).
type ProfileOptions = profile.Options

// ProfileTable computes the statistics of every column of tbl
// (profile.Table).
func ProfileTable(ctx context.Context, tbl arrow.Table, opts *ProfileOptions) (*Profile, error) {
	return profile.Table(ctx, tbl, opts)
}

// ProfileColumn profiles one column of tbl by name (profile.ColumnOf).
func ProfileColumn(tbl arrow.Table, name string) (*ColumnProfile, error) {
	return profile.ColumnOf(tbl, name)
}
