package predlog

import (
	"encoding/json"
	"time"
)

// Record is one prediction, as mlserve made it.
type Record struct {
	// ID is the request id; labels join on it.
	ID string `json:"id"`
	// Time is when the prediction was made. Writer.Log fills in a zero
	// Time with the writer's clock; it is written in UTC.
	Time time.Time `json:"time"`
	// Model and Version name the model that predicted.
	Model   string `json:"model"`
	Version int    `json:"version"`
	// Inputs are the request's fields as received, e.g.
	// {"origin": "ATL", "distance": 1250}. Read back, numbers are float64
	// (as encoding/json decodes them into map[string]any).
	Inputs map[string]any `json:"inputs"`
	// RawInputs, when set, is written as the inputs instead of Inputs:
	// the request's own JSON object, logged without decoding it (what
	// mlserve does). It must be a JSON object; a reader gets it back in
	// Inputs.
	RawInputs json.RawMessage `json:"-"`
	// Probability is the positive-class probability of a binary model.
	// It is written only when Probabilities is nil.
	Probability float64 `json:"probability"`
	// Probabilities are a multiclass model's class probabilities, in the
	// order of the model's classes.
	Probabilities []float64 `json:"probabilities,omitempty"`
	// Predicted is the predicted label.
	Predicted string `json:"predicted"`
	// Prediction is a regression's predicted value. When it is set, the
	// record is written with it instead of a probability and a
	// predicted label.
	Prediction *float64 `json:"prediction,omitempty"`
}

// Label is the ground truth for one request, known some time after the
// prediction.
type Label struct {
	// ID is the request id of the prediction this labels.
	ID string `json:"id"`
	// Time is when the label was logged (LabelWriter.Log fills in a zero
	// Time), not when the labelled event happened.
	Time time.Time `json:"time"`
	// Label is a bool, a number or a string (a regression's true value
	// is a number). Read back, numbers are float64.
	Label any `json:"label"`
}

// Joined is a prediction with its label, if one has arrived.
type Joined struct {
	Record
	// Label is the ground truth; nil when Labeled is false.
	Label any
	// LabelTime is the Time of the label used.
	LabelTime time.Time
	// Labeled reports whether a label with the prediction's id was found.
	Labeled bool
}

// Join pairs every prediction with the label of the same id. When an id
// has several labels (a correction was logged later), the one with the
// latest Time wins, and of labels with equal times the one later in
// labels. Every prediction appears once in the result, in the order of
// preds, with Labeled false when no label has its id; two predictions
// with the same id (a retried request) get the same label.
func Join(preds []Record, labels []Label) []Joined {
	latest := make(map[string]int, len(labels)) // id → index in labels
	for i, l := range labels {
		if j, ok := latest[l.ID]; !ok || !l.Time.Before(labels[j].Time) {
			latest[l.ID] = i
		}
	}
	out := make([]Joined, len(preds))
	for i, p := range preds {
		out[i].Record = p
		if j, ok := latest[p.ID]; ok {
			out[i].Label = labels[j].Label
			out[i].LabelTime = labels[j].Time
			out[i].Labeled = true
		}
	}
	return out
}
