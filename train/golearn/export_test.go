package golearn

import (
	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"
)

// BreakGolearn makes every tree fit hand golearn a grid without its class
// attribute, which golearn panics on (base.GetClass: "No class
// defined!"). It returns a function that undoes it. Tests that call it
// must not run in parallel.
func BreakGolearn() (restore func()) {
	inferTree = func(from base.FixedDataGrid, with trees.RuleGenerator) *trees.DecisionTreeNode {
		for _, a := range from.AllClassAttributes() {
			if err := from.RemoveClassAttribute(a); err != nil {
				panic(err)
			}
		}
		return trees.InferID3Tree(from, with)
	}
	return func() { inferTree = trees.InferID3Tree }
}

// Guard exposes guard.
var Guard = guard
