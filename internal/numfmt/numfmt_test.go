package numfmt

import (
	"math"
	"testing"
)

func TestThousands(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999, "999"},
		{1000, "1,000"},
		{12345, "12,345"},
		{3000000, "3,000,000"},
		{-1, "-1"},
		{-1234, "-1,234"},
		{-999999, "-999,999"},
		{math.MaxInt64, "9,223,372,036,854,775,807"},
		{math.MinInt64, "-9,223,372,036,854,775,808"}, // has no positive twin to recurse on
	} {
		if got := Thousands(c.n); got != c.want {
			t.Errorf("Thousands(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := Thousands(int32(-20000)); got != "-20,000" {
		t.Errorf("Thousands(int32(-20000)) = %q", got)
	}
}
