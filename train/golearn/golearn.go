package golearn

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/mlpipe/mlpipe/train"
)

// Trainer names, which are also the Kind of the models they fit.
const (
	NameRF  = "golearn-rf"
	NameID3 = "golearn-id3"
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

// Decode returns the train.Decoder of the models of a trainer kind
// (NameRF or NameID3). For any other kind it returns a decoder that fails
// with train.ErrUnknownModel.
func Decode(kind string) train.Decoder {
	return func(data []byte) (train.Model, error) {
		if kind != NameRF && kind != NameID3 {
			return nil, fmt.Errorf("golearn: decode: %w %q", train.ErrUnknownModel, kind)
		}
		return decodeModel(kind, data)
	}
}

// Decoders returns the decoders of every model kind of this package, for
// a catalog to merge into the map it gives train.Load.
func Decoders() map[string]train.Decoder {
	return map[string]train.Decoder{NameRF: Decode(NameRF), NameID3: Decode(NameID3)}
}
