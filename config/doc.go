// Package config reads a pipeline config file.
//
// In: a YAML file (configs/flights.yaml is the default task). Out: a
// *Config whose sections are the spec types of the packages that use them
// (ingest.Source, ingest.Schema, features.Spec, ...), with relative paths
// resolved against the file's directory and every value validated.
//
// Decoding is strict. An unknown key or an invalid value is an error that
// wraps ErrInvalid and names the file, the line and the key path, with
// the nearest known word for a mistyped key, metric or model name:
//
//	config: configs/flights.yaml:12: data.formatt: unknown key (did you mean format?)
//	config: configs/flights.yaml:31: split.test_from: must be after validation_from
//
// Defaults are applied by the owning packages (a zero field means "the
// default"), and the default config documents each of them in comments.
package config
