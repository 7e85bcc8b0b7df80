package serve

import (
	"bytes"
	"crypto/subtle"
	"fmt"
)

// admin guards the /admin/* routes. With an AdminToken, a request needs
// "Authorization: Bearer TOKEN" (401 otherwise). Without one, the routes
// are open when AdminOpen is set (the server listens on loopback only)
// and disabled (403) otherwise.
func (s *Server) admin(c call, h func(call)) {
	tok := s.opts.AdminToken
	switch {
	case tok == "" && s.opts.AdminOpen:
	case tok == "":
		s.fail(c, fmt.Errorf("%w: the server listens beyond loopback and no admin token is set (--admin-token or MLSERVE_ADMIN_TOKEN)", ErrAdminDisabled))
		return
	default:
		got, ok := bytes.CutPrefix(c.Request.Header.Peek("Authorization"), []byte("Bearer "))
		if !ok || subtle.ConstantTimeCompare(got, []byte(tok)) != 1 {
			c.Response.Header.Set("WWW-Authenticate", `Bearer realm="mlserve admin"`)
			s.fail(c, fmt.Errorf("%w: /admin needs Authorization: Bearer with the admin token", ErrUnauthorized))
			return
		}
	}
	h(c)
}
