package redact_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/internal/redact"
)

const token = "s3cret-admin-token-0123"

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		// A raw request, as a client sent it.
		{"POST / HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\nCookie: session=abc; id=9\r\nHost: x\r\n",
			"POST / HTTP/1.1\r\nAuthorization: [REDACTED]\r\nCookie: [REDACTED]\r\nHost: x\r\n"},
		// The same request quoted by an HTTP library's error (%q).
		{`error when reading request headers: cannot find whitespace: contents: "POST / HTTP/1.1\r\nauthorization:Bearer ` + token + `\r\nset-cookie: a=b\r\nHost: x"`,
			`error when reading request headers: cannot find whitespace: contents: "POST / HTTP/1.1\r\nauthorization:[REDACTED]\r\nset-cookie: [REDACTED]\r\nHost: x"`},
		{"Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: [REDACTED]"},
		{"the token was bearer abc.def-ghi", "the token was bearer [REDACTED]"},
		{"the admin token " + token + " leaked", "the admin token [REDACTED] leaked"},
		{"nothing to see: basic checks, 12 rows", "nothing to see: basic checks, 12 rows"},
	}
	for _, tt := range tests {
		if got := redact.String(tt.in, []string{token, "ab"}); got != tt.want {
			t.Errorf("String(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestHandler: nothing of a secret reaches the output, whatever carries
// it: the message, a string, an error, a []byte, a group, a logger's
// own attributes, or a key that names a credential.
func TestHandler(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&buf, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&buf, nil)
		}
		log := slog.New(redact.Handler(h, token))
		log.With("conn", "Cookie: sid="+token).WithGroup("req").Warn("dump: Authorization: Bearer "+token,
			"err", errors.New("bad header: Authorization: Bearer "+token),
			"raw", []byte("cookie: "+token),
			slog.Group("headers", "authorization", "Bearer xyz", "x_token", "abc"),
			"admin_token", "anything",
			"rows", 12)
		out := buf.String()
		for _, leak := range []string{token, "xyz", "sid=", "anything"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s: the output has %q:\n%s", format, leak, out)
			}
		}
		if !strings.Contains(out, "rows") || !strings.Contains(out, "12") || strings.Count(out, redact.Mask) < 6 {
			t.Errorf("%s: too much or too little masked:\n%s", format, out)
		}
	}
}
