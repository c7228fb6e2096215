package pipeline

import (
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/render"
	networking "istio.io/api/networking/v1alpha3"
)

func entry(namespace, name, host string) render.Object {
	return render.Object{
		APIVersion: "networking.istio.io/v1", Kind: "ServiceEntry", Namespace: namespace, Name: name,
		Labels: map[string]string{"own": "label"},
		Spec:   &networking.ServiceEntry{Hosts: []string{host}, Ports: []*networking.ServicePort{{Number: 80, Name: "http", Protocol: "HTTP"}}, Resolution: networking.ServiceEntry_STATIC, Location: networking.ServiceEntry_MESH_INTERNAL, WorkloadSelector: &networking.WorkloadSelector{Labels: map[string]string{"app": "x"}}},
	}
}

// TestEmitStampsAndOrders: every generated object carries meshfed's label
// and annotation, the file kpt writes it to and its index there, in the
// order sortObjects gives, with its ID.
func TestEmitStampsAndOrders(t *testing.T) {
	cfg := config{kind: "MeshImport", name: "east"}
	var f diag.Findings
	got, ok := emit([]generated{{cfg: cfg, objs: []render.Object{entry("ns", "b", "b.example"), entry("ns", "a", "a.example")}}}, &f)
	if !ok || len(f) != 0 {
		t.Fatalf("emit failed: %v", f)
	}
	if len(got) != 2 || got[0].ID.Name != "a" || got[1].ID.Name != "b" {
		t.Fatalf("objects not in sorted order: %v", got)
	}
	for i, g := range got {
		o, err := fn.ObjectFromJSON(g.JSON) // what the edge writes
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			render.GeneratedByAnnotation:          "MeshImport/east",
			fn.PathAnnotation:                     "meshfed-generated/meshimport-east.yaml",
			"internal.config.kubernetes.io/index": []string{"0", "1"}[i],
		}
		for k, v := range want {
			if o.GetAnnotation(k) != v {
				t.Errorf("%s: annotation %s = %q, want %q", g.ID.Name, k, o.GetAnnotation(k), v)
			}
		}
		if o.GetLabel(render.ManagedByLabel) != render.ManagedByValue || o.GetLabel("own") != "label" {
			t.Errorf("%s: labels %v", g.ID.Name, o.GetLabels())
		}
		if g.ID != (fn.ObjectID{Group: "networking.istio.io", Kind: "ServiceEntry", Namespace: "ns", Name: g.ID.Name}) {
			t.Errorf("ID %+v", g.ID)
		}
	}
}

// TestEmitRefuses: an object the API server would reject, and two configs
// generating one object, are errors naming both; nothing is emitted.
func TestEmitRefuses(t *testing.T) {
	a, b := config{kind: "MeshImport", name: "a"}, config{kind: "MeshImport", name: "b"}
	for name, tc := range map[string]struct {
		outs []generated
		says string
	}{
		"invalid": {[]generated{{cfg: a, objs: []render.Object{entry("ns", "x", "*")}}}, "would be rejected"},
		"same ID": {[]generated{{cfg: a, objs: []render.Object{entry("ns", "x", "x.example")}}, {cfg: b, objs: []render.Object{entry("ns", "x", "y.example")}}}, "MeshImport/a and MeshImport/b both generate ServiceEntry ns/x"},
	} {
		t.Run(name, func(t *testing.T) {
			var f diag.Findings
			if _, ok := emit(tc.outs, &f); ok || !f.HasErrors() {
				t.Fatalf("emit accepted it: %v", f)
			}
			if !strings.Contains(f[0].Message, tc.says) {
				t.Errorf("message %q lacks %q", f[0].Message, tc.says)
			}
		})
	}
}

// TestObjectID: the group of apiVersion, "" for the core group.
func TestObjectID(t *testing.T) {
	for apiVersion, group := range map[string]string{"v1": "", "networking.istio.io/v1": "networking.istio.io", "gateway.networking.k8s.io/v1": "gateway.networking.k8s.io"} {
		if got := objectID(render.Object{APIVersion: apiVersion}).Group; got != group {
			t.Errorf("objectID(%s).Group = %q, want %q", apiVersion, got, group)
		}
	}
}

// TestWithCopies: with never changes its inputs (render.Objects share
// their label maps between objects).
func TestWithCopies(t *testing.T) {
	base := map[string]string{"a": "1", "b": "2"}
	got := with(base, map[string]string{"b": "3"})
	if base["b"] != "2" || got["a"] != "1" || got["b"] != "3" {
		t.Errorf("with: base %v, result %v", base, got)
	}
}

// TestProcessOnErrorLeavesItems: with an error, the items come back as
// the very same objects and only results are added.
func TestProcessOnErrorLeavesItems(t *testing.T) {
	item, err := kfn.ParseKubeObject([]byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: a\nspec:\n  ports:\n  - port: 80\n"))
	if err != nil {
		t.Fatal(err)
	}
	rl := &kfn.ResourceList{Items: kfn.KubeObjects{item}, FunctionConfig: kfn.NewEmptyKubeObject()}
	Process(rl) // no configuration: an error
	if len(rl.Items) != 1 || rl.Items[0] != item {
		t.Errorf("items changed: %v", rl.Items)
	}
	if len(rl.Results) == 0 || rl.Results[0].Severity != kfn.Error || !strings.Contains(rl.Results[0].Message, "no configuration") {
		t.Errorf("results: %v", rl.Results)
	}
}
