package predlog_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/predlog"
)

func TestJoin(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	pred := func(id string) predlog.Record { return predlog.Record{ID: id, Time: t0} }
	type res struct {
		label   any
		labeled bool
	}
	tests := []struct {
		name   string
		preds  []predlog.Record
		labels []predlog.Label
		want   []res
	}{
		{"NoLabels", []predlog.Record{pred("a")}, nil, []res{{nil, false}}},
		{"OneEach", []predlog.Record{pred("a"), pred("b")},
			[]predlog.Label{{ID: "b", Time: at(1), Label: true}, {ID: "a", Time: at(2), Label: false}},
			[]res{{false, true}, {true, true}}},
		{"LatestTimeWins", []predlog.Record{pred("a")},
			[]predlog.Label{{ID: "a", Time: at(5), Label: "late"}, {ID: "a", Time: at(3), Label: "early"}},
			[]res{{"late", true}}},
		{"EqualTimesLaterInSliceWins", []predlog.Record{pred("a")},
			[]predlog.Label{{ID: "a", Time: at(3), Label: 1.0}, {ID: "a", Time: at(3), Label: 2.0}},
			[]res{{2.0, true}}},
		{"UnlabeledAmongLabeled", []predlog.Record{pred("a"), pred("x"), pred("a")},
			[]predlog.Label{{ID: "a", Time: at(1), Label: true}, {ID: "orphan", Time: at(1), Label: true}},
			[]res{{true, true}, {nil, false}, {true, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := predlog.Join(tt.preds, tt.labels)
			var gotRes []res
			for i, j := range got {
				if j.ID != tt.preds[i].ID {
					t.Errorf("row %d is %s, want %s: order of preds", i, j.ID, tt.preds[i].ID)
				}
				gotRes = append(gotRes, res{j.Label, j.Labeled})
			}
			if !reflect.DeepEqual(gotRes, tt.want) {
				t.Errorf("Join = %v, want %v", gotRes, tt.want)
			}
		})
	}
}
