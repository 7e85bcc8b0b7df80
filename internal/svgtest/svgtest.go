// Package svgtest checks, for tests, that the text of a gonum/plot SVG
// stays inside the image whatever font the viewer has.
//
// In: an SVG written by gonum.org/v1/plot/vg/vgsvg. Out: the texts that
// could run past the image's right or left edge. The layout is measured
// with Liberation Sans; a viewer without it (and without Arial, which has
// the same metrics) draws with its own sans-serif, often DejaVu Sans,
// which is wider, so a label set flush with the edge gets cut ("1.0"
// shown as "1.("). The check measures each text with DejaVu Sans's
// advance widths, rounded up by class of character.
package svgtest

import (
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
)

var (
	sizeRE = regexp.MustCompile(`<svg width="([0-9.]+)pt"`)
	textRE = regexp.MustCompile(`(?s)<text x="([-0-9.]+)" y="[-0-9.]+"[^>]*font-size:([0-9.]+)px[^>]*>([^<]*)</text>`)
)

// Overflows returns the texts of svg, outside rotated groups, that may
// reach past the image's left or right edge, each with its extent.
func Overflows(svg []byte) ([]string, error) {
	m := sizeRE.FindSubmatch(svg)
	if m == nil {
		return nil, fmt.Errorf("svgtest: no <svg width=...pt>")
	}
	width, _ := strconv.ParseFloat(string(m[1]), 64)
	s := string(svg)
	var out []string
	for _, loc := range textRE.FindAllStringSubmatchIndex(s, -1) {
		if rotated(s[:loc[0]]) {
			continue // the y axis label: its x is along the height
		}
		x, _ := strconv.ParseFloat(s[loc[2]:loc[3]], 64)
		size, _ := strconv.ParseFloat(s[loc[4]:loc[5]], 64)
		txt := html.UnescapeString(s[loc[6]:loc[7]])
		end := x + Width(txt, size)
		if x < 0 || end > width {
			out = append(out, fmt.Sprintf("%q from x %.1f to %.1f of %.0f", txt, x, end, width))
		}
	}
	return out, nil
}

// rotated reports whether the text that follows prefix is inside a
// rotated group.
func rotated(prefix string) bool {
	open := strings.LastIndex(prefix, `<g transform="rotate(`)
	return open >= 0 && !strings.Contains(prefix[open:], "</g>")
}

// Width is an upper bound of txt's width at size px in DejaVu Sans:
// 0.35 em for narrow characters, 0.65 for digits and most lower case,
// 0.8 for capitals and wide letters, 0.33 for a space.
func Width(txt string, size float64) float64 {
	em := 0.0
	for _, r := range txt {
		switch {
		case strings.ContainsRune("ilj.,:;'|!()[]ftr", r):
			em += 0.42
		case r == ' ':
			em += 0.33
		case strings.ContainsRune("mwMW%", r) || r >= 'A' && r <= 'Z':
			em += 0.8
		default:
			em += 0.65
		}
	}
	return em * size
}
