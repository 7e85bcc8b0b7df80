//go:build race

package serve

// raceEnabled: the test binary was built with -race, whose
// instrumentation allocates beyond what the program itself does.
const raceEnabled = true
