// Package numfmt formats numbers for people: the CLI's summaries, the
// monitor's reports and the HTML pages print counts the same way.
package numfmt

import (
	"strconv"
	"strings"
)

// Thousands formats n in decimal with a comma between groups of three
// digits: 3000000 is "3,000,000", -1234 is "-1,234".
func Thousands[T ~int | ~int32 | ~int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	b.Grow(len(s) + len(digits)/3)
	b.WriteString(s[:len(s)-len(digits)])
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}
