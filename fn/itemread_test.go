package fn

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/internal/yamltest"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestReadItemByItemMatchesKyaml: wherever readItemByItem takes an input,
// it gives the same items (node for node: kind, style, tag, value,
// anchor, comments), functionConfig, results and wrapping as kyaml's
// reader; and it takes the plain ResourceLists kustomize and kpt send
// (every golden output with its comments removed: block scalars, quoting,
// results, functionConfig).
func TestReadItemByItemMatchesKyaml(t *testing.T) {
	files, _ := filepath.Glob("../functions/meshfed/testdata/*/_expected.yaml")
	files = append(files, "testdata/writer-tricky.yaml")
	for _, file := range files {
		input, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		checkReadItemByItem(t, file, input) // with comments, it rarely takes them
		// Without comments, every one of them is plain.
		if plain := yamltest.WithoutComments(t, input); !checkReadItemByItem(t, file+" without comments", plain) && !strings.Contains(file, "tricky") {
			t.Errorf("%s: a plain ResourceList without comments was not read item by item", file)
		}
	}
}

// TestReadItemByItemRefuses: inputs it must leave to kyaml's reader.
func TestReadItemByItemRefuses(t *testing.T) {
	const head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
	for name, input := range map[string]string{
		"comment line":          head + "items:\n# c\n- apiVersion: v1\n  kind: A\n",
		"wide sequence":         head + "items:\n  - apiVersion: v1\n    kind: A\n",
		"flow items":            head + "items: [{apiVersion: v1, kind: A}]\n",
		"marker in a scalar":    head + "items:\n- apiVersion: v1\n  kind: A\n  data: \"a\n  --- b\"\n",
		"list as an item":       head + "items:\n- - a\n",
		"scalar item":           head + "items:\n- x\n",
		"document marker":       "---\n" + head + "items:\n- apiVersion: v1\n  kind: A\n",
		"two documents":         head + "items: []\n---\n" + head + "items: []\n",
		"carriage returns":      strings.ReplaceAll(head+"items:\n- apiVersion: v1\n  kind: A\n", "\n", "\r\n"),
		"unknown top-level key": head + "extra: 1\nitems:\n- apiVersion: v1\n  kind: A\n",
		"odd indentation":       head + "items:\n- apiVersion: v1\n kind: A\n",
		"a List":                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: A\n",
		"no items":              head + "functionConfig:\n  apiVersion: v1\n  kind: A\n",
		"functionConfig a list": head + "items:\n- apiVersion: v1\n  kind: A\nfunctionConfig:\n- a\n",
		"tab":                   head + "items:\n\t- apiVersion: v1\n",
	} {
		if takesItemByItem([]byte(input)) {
			t.Errorf("%s: read item by item, but must be left to kyaml's reader:\n%s", name, input)
		}
	}
}

// TestReadItemByItemComments: the comments kyaml's writer puts in items
// (after "- ", at the end of a line, on their own line above a key) are
// read as kyaml reads them; comments at an item's edge, where go-yaml
// attaches them differently in an item of its own, send the input to
// kyaml's reader.
func TestReadItemByItemComments(t *testing.T) {
	tricky, err := os.ReadFile("testdata/writer-tricky.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(tricky), "\n") {
		if !strings.HasPrefix(line, "#") {
			kept = append(kept, line)
		}
	}
	const head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
	for name, input := range map[string]string{
		"line comment":                head + "items:\n- apiVersion: v1 # c\n  kind: A\n",
		"head comment after the dash": head + "items:\n- # about A\n  apiVersion: v1\n  kind: A\n- # about B\n  apiVersion: v1\n  kind: B\n",
		"comment lines inside":        head + "items:\n- apiVersion: v1\n  # before kind\n  kind: A\n  data:\n    # inside\n    k: v\n    # between\n    l: w\n- apiVersion: v1\n  kind: B\n",
		"trailing comments elsewhere": head + "items:\n- apiVersion: v1\n  kind: B\nfunctionConfig:\n  kind: C # trailing\n",
	} {
		if !checkReadItemByItem(t, name, []byte(input)) {
			t.Errorf("%s: not read item by item", name)
		}
	}
	// Where go-yaml attaches a comment differently in an item of its own.
	for name, input := range map[string]string{
		"tricky without column-0 comments": strings.Join(kept, ""),
		"empty line after the dash":        head + "items:\n- # about B\n\n  apiVersion: v1\n  kind: B\n",
		"foot comment then next item":      head + "items:\n- apiVersion: v1\n  kind: A\n  spec:\n    x: 1\n  # foot of A\n- apiVersion: v1\n  kind: B\n",
		"foot comment at the end":          head + "items:\n- apiVersion: v1\n  kind: A\n  # last\n",
		"comment after an empty line":      head + "items:\n- apiVersion: v1\n\n  # c\n  kind: A\n",
		"comment line in functionConfig":   head + "items:\n- apiVersion: v1\n  kind: A\nfunctionConfig:\n  # fc\n  kind: C\n",
		"only a comment":                   head + "items:\n- # nothing\n- apiVersion: v1\n  kind: A\n",
		"first key indented further":       head + "items:\n- # c\n   apiVersion: v1\n  kind: A\n", // found by FuzzReadItemByItem
	} {
		if takesItemByItem([]byte(input)) {
			t.Errorf("%s: read item by item, but must be left to kyaml's reader", name)
		}
	}
}

// TestReadItemByItemAliases: the items are read by one decoder, as one
// stream, so an alias of an anchor in an earlier item resolves as it does
// in the whole document.
func TestReadItemByItemAliases(t *testing.T) {
	input := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: A\n  metadata: &m\n    name: a\n- apiVersion: v1\n  kind: B\n  metadata: *m\n"
	if !checkReadItemByItem(t, "aliases", []byte(input)) {
		t.Error("not read item by item")
	}
}

// takesItemByItem reports whether readItemByItem reads input.
func takesItemByItem(input []byte) bool {
	_, _, forget, ok := readItemByItem(input, func(int) func(*kfn.KubeObject) { return func(*kfn.KubeObject) {} })
	if ok {
		forget()
	}
	return ok
}

func checkReadItemByItem(t *testing.T, file string, input []byte) bool {
	t.Helper()
	var observed kfn.KubeObjects
	announced := -1
	rw, rl, forget, ok := readItemByItem(input, func(n int) func(*kfn.KubeObject) {
		observed, announced = nil, n
		return func(o *kfn.KubeObject) { observed = append(observed, o) }
	})
	if !ok {
		return false
	}
	defer forget()
	want := &kio.ByteReadWriter{Reader: bytes.NewReader(input), OmitReaderAnnotations: true, KeepReaderAnnotations: true}
	nodes, err := want.Read()
	if err != nil {
		t.Fatalf("%s: kyaml cannot read what readItemByItem read: %v", file, err)
	}
	if len(observed) != len(rl.Items) || len(rl.Items) != len(nodes) || announced != len(nodes) {
		t.Fatalf("%s: %d items announced, %d observed, %d read, kyaml reads %d", file, announced, len(observed), len(rl.Items), len(nodes))
	}
	for i, n := range nodes {
		if observed[i] != rl.Items[i] {
			t.Errorf("%s: item %d observed is not the item in the list", file, i)
		}
		if d := nodeDiff(ItemNode(rl.Items[i]), n.YNode(), fmt.Sprintf("items[%d]", i)); d != "" {
			t.Errorf("%s: %s", file, d)
		}
	}
	if rw.WrappingKind != want.WrappingKind || rw.WrappingAPIVersion != want.WrappingAPIVersion {
		t.Errorf("%s: wrapping %s %s, kyaml %s %s", file, rw.WrappingAPIVersion, rw.WrappingKind, want.WrappingAPIVersion, want.WrappingKind)
	}
	for _, f := range []struct {
		name      string
		got, want *yaml.RNode
	}{{"functionConfig", rw.FunctionConfig, want.FunctionConfig}, {"results", rw.Results, want.Results}} {
		if (f.got == nil) != (f.want == nil) {
			t.Errorf("%s: %s present = %v, kyaml %v", file, f.name, f.got != nil, f.want != nil)
		} else if f.got != nil {
			if d := nodeDiff(f.got.YNode(), f.want.YNode(), f.name); d != "" {
				t.Errorf("%s: %s", file, d)
			}
		}
	}
	return true
}

// nodeDiff compares two trees on everything but their positions.
func nodeDiff(a, b *yaml.Node, path string) string {
	switch {
	case a == nil || b == nil:
		if a != b {
			return path + ": one node is missing"
		}
		return ""
	case a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor:
		return fmt.Sprintf("%s: %v %v %q %q %q, kyaml %v %v %q %q %q", path, a.Kind, a.Style, a.Tag, a.Value, a.Anchor, b.Kind, b.Style, b.Tag, b.Value, b.Anchor)
	case a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment:
		return fmt.Sprintf("%s: comments differ", path)
	case len(a.Content) != len(b.Content):
		return fmt.Sprintf("%s: %d children, kyaml %d", path, len(a.Content), len(b.Content))
	case (a.Alias == nil) != (b.Alias == nil):
		return path + ": alias differs"
	}
	for i := range a.Content {
		if d := nodeDiff(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); d != "" {
			return d
		}
	}
	return ""
}

// FuzzReadItemByItem: on any input readItemByItem takes, it reads what
// kyaml reads, node for node.
//
//	go test ./fn -run '^$' -fuzz '^FuzzReadItemByItem$' -fuzztime 20s
func FuzzReadItemByItem(f *testing.F) {
	files, _ := filepath.Glob("../functions/meshfed/testdata/*/_expected.yaml")
	for _, file := range append(files, "testdata/writer-tricky.yaml") {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(yamltest.WithoutComments(f, b))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		timer := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("hang on %q", input)) })
		defer timer.Stop()
		var kyamlErr error
		if _, kyamlErr = (&kio.ByteReadWriter{Reader: bytes.NewReader(input), OmitReaderAnnotations: true}).Read(); kyamlErr != nil {
			if takesItemByItem(input) {
				t.Fatalf("read item by item, but kyaml cannot read it: %v", kyamlErr)
			}
			return
		}
		checkReadItemByItem(t, "fuzz input", input)
	})
}
