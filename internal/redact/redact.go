// Package redact keeps secrets out of log lines.
//
// In: a slog.Handler and the secrets a process knows (mlserve's admin
// token). Out: a slog.Handler that rewrites every record before passing
// it on: the message and every string attribute (errors included, and
// attributes inside groups) have
//
//   - the value of an Authorization, Proxy-Authorization, Cookie or
//     Set-Cookie header line replaced by [REDACTED] (in a raw request as
//     a client sent it, or quoted as an HTTP library's error dumps it);
//   - a bearer credential ("Bearer abc...") replaced;
//   - every occurrence of a known secret replaced;
//
// and an attribute whose key names a credential (authorization, cookie,
// token, password, secret) has its value replaced whole.
//
// It is the last line of defence: servers should not log request dumps
// at all (package serve does not), but a library's message or a wrapped
// error can carry one.
package redact

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
)

// Mask replaces what is redacted.
const Mask = "[REDACTED]"

// minSecret is the shortest secret replaced wherever it occurs: a
// shorter one would mask ordinary words (and is no secret).
const minSecret = 6

var (
	// A header line, up to the end of the line or of a quoted string
	// (a dump quoted with %q ends its lines with a literal \r\n).
	headerLine = regexp.MustCompile(`(?i)(proxy-authorization|authorization|set-cookie|cookie)(\s*:\s*)[^\r\n"\\]*`)
	bearer     = regexp.MustCompile(`(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]+`)
)

// sensitiveKey reports whether an attribute key names a credential.
func sensitiveKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"authorization", "cookie", "token", "password", "secret"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// String returns s with header values, bearer credentials and the given
// secrets replaced by Mask.
func String(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= minSecret {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	s = headerLine.ReplaceAllString(s, "${1}${2}"+Mask)
	return bearer.ReplaceAllString(s, "${1}${2}"+Mask)
}

// Handler returns a handler that redacts every record (see the package
// comment) before h sees it.
func Handler(h slog.Handler, secrets ...string) slog.Handler {
	var keep []string
	for _, s := range secrets {
		if s != "" {
			keep = append(keep, s)
		}
	}
	return &handler{next: h, secrets: keep}
}

type handler struct {
	next    slog.Handler
	secrets []string
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, String(r.Message, h.secrets), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &handler{next: h.next.WithAttrs(clean), secrets: h.secrets}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), secrets: h.secrets}
}

// attr redacts one attribute.
func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if sensitiveKey(a.Key) && !(v.Kind() == slog.KindString && v.String() == "") {
		return slog.String(a.Key, Mask)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, String(v.String(), h.secrets))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, String(x.Error(), h.secrets))
		case interface{ String() string }:
			return slog.String(a.Key, String(x.String(), h.secrets))
		case []byte:
			return slog.String(a.Key, String(string(x), h.secrets))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
