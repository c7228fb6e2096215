package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fieldManager is the server-side apply manager of every apply here, as a
// GitOps tool has one of its own.
const fieldManager = "meshfed-cluster-test"

// TestGoldenOutputs applies the expected output of every function golden
// (functions/meshfed/testdata/*/_expected.yaml) that generates something:
// all the successful cases, and the bad-* cases that only warn (a bad-*
// case that fails generates nothing and is left out). examples/guide and
// examples/fleet are the inputs of the guide-* and fleet-* goldens, so
// their outputs are among these.
func TestGoldenOutputs(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join(repoRoot, "functions", "meshfed", "testdata", "*", "_expected.yaml"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no goldens found (%v)", err)
	}
	for _, expected := range goldens {
		name := filepath.Base(filepath.Dir(expected))
		data, err := os.ReadFile(expected)
		if err != nil {
			t.Fatal(err)
		}
		items, fnConfig, err := decodeStream(data)
		if err != nil {
			t.Fatalf("%s: %v", expected, err)
		}
		if !anyGenerated(items) {
			if !strings.HasPrefix(name, "bad-") {
				t.Errorf("%s: a successful golden generates nothing", expected)
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			applyScenario(t, items, fnConfig)
		})
	}
}

func anyGenerated(items []object) bool {
	for _, it := range items {
		if isGenerated(it) {
			return true
		}
	}
	return false
}

// TestKustomizeSamples applies each kustomization sample as kustomize
// v5.8.2 builds it with meshfed as its exec transformer.
func TestKustomizeSamples(t *testing.T) {
	kustomize := requireTool(t, "", "kustomize")
	meshfedOnPath(t)
	samples, _ := filepath.Glob(filepath.Join(repoRoot, "kustomization-samples", "*", "kustomization.yaml"))
	if len(samples) == 0 {
		t.Fatal("no kustomization samples found")
	}
	for _, k := range samples {
		dir := filepath.Dir(k)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cmd := exec.Command(kustomize, "build", "--enable-alpha-plugins", "--enable-exec", ".")
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderrOf(err))
			}
			items, _, err := decodeStream(out)
			if err != nil {
				t.Fatal(err)
			}
			applyScenario(t, items, nil)
		})
	}
}

// TestKptExamples applies each kpt package (examples/kpt-*) as `kpt fn
// render` leaves it, read back with `kpt fn source` (the package's
// resources; kpt live apply leaves out the local-config ones as kubectl
// users must).
func TestKptExamples(t *testing.T) {
	kpt := requireTool(t, "", "kpt")
	meshfedOnPath(t)
	pkgs, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "kpt-*", "Kptfile"))
	if len(pkgs) == 0 {
		t.Fatal("no kpt packages found")
	}
	for _, kptfile := range pkgs {
		src := filepath.Dir(kptfile)
		t.Run(filepath.Base(src), func(t *testing.T) {
			pkg := filepath.Join(t.TempDir(), filepath.Base(src))
			run(t, "cp", "-R", src, pkg)
			run(t, kpt, "fn", "render", pkg, "--allow-exec")
			out := run(t, kpt, "fn", "source", pkg)
			items, _, err := decodeStream([]byte(out))
			if err != nil {
				t.Fatal(err)
			}
			applyScenario(t, items, nil)
		})
	}
}

// applyScenario starts an empty API server, creates the namespaces the
// scenario's cluster has, applies every object the user's tool would send
// to it with server-side apply, and checks that each generated object reads
// back as written and that applying again changes nothing.
func applyScenario(t *testing.T, items []object, fnConfig object) {
	t.Helper()
	objs := forCluster(items)
	var generated []object
	for _, o := range objs {
		if isGenerated(o) {
			generated = append(generated, o)
		}
	}
	if len(generated) == 0 {
		t.Fatal("the scenario's output holds no object meshfed generated")
	}
	namespaces := clusterNamespaces(items, fnConfig)
	s := useCluster(t, namespaces)
	t.Logf("namespaces of this cluster: %s", strings.Join(namespaces, ", "))
	dir := t.TempDir()
	all := filepath.Join(dir, "output.yaml")
	writeFile(t, all, string(encodeStream(objs)))
	t.Cleanup(func() { s.deleteObjects(t, all) })
	if out, errOut, err := s.kubectl("apply", "--server-side", "--field-manager", fieldManager, "-f", all); err != nil {
		t.Fatalf("the API server refused part of the output (namespaces created: %s):\n%s%s", strings.Join(namespaces, ", "), errOut, out)
	}

	gen := filepath.Join(dir, "generated.yaml")
	writeFile(t, gen, string(encodeStream(generated)))
	first := readBack(t, s, gen)
	for _, want := range generated {
		key := objectKey(want)
		got, ok := first[key]
		if !ok {
			t.Errorf("%s: not found when read back", key)
			continue
		}
		if diffs := diffPaths(want, asStored(got), ""); len(diffs) > 0 {
			t.Errorf("%s: the API server stores it differently from what meshfed wrote (Argo CD would show it out of sync):\n  %s",
				key, strings.Join(diffs, "\n  "))
		}
	}

	// A second apply of the same output, as a GitOps tool's next sync does,
	// must leave every object as it is. Only resourceVersion may move: the
	// Gateway API Gateway, whose CRD defaults status.conditions, is stored
	// once more on the next apply with no field changed (seen with
	// kube-apiserver v1.36.3).
	before := readBack(t, s, all)
	s.mustKubectl(t, "apply", "--server-side", "--field-manager", fieldManager, "-f", all)
	after := readBack(t, s, all)
	for key, b := range before {
		a, ok := after[key]
		if !ok {
			t.Errorf("%s: gone after applying the same output again", key)
			continue
		}
		b, a = deepCopy(b), deepCopy(a)
		delete(metadata(b), "resourceVersion")
		delete(metadata(a), "resourceVersion")
		if diffs := diffPaths(b, a, ""); len(diffs) > 0 {
			t.Errorf("%s: applying the same output again changed it:\n  %s", key, strings.Join(diffs, "\n  "))
		}
	}
}

// readBack gets every object of a file from the server, by objectKey.
func readBack(t *testing.T, s *apiServer, file string) map[string]object {
	t.Helper()
	out := s.mustKubectl(t, "get", "-f", file, "-o", "json")
	var list struct {
		Kind  string   `json:"kind"`
		Items []object `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("kubectl get -o json: %v", err)
	}
	items := list.Items
	if list.Kind != "List" {
		var one object
		_ = json.Unmarshal([]byte(out), &one)
		items = []object{one}
	}
	byKey := map[string]object{}
	for _, it := range items {
		byKey[objectKey(it)] = it
	}
	return byKey
}

var meshfedBuild struct {
	once sync.Once
	dir  string
	err  error
}

// meshfedOnPath builds meshfed from this checkout and puts it first on
// PATH, where kustomize's and kpt's `exec: meshfed` and Helm find it.
func meshfedOnPath(t testing.TB) string {
	t.Helper()
	meshfedBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "meshfed-cluster-bin-")
		if err != nil {
			meshfedBuild.err = err
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "meshfed"), "./functions/meshfed")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			meshfedBuild.err = fmt.Errorf("building meshfed: %v\n%s", err, out)
			return
		}
		meshfedBuild.dir = dir
		os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	})
	if meshfedBuild.err != nil {
		t.Fatal(meshfedBuild.err)
	}
	return filepath.Join(meshfedBuild.dir, "meshfed")
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
