package features

// SetFitRows sets the rows FitEncoderFrom reads at a time and returns the
// function that restores it.
func SetFitRows(n int) (restore func()) {
	old := fitRows
	fitRows = n
	return func() { fitRows = old }
}
