package crdvalidate

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// repoRoot is the repository root relative to this package directory.
const repoRoot = "../.."

// generatedDirs hold YAML the function emits: golden outputs of the
// function tests, and examples/samples that show its output.
var generatedDirs = []string{
	"functions/meshfed/testdata",
	"examples",
	"kustomization-samples",
}

const (
	managedByLabel = "app.kubernetes.io/managed-by"
	managedByValue = "meshfed"
)

// TestGeneratedObjectsInRepo validates every object in the repository that
// meshfed generated (labelled managed-by: meshfed) against both Istio CRD
// sets, so a golden file can never bless output a cluster would reject.
func TestGeneratedObjectsInRepo(t *testing.T) {
	found, expectedFiles, anyDir := validateGeneratedTree(t, repoRoot)
	switch {
	case found > 0:
		t.Logf("validated %d meshfed-managed objects", found)
	case expectedFiles > 0:
		t.Fatalf("found %d _expected.yaml files under %v but no object labelled %s: %s; did the label change?",
			expectedFiles, generatedDirs, managedByLabel, managedByValue)
	case anyDir:
		t.Skipf("no _expected.yaml and no meshfed-managed objects under %v yet", generatedDirs)
	default:
		t.Skipf("none of %v exist yet", generatedDirs)
	}
}

// validateGeneratedTree validates the meshfed-managed objects in the YAML
// files under root's generatedDirs, reporting problems on t. It returns how
// many such objects it found, how many _expected.yaml files it saw, and
// whether any of the directories exists.
func validateGeneratedTree(t testing.TB, root string) (found, expectedFiles int, anyDir bool) {
	t.Helper()
	for _, dir := range generatedDirs {
		abs := filepath.Join(root, filepath.FromSlash(dir))
		if _, err := os.Stat(abs); err != nil {
			continue
		}
		anyDir = true
		err := filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			ext := filepath.Ext(path)
			if ext != ".yaml" && ext != ".yml" {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			isExpected := d.Name() == "_expected.yaml"
			if isExpected {
				expectedFiles++
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			objs, err := DecodeObjects(data)
			if err != nil {
				// Inputs of error cases may be malformed on purpose;
				// goldens may not.
				if isExpected {
					t.Errorf("%s: %v", rel, err)
				} else {
					t.Logf("%s: not Kubernetes YAML, skipped: %v", rel, err)
				}
				return nil
			}
			var managed []*unstructured.Unstructured
			for _, u := range objs {
				if u.GetLabels()[managedByLabel] == managedByValue {
					managed = append(managed, u)
				}
			}
			if len(managed) == 0 {
				return nil
			}
			found += len(managed)
			AssertValidObjects(t, rel, managed)
			if v, err := ForIstio(IstioPinned); err == nil {
				if unchecked := v.Unchecked(managed); len(unchecked) > 0 {
					t.Logf("%s: no CRD loaded, only strict decoding applied: %s", rel, strings.Join(unchecked, ", "))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walking %s: %v", dir, err)
		}
	}
	return found, expectedFiles, anyDir
}

// recorder captures what validateGeneratedTree reports, so the walker can
// be tested on a synthetic tree before the real goldens exist.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}
func (r *recorder) Fatalf(format string, a ...any) { r.Errorf(format, a...) }

func TestValidateGeneratedTree(t *testing.T) {
	root := t.TempDir()
	golden := `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: not-ours}
  data: {bogus: "1"}
- apiVersion: networking.istio.io/v1
  kind: WorkloadEntry
  metadata:
    name: good
    namespace: bookinfo
    labels: {app.kubernetes.io/managed-by: meshfed}
  spec: {network: west}
- apiVersion: networking.istio.io/v1
  kind: WorkloadEntry
  metadata:
    name: bad
    namespace: bookinfo
    labels: {app.kubernetes.io/managed-by: meshfed}
  spec: {labels: {app: x}}
`
	caseDir := filepath.Join(root, "functions", "meshfed", "testdata", "case1")
	if err := os.MkdirAll(caseDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(caseDir, "_expected.yaml"), []byte(golden), 0o644); err != nil {
		t.Fatal(err)
	}

	r := &recorder{TB: t}
	found, expected, anyDir := validateGeneratedTree(r, root)
	if found != 2 || expected != 1 || !anyDir {
		t.Fatalf("found=%d expected=%d anyDir=%v, want 2, 1, true", found, expected, anyDir)
	}
	// One report per Istio version, each naming the file and the bad object only.
	if len(r.errors) != len(IstioVersions) {
		t.Fatalf("got %d reports, want %d: %q", len(r.errors), len(IstioVersions), r.errors)
	}
	for _, e := range r.errors {
		if !strings.Contains(e, "functions/meshfed/testdata/case1/_expected.yaml") ||
			!strings.Contains(e, "WorkloadEntry bookinfo/bad [cel]") || strings.Contains(e, "/good") {
			t.Errorf("unexpected report:\n%s", e)
		}
	}
}
