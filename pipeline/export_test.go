package pipeline

// SetStreamRows sets the rows the features stage bins, and the evaluate
// stage and the gate score, at a time, and returns the function that
// restores it.
func SetStreamRows(n int) (restore func()) {
	old := streamRows
	streamRows = n
	return func() { streamRows = old }
}
