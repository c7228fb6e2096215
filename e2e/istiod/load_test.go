package istiod

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// obj is one KRM item as decoded from YAML.
type obj = map[string]any

const (
	labelManagedBy   = "app.kubernetes.io/managed-by"
	annoLocalConfig  = "config.kubernetes.io/local-config"
	labelNetwork     = "topology.istio.io/network"
	labelTLSMode     = "security.istio.io/tlsMode"
	managedByMeshfed = "meshfed"

	// inputEnv selects the input: "" (golden when present, else fixture), "golden", "fixture".
	inputEnv = "MESHFED_ISTIOD_INPUT"
)

// scenario is one cluster's state: the items of a meshfed output ResourceList that would be
// applied to that cluster, split between the fake Kubernetes API server and the Istio config store.
type scenario struct {
	name    string
	source  string
	golden  bool
	all     []obj // every item, including skipped ones (meshfed's config, peer reference data)
	kube    []obj // Kubernetes kinds, including Gateway API
	config  []obj // Istio kinds
	skipped []string
}

// goldenPath is meshfed's own golden output for a scenario, relative to this module.
func goldenPath(name string) string {
	return filepath.Join("..", "..", "functions", "meshfed", "testdata", name, "_expected.yaml")
}

// fixturePath is the stand-in used while the golden file does not exist.
func fixturePath(name string) string {
	return filepath.Join("testdata", name+".yaml")
}

func loadScenario(t *testing.T, name string) *scenario {
	t.Helper()
	mode := os.Getenv(inputEnv)
	path, golden, err := chooseSource(name, mode)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	sc, err := parseScenario(name, path, data)
	if err != nil {
		t.Fatal(err)
	}
	sc.golden = golden
	kind := "fixture (golden file not found)"
	switch {
	case golden:
		kind = "meshfed golden output"
	case mode == "fixture":
		kind = "fixture (" + inputEnv + "=fixture)"
	}
	t.Logf("scenario %s: input %s: %s; %d kube objects, %d Istio configs, skipped %d: %s",
		name, kind, path, len(sc.kube), len(sc.config), len(sc.skipped), strings.Join(sc.skipped, ", "))
	if n := countGenerated(sc); n == 0 {
		t.Fatalf("%s: no item carries %s: %s; is this meshfed output?", path, labelManagedBy, managedByMeshfed)
	}
	return sc
}

func chooseSource(name, mode string) (path string, golden bool, err error) {
	g := goldenPath(name)
	_, statErr := os.Stat(g)
	switch mode {
	case "golden":
		if statErr != nil {
			return "", false, fmt.Errorf("%s=golden but %s: %v", inputEnv, g, statErr)
		}
		return g, true, nil
	case "fixture":
		return fixturePath(name), false, nil
	case "":
		if statErr == nil {
			return g, true, nil
		}
		if !errors.Is(statErr, os.ErrNotExist) {
			return "", false, fmt.Errorf("%s: %v", g, statErr)
		}
		return fixturePath(name), false, nil
	default:
		return "", false, fmt.Errorf("%s=%q: want golden, fixture or empty", inputEnv, mode)
	}
}

func parseScenario(name, path string, data []byte) (*scenario, error) {
	var rl struct {
		Kind  string `json:"kind"`
		Items []obj  `json:"items"`
	}
	if err := yaml.Unmarshal(data, &rl); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if rl.Kind != "ResourceList" {
		return nil, fmt.Errorf("%s: kind %q, want ResourceList", path, rl.Kind)
	}
	sc := &scenario{name: name, source: path, all: rl.Items}
	for _, it := range rl.Items {
		switch dest, why := classify(it); dest {
		case "kube":
			sc.kube = append(sc.kube, it)
		case "config":
			sc.config = append(sc.config, it)
		default:
			sc.skipped = append(sc.skipped, fmt.Sprintf("%s (%s)", ref(it), why))
		}
	}
	return sc, nil
}

// classify says where an item goes: the fake kube API server, the Istio config store, or nowhere.
func classify(o obj) (dest, why string) {
	if annotations(o)[annoLocalConfig] == "true" {
		return "skip", "local-config: never applied to the cluster"
	}
	group, _, _ := strings.Cut(str(o, "apiVersion"), "/")
	if !strings.Contains(str(o, "apiVersion"), "/") {
		group = ""
	}
	kind := str(o, "kind")
	switch group {
	case "":
		switch kind {
		case "Service", "Pod", "ServiceAccount", "Namespace", "ConfigMap", "Secret":
			return "kube", ""
		}
	case "apps":
		switch kind {
		case "Deployment", "StatefulSet", "DaemonSet":
			return "kube", ""
		}
	case "discovery.k8s.io":
		if kind == "EndpointSlice" {
			return "kube", ""
		}
	case "gateway.networking.k8s.io":
		return "kube", ""
	case "networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io":
		return "config", ""
	}
	return "skip", "kind not served by the fake discovery server"
}

func countGenerated(sc *scenario) int {
	n := 0
	for _, o := range append(append([]obj{}, sc.kube...), sc.config...) {
		if labels(o)[labelManagedBy] == managedByMeshfed {
			n++
		}
	}
	return n
}

// ---- small accessors over decoded YAML ----

func ref(o obj) string {
	ns := nested(o, "metadata", "namespace")
	name := nested(o, "metadata", "name")
	if s, _ := ns.(string); s != "" {
		return fmt.Sprintf("%s %s/%v", str(o, "kind"), s, name)
	}
	return fmt.Sprintf("%s %v", str(o, "kind"), name)
}

func nested(o obj, path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func str(o obj, path ...string) string {
	s, _ := nested(o, path...).(string)
	return s
}

func num(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), true
	case int64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}

func strMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := map[string]string{}
	for k, val := range m {
		if s, ok := val.(string); ok {
			out[k] = s
		}
	}
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func labels(o obj) map[string]string      { return strMap(nested(o, "metadata", "labels")) }
func annotations(o obj) map[string]string { return strMap(nested(o, "metadata", "annotations")) }
func name(o obj) string                   { return str(o, "metadata", "name") }
func namespace(o obj) string              { return str(o, "metadata", "namespace") }

func setNamespace(o obj, ns string) {
	o["metadata"].(map[string]any)["namespace"] = ns
}

// clone deep-copies items so that a test can mutate its own copy.
func clone(in []obj) []obj {
	b, err := json.Marshal(in)
	if err != nil {
		panic(err)
	}
	var out []obj
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func selects(selector, lbls map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if lbls[k] != v {
			return false
		}
	}
	return true
}

// toYAML renders items as the multi-document string the fake server parses.
func toYAML(t *testing.T, items []obj) string {
	t.Helper()
	docs := make([]string, 0, len(items))
	for _, it := range items {
		b, err := yaml.Marshal(it)
		if err != nil {
			t.Fatalf("marshal %s: %v", ref(it), err)
		}
		docs = append(docs, string(b))
	}
	return strings.Join(docs, "\n---\n")
}

// find returns the items of a kind (apiVersion group prefix + kind) that satisfy pred.
func find(items []obj, group, kind string, pred func(obj) bool) []obj {
	var out []obj
	for _, it := range items {
		av := str(it, "apiVersion")
		if str(it, "kind") != kind {
			continue
		}
		if (group == "" && av != "v1") || (group != "" && !strings.HasPrefix(av, group+"/")) {
			continue
		}
		if pred == nil || pred(it) {
			out = append(out, it)
		}
	}
	return out
}

func generated(o obj) bool { return labels(o)[labelManagedBy] == managedByMeshfed }

func sortedCopy(in []string) []string {
	out := append([]string{}, in...)
	sort.Strings(out)
	return out
}
