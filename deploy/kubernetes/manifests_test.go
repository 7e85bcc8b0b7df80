// Package kubernetes holds mlpipe's Kubernetes manifests (a
// kustomization); its only Go code is the test that checks them.
package kubernetes_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/mlpipe/mlpipe/config"
)

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) these manifests use; its Go types live in
// the operator's module, too heavy to import for one object.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// decodeStrict decodes one manifest into the official type of its kind;
// an unknown or misspelt field is an error.
func decodeStrict(t *testing.T, name string, doc []byte) any {
	t.Helper()
	var meta metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	types := map[string]any{
		"apps/v1/Deployment":                      &appsv1.Deployment{},
		"v1/Service":                              &corev1.Service{},
		"v1/ConfigMap":                            &corev1.ConfigMap{},
		"v1/Secret":                               &corev1.Secret{},
		"autoscaling/v2/HorizontalPodAutoscaler":  &autoscalingv2.HorizontalPodAutoscaler{},
		"policy/v1/PodDisruptionBudget":           &policyv1.PodDisruptionBudget{},
		"batch/v1/CronJob":                        &batchv1.CronJob{},
		"monitoring.coreos.com/v1/ServiceMonitor": &serviceMonitor{},
	}
	obj, ok := types[meta.APIVersion+"/"+meta.Kind]
	if !ok {
		t.Fatalf("%s: unexpected kind %s/%s", name, meta.APIVersion, meta.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Fatalf("%s: %s: %v", name, meta.Kind, err)
	}
	return obj
}

// TestManifests decodes every manifest strictly and checks what the
// deployment relies on.
func TestManifests(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	objs := map[string]any{}
	for _, f := range files {
		if f == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(b, []byte("\n---\n")) {
			obj := decodeStrict(t, f, doc)
			objs[strings.TrimSuffix(f, ".yaml")+strings.Repeat("+", i)] = obj
		}
	}
	// A misspelt field fails.
	bad := []byte("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {a: b}}\n")
	var svc corev1.Service
	if err := yaml.UnmarshalStrict(bad, &svc); err == nil {
		t.Error("a Service with spec.selectr decoded: decoding is not strict")
	}

	dep := objs["deployment"].(*appsv1.Deployment)
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes: readiness %s, liveness %s", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Error("mlserve has no CPU request or memory limit")
	}
	if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("mlserve may run as root or write its root file system")
	}
	// The grace period covers mlserve's drain (--shutdown-timeout) and
	// a few seconds more, not less and not much more.
	i := slices.Index(c.Args, "--shutdown-timeout")
	drain, err := time.ParseDuration(c.Args[i+1])
	if i < 0 || err != nil {
		t.Fatalf("mlserve args %v: no --shutdown-timeout", c.Args)
	}
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	if grace < drain || grace > drain+10*time.Second {
		t.Errorf("terminationGracePeriodSeconds %v does not match the drain deadline %v", grace, drain)
	}
	cron := objs["cronjob"].(*batchv1.CronJob)
	if cron.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("CronJob concurrencyPolicy = %s, want Forbid", cron.Spec.ConcurrencyPolicy)
	}
	// The ConfigMap's config is one mlpipe accepts.
	cm := objs["configmap"].(*corev1.ConfigMap)
	cfg, err := config.Parse([]byte(cm.Data["flights.yaml"]), "configmap.yaml")
	if err != nil {
		t.Fatalf("the ConfigMap's config: %v", err)
	}
	if !strings.HasPrefix(cfg.Registry.Path, "s3://") || !slices.Contains(c.Args, cfg.Registry.Path) {
		t.Errorf("mlserve's --registry %v is not the config's registry %s", c.Args, cfg.Registry.Path)
	}
	sec := objs["secret"].(*corev1.Secret)
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if _, ok := sec.StringData[k]; !ok {
			t.Errorf("the Secret has no %s", k)
		}
	}
	if objs["pdb"].(*policyv1.PodDisruptionBudget).Spec.MinAvailable.IntValue() >= int(*dep.Spec.Replicas) {
		t.Error("the PodDisruptionBudget allows no disruption")
	}
}

// TestKustomize renders the kustomization with kustomize's own library
// and decodes what it renders strictly.
func TestKustomize(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range res.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		decodeStrict(t, r.CurId().String(), y)
		kinds = append(kinds, r.GetKind())
		if r.GetLabels()["app.kubernetes.io/part-of"] != "mlpipe" {
			t.Errorf("%s lacks the part-of label", r.CurId())
		}
	}
	slices.Sort(kinds)
	want := "[ConfigMap ConfigMap CronJob Deployment HorizontalPodAutoscaler PodDisruptionBudget Secret Service ServiceMonitor]"
	if got := strings.Join(strings.Fields(strings.Trim(strings.Join(kinds, " "), " ")), " "); "["+got+"]" != want {
		t.Errorf("rendered kinds %v, want %s", kinds, want)
	}
}

// TestDashboard: the dashboard is valid JSON whose every panel has a
// PromQL query naming an mlserve metric. The queries themselves run
// against a real Prometheus in cmd/mlserve's TestPrometheusScrape.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("mlserve-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if len(d.Panels) < 6 {
		t.Errorf("%d panels", len(d.Panels))
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 || !strings.Contains(p.Targets[0].Expr, "mlserve_") {
			t.Errorf("panel %q has no mlserve query", p.Title)
		}
	}
}
