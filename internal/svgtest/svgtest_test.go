package svgtest

import "testing"

func TestOverflows(t *testing.T) {
	const head = `<svg width="288pt" height="288pt" viewBox="0 0 288 288">`
	text := func(x, s string) string {
		return `<text x="` + x + `" y="-16.4" transform="scale(1, -1)" style="font-family:Liberation Sans;font-size:10px">` + s + `</text>`
	}
	tests := []struct {
		name, svg string
		n         int
	}{
		{"OK/inside", head + text("100", "1.0"), 0},
		{"ErrFlush", head + text("274.1", "1.0"), 1}, // the clipped tick of issue 21
		{"ErrLeft", head + text("-3", "0.0"), 1},
		{"OK/rotated", head + `<g transform="rotate(90)">` + text("280", "true positive rate") + `</g>`, 0},
		{"ErrAfterRotated", head + `<g transform="rotate(90)">` + text("10", "y") + `</g>` + text("280", "1.0"), 1},
	}
	for _, tt := range tests {
		got, err := Overflows([]byte(tt.svg))
		if err != nil || len(got) != tt.n {
			t.Errorf("%s: %v, %v; want %d overflows", tt.name, got, err, tt.n)
		}
	}
	if _, err := Overflows([]byte("<html>")); err == nil {
		t.Error("no error for a document without an <svg width>")
	}
}
