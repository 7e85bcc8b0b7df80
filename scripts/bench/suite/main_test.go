package main

import (
	"path/filepath"
	"testing"

	"github.com/mlpipe/mlpipe/config"
)

// TestRunStagesKeepsMatrices: the exports and the grid's fits get the
// whole float matrices of the training and validation splits, though the
// train stage drops them from the run once the config's model is fitted
// (make bench's suite step wrote an empty train-x.npy when it read them
// after the train stage).
func TestRunStagesKeepsMatrices(t *testing.T) {
	// breast-cancer: 569 rows, two candidates, so never streamed.
	cfg, err := config.Load(filepath.Join("..", "..", "..", "configs", "breast-cancer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, withTrain := range []bool{false, true} {
		s, x, err := runStages(cfg, withTrain)
		if err != nil {
			t.Fatalf("withTrain %v: %v", withTrain, err)
		}
		if withTrain != (s.Model != nil) {
			t.Errorf("withTrain %v: model %v", withTrain, s.Model)
		}
		for i, m := range x {
			if m.Rows == 0 || len(m.Data) != len(m.Cols) || len(m.Data[0]) != m.Rows {
				t.Errorf("withTrain %v: %s matrix: %d rows, %d of %d columns held", withTrain, splitNames[i], m.Rows, len(m.Data), len(m.Cols))
			}
		}
		s.Release()
	}
}
