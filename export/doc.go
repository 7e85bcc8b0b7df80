// Package export makes one self-contained serving executable: a copy of
// the mlserve binary with a model bundle appended, which finds the
// bundle in itself at start-up and so runs with no registry and no Go
// toolchain.
//
// In (Write): the mlserve executable, a bundle directory (a registry
// version: features.json, model.json, ...) and the Meta that says where
// it came from. Out: one executable file at dst. In (Open): an
// executable, normally os.Executable(). Out: its Meta, and ExtractTo,
// which writes the bundle's files into a directory.
//
// # File format
//
//	[ the server executable, unchanged ]
//	[ payload: a tar archive ]   "meta.json" first (Meta as JSON), then the
//	                             bundle under "bundle/" ("bundle/model.json",
//	                             "bundle/sub/" and "bundle/sub/x.json" for
//	                             subdirectories); regular files and
//	                             directories only
//	[ trailer: 64 bytes ]        offset  uint64, little endian: where the payload starts
//	                             length  uint64, little endian: payload bytes
//	                             sha256  [32]byte of meta.json
//	                             magic   "MLPIPE-EXPORT-02" (the version is in it)
//
// The payload is verified as a chain, with the bundle's own mechanism for
// the bundle: the trailer holds the sha256 of meta.json; meta.json holds
// the bundle's digest (the sha256 of its manifest.json); the manifest
// holds the sha256 of every file of the bundle (internal/manifest, the
// check bundle.Load makes on a directory). Write refuses a bundle that
// does not verify against its manifest.
//
// The trailer is the last 64 bytes of the file, so Open finds it with
// one read. An ELF loader maps only the segments its headers name and
// ignores bytes after them, so the executable runs as before. The
// payload can be listed by hand:
//
//	tail -c +$((OFFSET + 1)) server | head -c LENGTH | tar tv
//
// # Errors
//
// A file without the magic is a plain executable: Open returns
// ErrNoPayload, and mlserve falls back to its flags. A trailer that does
// not fit the file, a checksum mismatch, an unreadable archive or a
// bundle file that does not match the manifest is ErrCorrupt, with the
// file's name (and the bundle file's). A copy cut short loses its trailer;
// Open still reports it as ErrCorrupt, not ErrNoPayload, when the file
// is an ELF executable with the start of a payload after its last
// segment. ExtractTo refuses (ErrUnsafeName) entries that would land
// outside its directory ("../x", "/etc/x") or that are links or devices,
// before it writes anything.
//
// Write builds the new executable under a temporary name beside dst,
// fsyncs it, makes it executable (0755) and renames it over dst, so dst
// is the complete old file, the complete new one, or absent. It refuses
// a server executable that already carries a payload (ErrHasPayload):
// export from a plain mlserve, so that what is inside is never in doubt.
// Output is reproducible: the same inputs give the same bytes.
//
// mlserve at start-up:
//
//	exe, _ := os.Executable()
//	p, err := export.Open(exe)
//	switch {
//	case errors.Is(err, export.ErrNoPayload): // a plain mlserve: use --model
//	case err != nil:
//		return err // a damaged export must not serve
//	default:
//		dir, _ := os.MkdirTemp("", "mlserve-bundle-")
//		err = p.ExtractTo(dir) // then load the bundle from dir
//	}
package export
