package serve

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// admin guards the /admin/* routes. With an AdminToken, a request needs
// "Authorization: Bearer TOKEN" (401 otherwise). Without one, the routes
// are open when AdminOpen is set (the server listens on loopback only)
// and disabled (403) otherwise.
func (s *Server) admin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := s.opts.AdminToken
		switch {
		case tok == "" && s.opts.AdminOpen:
		case tok == "":
			s.fail(w, fmt.Errorf("%w: the server listens beyond loopback and no admin token is set (--admin-token or MLSERVE_ADMIN_TOKEN)", ErrAdminDisabled))
			return
		default:
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mlserve admin"`)
				s.fail(w, fmt.Errorf("%w: /admin needs Authorization: Bearer with the admin token", ErrUnauthorized))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
