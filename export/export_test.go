package export

import (
	"crypto/sha256"
	"os"
)

// AppendPayload appends payload (a tar archive, taken as is) and a
// trailer with its true checksum to the file at path, so tests can make
// payloads that Write never would.
func AppendPayload(path string, payload []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	t := trailer{offset: info.Size(), length: int64(len(payload)), sum: sha256.Sum256(payload)}
	if _, err := f.Write(append(payload, t.encode()...)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
