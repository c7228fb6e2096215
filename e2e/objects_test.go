package e2e

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Annotations and labels the tests look for.
const (
	generatedBy = "meshfed.dev/generated-by"
	peerAnn     = "meshfed.dev/peer"
	localConfig = "config.kubernetes.io/local-config"
)

// parseObjects reads a multi-document YAML stream and checks that every
// document is a Kubernetes object (apiVersion, kind, metadata.name), which
// is what kubectl, kpt and Argo CD require of rendered output.
func parseObjects(t *testing.T, stream string) []*yaml.RNode {
	t.Helper()
	objs, err := (&kio.ByteReader{Reader: strings.NewReader(stream), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("output is not a YAML stream: %v\n%s", err, stream)
	}
	if len(objs) == 0 {
		t.Fatalf("output has no objects")
	}
	for i, o := range objs {
		if o.GetApiVersion() == "" || o.GetKind() == "" || o.GetName() == "" {
			t.Errorf("document %d is not a Kubernetes object (apiVersion, kind and metadata.name are required):\n%s", i, o.MustString())
		}
	}
	return objs
}

// find returns the object with that apiVersion, kind, namespace and name.
func find(t *testing.T, objs []*yaml.RNode, apiVersion, kind, namespace, name string) *yaml.RNode {
	t.Helper()
	for _, o := range objs {
		if o.GetApiVersion() == apiVersion && o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	t.Errorf("output has no %s %s %s/%s", apiVersion, kind, namespace, name)
	return nil
}

// count returns how many objects have that kind, namespace and name.
func count(objs []*yaml.RNode, kind, namespace, name string) int {
	n := 0
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			n++
		}
	}
	return n
}

// generated returns the objects meshfed generated, as "Kind ns/name".
func generated(objs []*yaml.RNode) []string {
	var out []string
	for _, o := range objs {
		if o.GetAnnotations()[generatedBy] != "" {
			out = append(out, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
		}
	}
	return out
}

// field returns the scalar values at a path (a list's items when the
// path ends at a list of scalars), or nil when it is absent.
func field(o *yaml.RNode, path ...string) []string {
	if o == nil {
		return nil
	}
	n, err := o.Pipe(yaml.Lookup(path...))
	if err != nil || n == nil {
		return nil
	}
	if n.YNode().Kind == yaml.SequenceNode {
		var out []string
		for _, e := range n.Content() {
			out = append(out, e.Value)
		}
		return out
	}
	return []string{n.YNode().Value}
}

// wantField checks the scalar values at a path.
func wantField(t *testing.T, o *yaml.RNode, want []string, path ...string) {
	t.Helper()
	if o == nil {
		return
	}
	got := field(o, path...)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s %s/%s: %s = %q, want %q", o.GetKind(), o.GetNamespace(), o.GetName(), strings.Join(path, "."), got, want)
	}
}

// assertNoPeerItems checks that no peer reference data, and none of the
// orchestrators' bookkeeping, reached the output.
func assertNoPeerItems(t *testing.T, objs []*yaml.RNode, peerPrefix string) {
	t.Helper()
	for _, o := range objs {
		ann := o.GetAnnotations()
		id := o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
		if ann[peerAnn] != "" || ann[localConfig] != "" {
			t.Errorf("peer or local-config item in the output: %s", id)
		}
		if peerPrefix != "" && strings.HasPrefix(o.GetName(), peerPrefix) {
			t.Errorf("renamed peer item in the output: %s", id)
		}
		for k := range ann {
			if strings.HasPrefix(k, "internal.config.kubernetes.io/") || k == "config.kubernetes.io/path" || k == "config.kubernetes.io/function" {
				t.Errorf("%s carries the orchestrator annotation %s", id, k)
			}
		}
		if o.GetApiVersion() == "meshfed.dev/v1alpha1" {
			t.Errorf("meshfed config in the output: %s", id)
		}
	}
}

// assertSameObjectSet compares two renders as sets of objects (by kind,
// namespace and name, each compared as data): Argo CD applies a render
// regardless of the order of its objects.
func assertSameObjectSet(t *testing.T, got, want []*yaml.RNode) {
	t.Helper()
	index := func(objs []*yaml.RNode) map[string]string {
		m := map[string]string{}
		for _, o := range objs {
			if _, dup := m[objectID(o)]; dup {
				t.Errorf("%s appears twice", objectID(o))
			}
			m[objectID(o)] = withoutBookkeeping(t, o)
		}
		return m
	}
	g, w := index(got), index(want)
	for id, text := range w {
		if gt, ok := g[id]; !ok {
			t.Errorf("%s is missing", id)
		} else if gt != text {
			t.Errorf("%s differs:\n%s", id, lineDiff(text, gt))
		}
	}
	for id := range g {
		if _, ok := w[id]; !ok {
			t.Errorf("%s is extra", id)
		}
	}
}
