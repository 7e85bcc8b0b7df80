package pipeline

// SetStreamRows sets the training rows the features stage bins at a time
// and returns the function that restores it.
func SetStreamRows(n int) (restore func()) {
	old := streamRows
	streamRows = n
	return func() { streamRows = old }
}
