package fn

import (
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
)

func parse(t *testing.T, s string) *kfn.KubeObject {
	t.Helper()
	o, err := kfn.ParseKubeObject([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func names(items kfn.KubeObjects) string {
	var out []string
	for _, o := range items {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return strings.Join(out, " ")
}

func TestReplaceOwned(t *testing.T) {
	const owner = "meshfed.dev/generated-by"
	items := kfn.KubeObjects{
		parse(t, "apiVersion: v1\nkind: Service\nmetadata: {name: keep, namespace: a}\n"),
		parse(t, "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: same\n  namespace: a\n  annotations:\n    "+owner+": MeshExport/w\n    internal.config.kubernetes.io/path: moved/by-user.yaml\n    internal.config.kubernetes.io/index: '3'\n"),
		parse(t, "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: stale\n  namespace: a\n  annotations: {"+owner+": MeshExport/w}\n"),
		parse(t, "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: other-owner\n  namespace: a\n  annotations: {"+owner+": MeshExport/x}\n"),
	}
	generated := kfn.KubeObjects{
		parse(t, "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: new\n  namespace: a\n  annotations:\n    "+owner+": MeshExport/w\n    internal.config.kubernetes.io/path: meshfed-generated/x.yaml\n"),
		parse(t, "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: same\n  namespace: a\n  annotations:\n    "+owner+": MeshExport/w\n    internal.config.kubernetes.io/path: meshfed-generated/x.yaml\n    internal.config.kubernetes.io/index: '0'\n"),
	}
	owned := func(o *kfn.KubeObject) bool { return o.GetAnnotation(owner) == "MeshExport/w" }
	out := replaceOwned(t, items, owned, withIDs(generated))

	if got, want := names(out), "Service/keep ServiceEntry/same ServiceEntry/other-owner ServiceEntry/new"; got != want {
		t.Errorf("items = %s, want %s (replaced in place, stale removed, others kept, new appended)", got, want)
	}
	same := out[1]
	if p := same.GetAnnotation(PathAnnotation); p != "moved/by-user.yaml" {
		t.Errorf("path = %q: the file the user moved the object to must be kept", p)
	}
	if i := same.GetAnnotation("internal.config.kubernetes.io/index"); i != "3" {
		t.Errorf("index = %q, want the old one", i)
	}
	if p := out[3].GetAnnotation(PathAnnotation); p != "meshfed-generated/x.yaml" {
		t.Errorf("a new object keeps its default path, got %q", p)
	}
}

func TestReplaceOwnedTwiceIsStable(t *testing.T) {
	gen := func() kfn.KubeObjects {
		return kfn.KubeObjects{parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: g\n  annotations:\n    internal.config.kubernetes.io/index: '0'\n    internal.config.kubernetes.io/path: p.yaml\n    o: w\n")}
	}
	owned := func(o *kfn.KubeObject) bool { return o.GetAnnotation("o") == "w" }
	first := replaceOwned(t, nil, owned, withIDs(gen()))
	second := replaceOwned(t, first, owned, withIDs(gen()))
	if a, b := first[0].String(), second[0].String(); a != b {
		t.Errorf("second replacement changed the object:\n%s\n---\n%s", a, b)
	}
}

// TestReplaceOwnedInheritsInStableOrder: the annotations a generated object
// inherits come out in the same order every time (map iteration is random).
func TestReplaceOwnedInheritsInStableOrder(t *testing.T) {
	old := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: g\n  annotations:\n    o: w\n    config.kubernetes.io/path: p.yaml\n    config.kubernetes.io/index: '0'\n    internal.config.kubernetes.io/path: p.yaml\n    internal.config.kubernetes.io/index: '0'\n    internal.config.kubernetes.io/seqindent: compact\n    config.k8s.io/id: '1'\n"
	owned := func(o *kfn.KubeObject) bool { return o.GetAnnotation("o") == "w" }
	var first string
	for i := 0; i < 20; i++ {
		gen := kfn.KubeObjects{parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: g\n  annotations:\n    o: w\n")}
		out := replaceOwned(t, kfn.KubeObjects{parse(t, old)}, owned, withIDs(gen))
		if i == 0 {
			first = out[0].String()
		} else if s := out[0].String(); s != first {
			t.Fatalf("run %d differs:\n%s\n---\n%s", i, s, first)
		}
	}
}

// TestObjectFromJSON: a generated object's JSON becomes the item kyaml
// would read from the same object written as block YAML: field order kept,
// strings quoted only where YAML would read them as something else.
func TestObjectFromJSON(t *testing.T) {
	js := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"g","annotations":{"a/b":"0","z":"true"}},` +
		`"spec":{"hosts":["*","h.example"],"ports":[{"number":80,"name":"http"}],"on":false,"empty":{},"none":[],"note":"a: b\nc <>&"}}`
	o, err := ObjectFromJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: g\n  annotations:\n    a/b: \"0\"\n    z: \"true\"\n" +
		"spec:\n  hosts:\n  - '*'\n  - h.example\n  ports:\n  - number: 80\n    name: http\n  on: false\n  empty: {}\n  none: []\n  note: |-\n    a: b\n    c <>&\n"
	if got := o.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if parsed := parse(t, want); parsed.String() != want {
		t.Errorf("kyaml reads the expected YAML back differently:\n%s", parsed.String())
	}
	for _, bad := range []string{`[1]`, `"s"`, `{`} {
		if _, err := ObjectFromJSON([]byte(bad)); err == nil {
			t.Errorf("ObjectFromJSON(%s): no error", bad)
		}
	}
}

func replaceOwned(t *testing.T, items kfn.KubeObjects, owned func(*kfn.KubeObject) bool, generated []Generated) kfn.KubeObjects {
	t.Helper()
	out, err := ReplaceOwned(items, owned, generated)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := out.Objects()
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func withIDs(objs kfn.KubeObjects) []Generated {
	out := make([]Generated, 0, len(objs))
	for _, o := range objs {
		out = append(out, Generated{Object: o, ID: IDOf(o)})
	}
	return out
}
