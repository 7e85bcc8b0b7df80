// Package registry stores model versions on the file system, in a layout
// a person can read with ls and cat.
//
// In: a model bundle directory (package bundle: features.json,
// model.json, training.json, ..., its record.json and its manifest.json)
// and a model name. Out: numbered, immutable versions, aliases that point
// at them, and the records of the runs that made them:
//
//	ROOT/
//	  .lock                        the writer lock (flock), holding "pid N since T"
//	  .training.lock               the training lock, held by a whole `mlpipe run`
//	  models/NAME/v1/ ...          a version: the bundle's files, read-only once written
//	  models/NAME/v2/ ...
//	  models/NAME/aliases/production   a file holding "2"
//	  runs/RUN_ID/summary.json     a run record (package pipeline writes it)
//	  predictions/NAME/            mlserve's prediction log (package predlog)
//
// Versions are content-addressed. A version's identity is its digest,
// the sha256 of its manifest.json, which lists every file of the bundle
// with its sha256 (internal/manifest). Register stores a bundle only if
// no version has its digest: the same model trained twice is one version.
// Every reader that matters verifies: bundle.Load (and so mlserve and the
// promotion check), `mlpipe export`, and Check.
//
// Every write is crash-safe. A version is built in a temporary directory
// beside its final place, every file and the directory are fsynced, the
// copy is verified against the manifest, and one rename makes it
// visible; an alias is rewritten by writing a temporary file and renaming
// it over the old one; a run record is created whole by a rename and its
// files are replaced the same way. A crash leaves at most a temporary
// name (".tmp-..."), which readers ignore and Check reports (and repairs).
//
// Writers of versions and aliases take the writer lock first, so two
// processes never write at once; a second writer gets ErrLocked naming
// the holder, or waits. A run record is written only by its run (which
// holds the training lock) or by a repair that holds it.
//
// Names are checked before they become paths: a model, alias or run
// name is letters, digits, '-' and '_' (ErrInvalidName otherwise).
//
// On object storage. Open("s3://BUCKET/PREFIX") gives a registry with
// the same guarantees built from conditional puts instead of renames
// (s3.go): a version's files are uploaded to a staging prefix and
// published by a manifest object created with If-None-Match: *; an alias
// moves with If-Match on the ETag it read; the locks are lease objects
// that expire when their holder stops renewing them. Versions are
// downloaded into a local cache (Root) and verified. docs/deploy.md has
// the consistency model.
//
// The file operations are in lock.go, versions.go, aliases.go and
// runs.go, one file per kind of object, so that another storage can take
// their place; check.go finds and repairs inconsistencies.
package registry
