package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRegressionEndToEnd runs the penguins body-mass regression
// (configs/penguins-body-mass.yaml) through every stage with the real
// binaries: mlpipe run into a registry, mlserve, every weighed bird
// predicted (native, then OIP for a few), the true weights sent as
// labels, mlserve stopped so that the log is flushed, and mlpipe monitor
// on that log: it judges the live RMSE against the test split's and the
// drift of the predictions.
func TestRegressionEndToEnd(t *testing.T) {
	mlpipe, mlserve := binaries(t)
	birds := weighedPenguins(t)
	reg := filepath.Join(t.TempDir(), "registry")
	out, err := exec.Command(mlpipe, "run", "--config", "../../configs/penguins-body-mass.yaml",
		"--registry", reg, "--out", "", "--log-level", "warn").CombinedOutput()
	if err != nil {
		t.Fatalf("mlpipe run: %v\n%s", err, out)
	}
	for _, want := range []string{"selected ", "predicts body_mass_g", "training mean", "registered as version 1"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the run's summary lacks %q:\n%s", want, out)
		}
	}
	srv := start(t, mlserve, "--registry", reg, "--model", "penguins-body-mass")
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(path, id string, body any) []byte {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, "http://"+srv.addr+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-Id", id)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, msg)
		}
		return msg
	}
	var instances []map[string]any
	var truth []map[string]any
	for i, b := range birds {
		instances = append(instances, b.input)
		truth = append(truth, map[string]any{"id": fmt.Sprintf("birds#%d", i), "label": b.mass})
	}
	var resp struct {
		Predictions []struct {
			Prediction *float64 `json:"prediction"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal(post("/v1/models/penguins-body-mass/predict", "birds", map[string]any{"instances": instances}), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Predictions) != len(birds) {
		t.Fatalf("%d predictions for %d birds", len(resp.Predictions), len(birds))
	}
	for i, p := range resp.Predictions {
		if p.Prediction == nil || *p.Prediction < 2000 || *p.Prediction > 7000 {
			t.Fatalf("bird %d: prediction %v", i, p.Prediction)
		}
	}
	post("/v1/models/penguins-body-mass/labels", "labels", map[string]any{"labels": truth})
	oip := post("/v2/models/penguins-body-mass/infer", "oip", map[string]any{"inputs": []map[string]any{
		{"name": "species", "datatype": "BYTES", "shape": []int{1}, "data": []any{"Gentoo"}},
		{"name": "island", "datatype": "BYTES", "shape": []int{1}, "data": []any{"Biscoe"}},
		{"name": "beak_length_mm", "datatype": "FP64", "shape": []int{1}, "data": []any{47.5}},
		{"name": "beak_depth_mm", "datatype": "FP64", "shape": []int{1}, "data": []any{15.0}},
		{"name": "flipper_length_mm", "datatype": "INT64", "shape": []int{1}, "data": []any{218}},
		{"name": "sex", "datatype": "BYTES", "shape": []int{1}, "data": []any{"MALE"}},
	}})
	if !bytes.Contains(oip, []byte(`{"name":"prediction","datatype":"FP64","shape":[1],"data":[`)) {
		t.Errorf("OIP: %s", oip)
	}
	// SIGINT: mlserve drains and closes the log.
	_ = srv.cmd.Process.Signal(os.Interrupt)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("mlserve exit: %v\n%s", err, srv.logs.String())
	}
	out, err = exec.Command(mlpipe, "monitor", "--config", "../../configs/penguins-body-mass.yaml", "--registry", reg,
		"--from", "2000-01-01T00:00:00Z", "--to", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "--json").Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != 6 {
		t.Fatalf("monitor: %v\n%s%s", err, out, ee.Stderr)
	}
	var r struct {
		Predictions int `json:"predictions"`
		Features    []struct {
			Name string `json:"name"`
		} `json:"features"`
		Score *struct {
			Name string `json:"name"`
		} `json:"score"`
		Performance *struct {
			Status   string   `json:"status"`
			Labelled int      `json:"labelled"`
			RMSE     *float64 `json:"rmse"`
			MAE      *float64 `json:"mae"`
			RMSERise *float64 `json:"rmse_rise"`
		} `json:"performance"`
		Reasons []string `json:"reasons"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("monitor --json: %v\n%s", err, out)
	}
	p := r.Performance
	if r.Predictions != len(birds)+1 || p == nil || p.Labelled != len(birds) || p.RMSE == nil || p.MAE == nil || p.RMSERise == nil || p.Status != "ok" {
		t.Fatalf("monitor: %d predictions, performance %+v; want %d predictions, %d labelled, RMSE against the test split's", r.Predictions, p, len(birds)+1, len(birds))
	}
	// The model was fitted on 60% of these birds and is judged on all of
	// them: its RMSE is near the test split's (265 g), far below the
	// training mean's (750 g).
	if *p.RMSE > 400 {
		t.Errorf("live RMSE %.1f g", *p.RMSE)
	}
	if r.Score == nil || r.Score.Name != "prediction" {
		t.Errorf("the predictions' drift is not in the report: %+v", r.Score)
	}
	if !strings.Contains(strings.Join(r.Reasons, "; "), "rmse_rise") {
		t.Errorf("reasons %q do not judge the RMSE", r.Reasons)
	}
	t.Logf("monitor: %d labelled, RMSE %.1f g (%+.1f%% from the test split's), MAE %.1f g", p.Labelled, *p.RMSE, 100**p.RMSERise, *p.MAE)
}

// bird is one penguin of data/penguins.csv as a request, and its weight.
type bird struct {
	input map[string]any
	mass  float64
}

// weighedPenguins returns the birds of data/penguins.csv that have a
// body mass (all but the two that were not measured, which the config's
// label.missing: drop leaves out).
func weighedPenguins(t *testing.T) []bird {
	t.Helper()
	f, err := os.Open("../../data/penguins.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var birds []bird
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	for _, r := range recs[1:] {
		// species, island, beak_length_mm, beak_depth_mm, flipper_length_mm, body_mass_g, sex
		if r[5] == "" {
			continue
		}
		in := map[string]any{"species": r[0], "island": r[1], "beak_length_mm": num(r[2]), "beak_depth_mm": num(r[3]),
			"flipper_length_mm": num(r[4]), "sex": r[6]}
		if r[6] == "" {
			in["sex"] = nil
		}
		birds = append(birds, bird{in, num(r[5])})
	}
	return birds
}
