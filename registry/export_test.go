package registry

import "context"

// CASAlias exposes the alias compare-and-swap on object storage: it
// points alias at v only if the alias object still has ETag etag.
func CASAlias(s *Store, name, alias string, v int, etag string) error {
	return s.casAlias(context.Background(), name, alias, v, etag)
}
