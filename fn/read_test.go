package fn

import (
	"bytes"
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const rlHead = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"

// TestReadInputResolvesAliasesAsKyaml: aliases and merge keys read as
// kyaml's DeAnchor reads them (kio.FromBytes, kustomize's reader), each
// item with its own copy, and are written back expanded.
func TestReadInputResolvesAliasesAsKyaml(t *testing.T) {
	input := rlHead + `items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: a
    annotations: &id001
      meshfed.dev/peer: west
      config.kubernetes.io/local-config: "true"
  data: &d
    k: v
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
    annotations: *id001
  data:
    <<: *d
    k2: v2
`
	in, err := readInput([]byte(input))
	if err != nil || len(in.problems) > 0 {
		t.Fatalf("readInput: %v %v", err, in.problems)
	}
	if len(in.items) != 2 {
		t.Fatalf("%d items, want 2", len(in.items))
	}
	for _, it := range in.items {
		if got := it.GetAnnotations()["config.kubernetes.io/local-config"]; got != "true" {
			t.Errorf("%s: local-config %q, want \"true\"", it.GetName(), got)
		}
	}
	// Each item owns its annotations: changing one changes no other.
	if err := in.items[0].PipeE(yaml.SetAnnotation("x", "1")); err != nil {
		t.Fatal(err)
	}
	if _, shared := in.items[1].GetAnnotations()["x"]; shared {
		t.Error("the items still share one annotations mapping")
	}
	b, _ := in.items[1].String()
	if !strings.Contains(b, "k: v") || !strings.Contains(b, "k2: v2") || strings.Contains(b, "<<") || strings.Contains(b, "*") {
		t.Errorf("merge key not resolved as kyaml does:\n%s", b)
	}
	// The same as kyaml's own reader with anchors resolved.
	want, err := (&kio.ByteReader{Reader: strings.NewReader(input), OmitReaderAnnotations: true, AnchorsAweigh: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	in, _ = readInput([]byte(input))
	for i := range want {
		w, _ := want[i].String()
		g, _ := in.items[i].String()
		if w != g {
			t.Errorf("item %d differs from kyaml's reader:\n--- kyaml\n%s--- readInput\n%s", i, w, g)
		}
	}
}

// TestReadInputDuplicateKeys: a key twice in one mapping, anywhere, is a
// problem naming the object and the field; so are two items or
// functionConfig keys.
func TestReadInputDuplicateKeys(t *testing.T) {
	item := "- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s\n    namespace: a\n"
	for name, tc := range map[string]struct{ input, field, says string }{
		"annotation":     {rlHead + "items:\n" + item + "    annotations:\n      x: \"true\"\n      x: \"false\"\n", "metadata.annotations.x", `Service a/s (items[0]): the key "x" is given twice in ` + "`metadata.annotations`"},
		"in a list":      {rlHead + "items:\n" + item + "  spec:\n    ports:\n    - port: 1\n      port: 2\n", "spec.ports[0].port", `the key "port" is given twice in ` + "`spec.ports[0]`"},
		"top level":      {rlHead + "items:\n" + item + "  kind: Service\n", "kind", "is given twice in the top level"},
		"two items":      {rlHead + "items: []\nitems: []\n", "items", "two `items` keys"},
		"two configs":    {rlHead + "items: []\nfunctionConfig: {kind: A}\nfunctionConfig: {kind: B}\n", "functionConfig", "two `functionConfig` keys"},
		"functionConfig": {rlHead + "items: []\nfunctionConfig:\n  kind: A\n  kind: B\n", "kind", `the key "kind" is given twice`},
		"stream":         {"apiVersion: v1\nkind: A\nmetadata:\n  name: x\n  name: y\n", "metadata.name", "(document 0 (counting from 0))"},
	} {
		t.Run(name, func(t *testing.T) {
			in, err := readInput([]byte(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			if len(in.problems) != 1 {
				t.Fatalf("%d problems, want 1: %v", len(in.problems), in.problems)
			}
			p := in.problems[0]
			if p.Field == nil || p.Field.Path != tc.field || !strings.Contains(p.Message, tc.says) {
				t.Errorf("got %v, want field %s and a message with %q", p, tc.field, tc.says)
			}
		})
	}
	// An alias of a mapping is not a duplicate, nor is a key a merge key
	// also brings in.
	ok := rlHead + "items:\n- apiVersion: v1\n  kind: A\n  metadata: {name: a}\n  x: &m {k: v}\n  y: *m\n  z:\n    <<: *m\n    k: w\n"
	if in, err := readInput([]byte(ok)); err != nil || len(in.problems) > 0 {
		t.Errorf("valid input refused: %v %v", err, in.problems)
	}
}

// TestRunDuplicateKeyReturnsItemsAndError: the items go back unchanged
// with the error result, exit code 1, and the processor never runs.
func TestRunDuplicateKeyReturnsItemsAndError(t *testing.T) {
	input := rlHead + "items:\n- apiVersion: v1\n  kind: A\n  metadata:\n    name: a\n    name: b\n"
	var out, stderr bytes.Buffer
	ran := false
	code := Run(ProcessorFunc(func(*kfn.ResourceList) { ran = true }), strings.NewReader(input), &out, &stderr)
	if code != 1 || ran {
		t.Errorf("exit %d, processor ran %v; want 1 and false", code, ran)
	}
	if !strings.Contains(out.String(), "    name: a\n    name: b\n") || !strings.Contains(out.String(), "severity: error") {
		t.Errorf("output lacks the items or the error:\n%s", out.String())
	}
	if !strings.Contains(stderr.String(), `the key "name" is given twice`) {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// FuzzReadInput: readInput reads what kyaml's reader reads, no more and no
// less. Wherever kyaml's ByteReader (with anchors resolved) reads an input
// and readInput reports no problem, both give the same items and
// functionConfig, byte for byte; readInput reports a problem only where a
// mapping repeats a key.
func FuzzReadInput(f *testing.F) {
	for _, s := range []string{
		rlHead + "items:\n- apiVersion: v1\n  kind: A\n  metadata: {name: a, annotations: &a {x: y}}\n- apiVersion: v1\n  kind: B\n  metadata: {name: b, annotations: *a}\n",
		rlHead + "items:\n- apiVersion: v1\n  kind: A\n  metadata:\n    name: a\n    name: b\n",
		rlHead + "functionConfig: {kind: C, spec: {<<: {a: 1}, b: 2}}\nitems: []\n",
		"apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\nx: &q [1]\ny: *q\n",
		"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: A}\n",
		// A merge key whose value is a mapping written in place, not an
		// alias, in an item: kyaml expands it too (found by FuzzReadInput).
		"n: \nd: \ng: {d: {<<: {a: 1}, b: 2}}\nitems:",
		// An anchor on a key (found by FuzzReadInput).
		"&a: 1}",
		// A merge key without a value: kyaml refuses it (found by FuzzReadInput).
		"{<<}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := readInput(b)
		kr := &kio.ByteReader{Reader: bytes.NewReader(b), OmitReaderAnnotations: true, AnchorsAweigh: true}
		want, kerr := kr.Read()
		if err != nil || kerr != nil {
			return // kyaml refuses it too, or its alias resolution does
		}
		if len(in.problems) > 0 {
			if !hasDuplicateKey(b) {
				t.Fatalf("problems %v on input without a repeated key", in.problems)
			}
			return
		}
		if (kr.WrappingKind == "") != (in.rw.WrappingKind == "") {
			t.Skip("a ResourceList after an empty document: kyaml does not unwrap it, readInput does (documented)")
		}
		if len(want) != len(in.items) {
			t.Fatalf("%d items, kyaml reads %d", len(in.items), len(want))
		}
		for i := range want {
			w, _ := want[i].String()
			g, _ := in.items[i].String()
			if w != g {
				t.Fatalf("item %d:\n--- kyaml\n%s--- readInput\n%s", i, w, g)
			}
		}
	})
}

// hasDuplicateKey reports whether any mapping in b, parsed by go-yaml
// without resolving aliases, repeats a key: the oracle for FuzzReadInput.
func hasDuplicateKey(b []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n.Kind == yaml.MappingNode {
			seen := map[string]bool{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				if seen[n.Content[i].Value] {
					return true
				}
				seen[n.Content[i].Value] = true
			}
		}
		for _, c := range n.Content {
			if walk(c) {
				return true
			}
		}
		return false
	}
	for {
		var doc yaml.Node
		if dec.Decode(&doc) != nil {
			return false
		}
		if walk(&doc) {
			return true
		}
	}
}

// TestReadInputItemsMustBeAList: `items` that is a mapping or a scalar is
// refused (kyaml would read a mapping's keys and values as items, meshfed's
// unwrapping would have read none); an empty `items` is no items. Found by
// FuzzRun (a comment line turned the first item's `- ` into a mapping).
func TestReadInputItemsMustBeAList(t *testing.T) {
	for name, tc := range map[string]struct {
		items   string
		refused bool
	}{
		"mapping":    {"items:\n  kind: MeshImport\n  metadata: {name: east}\n", true},
		"scalar":     {"items: east\n", true},
		"list":       {"items:\n- {apiVersion: v1, kind: A, metadata: {name: a}}\n", false},
		"empty list": {"items: []\n", false},
		"null":       {"items:\nfunctionConfig: {kind: A}\n", false},
		"empty map":  {"items: {}\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readInput([]byte(rlHead + tc.items))
			if tc.refused != (err != nil) {
				t.Fatalf("refused = %v (%v), want %v", err != nil, err, tc.refused)
			}
			if err != nil && !strings.Contains(err.Error(), "`items` (line 3) is not a list") {
				t.Errorf("message %q does not say where and what", err)
			}
		})
	}
}
