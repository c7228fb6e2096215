package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/pipeline"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Golden cases live in testdata/<case>/: input files (*.yaml, read like
// kpt reads a package, subfolders included, or one _resourcelist.yaml), an optional _fnconfig.yaml, an
// optional _inputs file listing more package folders (relative to the
// case; "peer <name> <folder>" reads a folder as the peer <name>'s
// reference data, with the two annotations a kustomize peer overlay adds),
// and _expected.yaml, the whole output ResourceList. Rewrite the
// expectations with UPDATE_GOLDEN=1 and review the diff.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() || filepath.Base(dir) == "fuzz" {
			continue // testdata/fuzz holds go test -fuzz's corpus, not a golden case
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input := readCase(t, dir)
			out, code := runFunction(t, input)
			wantFile := filepath.Join(dir, "_expected.yaml")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(wantFile, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it, then review it)", err)
			}
			if string(out) != string(want) {
				t.Errorf("output differs from %s (UPDATE_GOLDEN=1 rewrites it; review the diff):\n%s", wantFile, diffLines(string(want), string(out)))
			}
			hasError := strings.Contains(string(out), "severity: error")
			if hasError != (code == 1) {
				t.Errorf("exit code %d, but error results present = %v", code, hasError)
			}
			if hasError {
				assertItemsUnchanged(t, input, out)
				return
			}
			assertIdempotent(t, out)
			assertOrderIndependent(t, input, out)
		})
	}
}

// readCase builds the input ResourceList of a case: _resourcelist.yaml as
// it is (for YAML that only a ResourceList written by a script can hold,
// such as aliases between items), or the package folders.
func readCase(t *testing.T, dir string) []byte {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(dir, "_resourcelist.yaml")); err == nil {
		return b
	}
	type pkg struct{ path, peer string }
	pkgs := []pkg{{path: dir}}
	if b, err := os.ReadFile(filepath.Join(dir, "_inputs")); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				p := pkg{path: line}
				if f := strings.Fields(line); len(f) == 3 && f[0] == "peer" {
					p = pkg{path: f[2], peer: f[1]}
				}
				p.path = filepath.Join(dir, p.path)
				pkgs = append(pkgs, p)
			}
		}
	}
	var nodes []*yaml.RNode
	for _, p := range pkgs {
		r := kio.LocalPackageReader{PackagePath: p.path, MatchFilesGlob: []string{"[^_]*.yaml"}, IncludeSubpackages: true, OmitReaderAnnotations: false}
		n, err := r.Read()
		if err != nil {
			t.Fatalf("reading %s: %v", p.path, err)
		}
		for _, node := range n {
			// kustomization.yaml files are kustomize's own; kustomize never
			// passes them to a function.
			if node.GetKind() == "Kustomization" {
				continue
			}
			if p.peer != "" {
				for _, a := range [][2]string{{"meshfed.dev/peer", p.peer}, {"config.kubernetes.io/local-config", "true"}} {
					if err := node.PipeE(yaml.SetAnnotation(a[0], a[1])); err != nil {
						t.Fatal(err)
					}
				}
			}
			nodes = append(nodes, node)
		}
	}
	var fc *yaml.RNode
	if b, err := os.ReadFile(filepath.Join(dir, "_fnconfig.yaml")); err == nil {
		if fc, err = yaml.Parse(string(b)); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	w := kio.ByteWriter{Writer: &buf, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion, FunctionConfig: fc, KeepReaderAnnotations: true}
	if err := w.Write(nodes); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// runFunction runs the real edge, as the binary does.
func runFunction(t *testing.T, input []byte) ([]byte, int) {
	t.Helper()
	var out, stderr bytes.Buffer
	code := fn.Run(fn.ItemsFunc(pipeline.ProcessItems), bytes.NewReader(input), &out, &stderr)
	if code == 1 && stderr.Len() == 0 {
		t.Error("exit code 1 with nothing on stderr: kustomize users would see no reason")
	}
	// pipeline.Process, which converts every generated object into
	// rl.Items before anything is written, gives the same bytes as the
	// binary's path, which converts each one as it is written.
	var converted, stderr2 bytes.Buffer
	if code2 := fn.Run(fn.ProcessorFunc(pipeline.Process), bytes.NewReader(input), &converted, &stderr2); code2 != code || !bytes.Equal(converted.Bytes(), out.Bytes()) || stderr2.String() != stderr.String() {
		t.Errorf("pipeline.Process and pipeline.ProcessItems differ (exit %d and %d):\n--- Process\n%s\n--- ProcessItems\n%s", code2, code, converted.String(), out.String())
	}
	return out.Bytes(), code
}

// documents returns the items of a ResourceList, each as YAML text.
func documents(t *testing.T, rl []byte) []string {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(rl), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		s, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func generatedDocs(t *testing.T, rl []byte) []string {
	var out []string
	for _, d := range documents(t, rl) {
		if strings.Contains(d, "meshfed.dev/generated-by:") {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

func assertItemsUnchanged(t *testing.T, input, output []byte) {
	t.Helper()
	if a, b := strings.Join(documents(t, input), "---\n"), strings.Join(documents(t, output), "---\n"); a != b {
		t.Errorf("items changed although there are errors:\n%s", diffLines(a, b))
	}
}

// assertIdempotent runs the function on its own output: nothing changes.
func assertIdempotent(t *testing.T, out []byte) {
	t.Helper()
	again, code := runFunction(t, out)
	if code != 0 {
		t.Fatalf("second run failed:\n%s", again)
	}
	if a, b := strings.Join(documents(t, out), "---\n"), strings.Join(documents(t, again), "---\n"); a != b {
		t.Errorf("running on its own output changed the items:\n%s", diffLines(a, b))
	}
}

// assertOrderIndependent reverses the input items: the generated objects
// must be the same.
func assertOrderIndependent(t *testing.T, input, out []byte) {
	t.Helper()
	rw := &kio.ByteReadWriter{Reader: bytes.NewReader(input), OmitReaderAnnotations: true, KeepReaderAnnotations: true}
	nodes, err := rw.Read()
	if err != nil {
		t.Fatal(err)
	}
	// An alias must not come before its anchor.
	for _, n := range nodes {
		if err := n.DeAnchor(); err != nil {
			t.Fatal(err)
		}
	}
	for i, j := 0, len(nodes)-1; i < j; i, j = i+1, j-1 {
		nodes[i], nodes[j] = nodes[j], nodes[i]
	}
	var buf bytes.Buffer
	rw.Writer = &buf
	if err := rw.Write(nodes); err != nil {
		t.Fatal(err)
	}
	reversed, _ := runFunction(t, buf.Bytes())
	if a, b := strings.Join(generatedDocs(t, out), "---\n"), strings.Join(generatedDocs(t, reversed), "---\n"); a != b {
		t.Errorf("reversing the input order changed the generated objects:\n%s", diffLines(a, b))
	}
}

// diffLines shows the first differing lines, enough to see what changed.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			lo := max(0, i-3)
			return "first difference at line " + strconv.Itoa(i+1) + ":\n--- want\n" + strings.Join(w[lo:min(len(w), i+6)], "\n") + "\n+++ got\n" + strings.Join(g[lo:min(len(g), i+6)], "\n")
		}
	}
	return "(no line difference)"
}
