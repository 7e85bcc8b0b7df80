// Package registry stores model versions on the file system, in a layout
// a person can read with ls and cat.
//
// In: a directory of model files (what `mlpipe train --out` writes:
// features.json, model.json, training.json, ...) and a model name. Out:
// numbered, immutable versions and aliases that point at them:
//
//	ROOT/
//	  .lock                        the writer lock (flock), holding "pid N since T"
//	  models/NAME/v1/ ...          a version: the copied files, read-only once written
//	  models/NAME/v2/ ...
//	  models/NAME/aliases/production   a file holding "2"
//
// Every write is crash-safe. A version is built in a temporary directory
// beside its final place, every file and the directory are fsynced, and
// one rename makes it visible; an alias is rewritten by writing a
// temporary file and renaming it over the old one. A crash leaves at
// most a temporary name (".tmp-..."), which readers ignore and Check
// reports (and Repair removes).
//
// Writers take the lock first, so two processes never write at once; a
// second writer gets ErrLocked naming the holder, or waits.
//
// This is the storage core of the registry; run records, bundles with
// the training profile and the CLI (`mlpipe models ...`) build on it.
package registry
