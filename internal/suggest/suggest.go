// Package suggest finds the word a mistyped one was probably meant to be,
// for the "did you mean" of an error: the CLI's commands, subcommands and
// flags, config keys, metric names and model names.
//
// In: the word given and the words that exist. Out: the nearest of them
// by edit distance, if it is near enough to be a likely typo, or nothing.
package suggest

import (
	"strings"
	"unicode/utf8"
)

// Distance is the optimal string alignment distance between a and b,
// counted in runes: the fewest insertions, deletions, substitutions and
// swaps of two adjacent runes that turn a into b ("regsitry" is one swap
// from "registry"). Case counts.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows of the dynamic programme: i-2, i-1 and i.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Closest returns the candidate nearest to word, and true, when it is a
// likely typo of it: at most one edit for a word of up to four runes, two
// up to eight, three beyond (a third of the length, rounded up, capped),
// ignoring case. A word that differs from a candidate only in case, or
// in '-' against '_', is always a match. Ties go to the earlier
// candidate. An empty word matches nothing.
func Closest(word string, candidates []string) (string, bool) {
	if word == "" {
		return "", false
	}
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	w := norm(word)
	limit := min(3, (utf8.RuneCountInString(word)+2)/3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		if c == word {
			continue
		}
		d := Distance(w, norm(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best, best != ""
}

// DidYouMean returns "did you mean X?", with X the candidate Closest
// finds, formatted by quote (nil: as it is; for example a flag's
// func(s string) string { return "--" + s }), or "" when none is close.
func DidYouMean(word string, candidates []string, quote func(string) string) string {
	c, ok := Closest(word, candidates)
	if !ok {
		return ""
	}
	if quote != nil {
		c = quote(c)
	}
	return "did you mean " + c + "?"
}
