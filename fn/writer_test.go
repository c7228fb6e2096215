package fn

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestWriteResourceListMatchesKyaml checks that writeResourceList writes
// exactly what kyaml's ByteReadWriter writes, on tricky YAML and on every
// golden output of the function.
func TestWriteResourceListMatchesKyaml(t *testing.T) {
	files, _ := filepath.Glob("testdata/writer-*.yaml")
	golden, _ := filepath.Glob("../functions/meshfed/testdata/*/_expected.yaml")
	files = append(files, golden...)
	if len(files) < 2 {
		t.Fatalf("too few inputs: %v", files)
	}
	for _, file := range files {
		input, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		read := func() (*kio.ByteReadWriter, []*yaml.RNode, *bytes.Buffer) {
			var out bytes.Buffer
			rw := &kio.ByteReadWriter{Reader: bytes.NewReader(input), Writer: &out, OmitReaderAnnotations: true, KeepReaderAnnotations: true}
			nodes, err := rw.Read()
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			return rw, nodes, &out
		}
		rw, nodes, want := read()
		if rw.WrappingKind != kio.ResourceListKind {
			continue
		}
		if err := rw.Write(nodes); err != nil {
			t.Fatal(err)
		}
		rw, nodes, got := read()
		if err := writeResourceList(rw, nodes); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: writeResourceList differs from kyaml:\n--- kyaml\n%s\n--- writeResourceList\n%s", file, want, got)
		}

	}
}

// TestNothingToClear: when nothingToClear says so, kyaml's
// ClearEmptyAnnotations indeed changes nothing and does not fail.
func TestNothingToClear(t *testing.T) {
	for _, in := range []string{
		"kind: A\nmetadata:\n  name: a\n",
		"kind: A\nmetadata:\n  name: a\n  annotations:\n    k: v\n",
		"kind: A\nmetadata:\n  name: a\n  annotations: {}\n",
		"kind: A\nmetadata:\n  name: a\n  annotations: null\n",
		"kind: A\nmetadata:\n  name: a\n  annotations: x\n",
		"kind: A\nmetadata:\n  name: a\n  annotations:\n    k: v\n  annotations: {}\n",
		"kind: A\nmetadata: {}\n",
		"kind: A\nmetadata: x\n",
		"kind: A\nmetadata:\n  name: a\nmetadata: {}\n",
		"kind: A\n",
		"kind: A\nspec:\n  annotations: {}\n",
	} {
		n, err := yaml.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		skip := nothingToClear(n.YNode())
		before := n.MustString()
		err = yaml.ClearEmptyAnnotations(n)
		changed := err != nil || n.MustString() != before
		if skip && changed {
			t.Errorf("nothingToClear, but ClearEmptyAnnotations changed or failed (%v) on:\n%s", err, in)
		}
		if !skip && !changed && strings.Contains(in, "metadata") && !strings.Contains(in, "annotations: x") {
			t.Logf("conservative on:\n%s", in)
		}
	}
}

// FuzzWriteResourceList is the differential test of the writer:
// wherever kyaml's ByteReadWriter reads a ResourceList and writes it back,
// writeResourceList writes the same bytes.
func FuzzWriteResourceList(f *testing.F) {
	files, _ := filepath.Glob("testdata/writer-*.yaml")
	golden, _ := filepath.Glob("../functions/meshfed/testdata/*/_expected.yaml")
	for _, file := range append(files, golden...) {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		read := func() (*kio.ByteReadWriter, []*yaml.RNode, *bytes.Buffer, error) {
			var out bytes.Buffer
			rw := &kio.ByteReadWriter{Reader: bytes.NewReader(input), Writer: &out, OmitReaderAnnotations: true, KeepReaderAnnotations: true}
			nodes, err := rw.Read()
			return rw, nodes, &out, err
		}
		rw, nodes, want, err := read()
		if err != nil || rw.WrappingKind != kio.ResourceListKind {
			return
		}
		if err := rw.Write(nodes); err != nil {
			return // kyaml cannot write it either
		}
		rw, nodes, got, _ := read()
		if err := writeResourceList(rw, nodes); err != nil {
			t.Fatalf("kyaml writes it, writeResourceList fails: %v", err)
		}
		if got.String() != want.String() {
			t.Fatalf("writeResourceList differs from kyaml:\n--- kyaml\n%s\n--- writeResourceList\n%s", want, got)
		}
	})
}
