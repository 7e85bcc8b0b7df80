package backtest

import "github.com/mlpipe/mlpipe/train"

// SetStreamRows sets the rows the fits bin, and the scores transform, at
// a time, and returns the function that restores it.
func SetStreamRows(n int) (restore func()) {
	old := streamRows
	streamRows = n
	return func() { streamRows = old }
}

// WrapTrainers makes the fits train with wrap(the config's trainer), and
// returns the function that restores catalog.Trainer.
func WrapTrainers(wrap func(train.Trainer) train.Trainer) (restore func()) {
	old := newTrainer
	newTrainer = func(name string, params map[string]any, seed uint64) (train.Trainer, error) {
		tr, err := old(name, params, seed)
		if err != nil {
			return nil, err
		}
		return wrap(tr), nil
	}
	return func() { newTrainer = old }
}
