package kinds

import (
	"io"

	"github.com/mlpipe/mlpipe/model"
	"github.com/mlpipe/mlpipe/model/gbdt"
	"github.com/mlpipe/mlpipe/model/golearn"
	"github.com/mlpipe/mlpipe/model/logreg"
	"github.com/mlpipe/mlpipe/model/ridge"
)

// Decoders maps every saved model kind to its decoder, for model.Load.
func Decoders() map[string]model.Decoder {
	d := map[string]model.Decoder{
		gbdt.Name:   gbdt.Decode,
		logreg.Name: logreg.Decode,
		ridge.Name:  ridge.Decode,
	}
	for kind, dec := range golearn.Decoders() {
		d[kind] = dec
	}
	return d
}

// Load reads a model saved by model.Save, of any kind.
func Load(r io.Reader) (model.Model, error) { return model.Load(r, Decoders()) }

// Unmarshal rebuilds a model of any kind from the bytes model.Save wrote.
func Unmarshal(data []byte) (model.Model, error) { return model.Unmarshal(data, Decoders()) }
