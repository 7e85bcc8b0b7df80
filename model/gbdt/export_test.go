package gbdt

// Check is check, for the tests that fit a model with train/gbdt.
func Check(m *Model) error { return m.check() }

// SavedNext is savedNext: the rule Tree documents, step by step.
func SavedNext(tr *Tree, i int32, row []float64) int32 { return savedNext(tr, i, row) }
