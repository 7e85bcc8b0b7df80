package export

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
)

// AppendPayload appends payload (a tar archive, taken as is, starting
// with meta.json) and a trailer with the true checksum of its meta.json
// to the file at path, so tests can make payloads that Write never would.
func AppendPayload(path string, payload []byte) error {
	tr := tar.NewReader(bytes.NewReader(payload))
	if _, err := tr.Next(); err != nil {
		return err
	}
	mj, err := io.ReadAll(tr)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	t := trailer{offset: info.Size(), length: int64(len(payload)), sum: sha256.Sum256(mj)}
	if _, err := f.Write(append(payload, t.encode()...)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
