package golearn

import (
	"errors"
	"fmt"
	golearnmodel "github.com/mlpipe/mlpipe/model/golearn"
	"runtime/debug"

	"github.com/mlpipe/mlpipe/train"
)

// Trainer names, which are also the Kind of the models they fit.
const (
	NameRF  = golearnmodel.NameRF
	NameID3 = golearnmodel.NameID3
)

// The fitted models are in package model/golearn, our own tree struct,
// which serving imports without golearn; these are their names here.
type (
	Model   = golearnmodel.Model
	Column  = golearnmodel.Column
	Tree    = golearnmodel.Tree
	Node    = golearnmodel.Node
	FitInfo = golearnmodel.FitInfo
)

// ErrGolearn means golearn panicked. The error that wraps it is a
// *PanicError, which names the model and the operation and carries the
// panic's value.
var ErrGolearn = errors.New("golearn panicked")

// PanicError is the error a recovered golearn panic becomes. It wraps
// ErrGolearn. Fit returns it wrapped as "<model>: fit: <PanicError>".
type PanicError struct {
	// Model is the trainer name, Op the operation ("tree 3:
	// InferID3Tree").
	Model, Op string
	// Value is what golearn panicked with; Stack is the goroutine's stack
	// at the panic, for a bug report.
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("%s: %v: %v", e.Op, ErrGolearn, e.Value)
}

// Unwrap returns ErrGolearn, and the panic's value when it is an error.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{ErrGolearn, err}
	}
	return []error{ErrGolearn}
}

// guard runs f, which calls into golearn, and turns a panic inside it
// into a *PanicError. A panic in another goroutine cannot be recovered
// here: that is why this package never calls the golearn functions that
// start goroutines (meta.BaggedModel, which ensemble.RandomForest uses).
func guard(model, op string, f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Model: model, Op: op, Value: v, Stack: debug.Stack()}
		}
	}()
	f()
	return nil
}

// Decode is model/golearn.Decode.
func Decode(kind string) train.Decoder { return golearnmodel.Decode(kind) }

// Decoders is model/golearn.Decoders, for a catalog to merge into the
// map it gives train.Load.
func Decoders() map[string]train.Decoder { return golearnmodel.Decoders() }
