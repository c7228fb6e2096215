package render

import (
	"strings"
	"testing"

	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestName(t *testing.T) {
	long := strings.Repeat("very-long-service-name.", 4) + "ns.svc.west-mesh-imports.local"
	longer := strings.Repeat("very-long-service-name.", 4) + "ns.svc.east-mesh-imports.local"
	tests := []struct {
		in, want string
	}{
		{"httpbin.a.svc.west-mesh-imports.local", "httpbin-a-svc-west-mesh-imports-local"},
		{"Upper.Case.example", "upper-case-example"},
	}
	for _, tc := range tests {
		if got := Name(tc.in); got != tc.want {
			t.Errorf("Name(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{long, longer} {
		got := Name(in)
		if len(got) > 63 || validation.IsDNS1123Label(got) != nil {
			t.Errorf("Name(%q) = %q is not a DNS-1123 label of at most 63 characters", in, got)
		}
		if Name(in) != got {
			t.Errorf("Name(%q) is not deterministic", in)
		}
	}
	if Name(long) == Name(longer) {
		t.Errorf("two long hosts with the same prefix got the same name %q", Name(long))
	}
}

func TestHashedName(t *testing.T) {
	a, b := HashedName("a.b-c"), HashedName("a-b.c")
	if Name("a.b-c") != Name("a-b.c") {
		t.Fatal("test premise: both hosts share a plain name")
	}
	if a == b {
		t.Errorf("hashed names collide: %q", a)
	}
	for _, n := range []string{a, b, HashedName(strings.Repeat("x", 200))} {
		if len(n) > 63 || validation.IsDNS1123Label(n) != nil {
			t.Errorf("HashedName gave %q, not a DNS-1123 label of at most 63 characters", n)
		}
	}
}

func meta() Object { return Object{Namespace: "ns", Name: "n"} }

func TestValidate(t *testing.T) {
	ports := []v1alpha1.Port{{Number: 8000, Name: "http", Protocol: "HTTP", TargetPort: 8080}}
	sel := map[string]string{"app": "x"}
	tests := []struct {
		name string
		obj  Object
		want string // "" = valid
	}{
		{"export service entry", ExportServiceEntry(meta(), "x.ns.svc.p-imports.local", ports, sel), ""},
		{"import service entry", ImportServiceEntry(meta(), "x.ns.svc.p-imports.local", ports, []string{"*"}, []string{"spiffe://td/ns/a/sa/b"}, sel), ""},
		{"workload entry", ImportWorkloadEntry(meta(), "west-network", "r/z"), ""},
		{"east-west gateway", EastWestGateway(meta(), "west-network", 15443), ""},
		{"exposed hosts", ExposedHostsGateway(meta(), "eastwestgateway", 15443, []string{"a.b.svc.cluster.local"}), ""},
		{"remote gateway", RemoteGateway(meta(), "w", []Address{{"IPAddress", "192.0.2.1"}, {"Hostname", "gw.example.com"}}, 15443), ""},
		{"wildcard host", ExportServiceEntry(meta(), "*.ns.svc.cluster.local", ports, sel), "wildcard"},
		{"no ports", ExportServiceEntry(meta(), "x.example", nil, sel), "at least one port"},
		{"no selector", ExportServiceEntry(meta(), "x.example", ports, nil), "selector is required"},
		{"bad SAN", ImportServiceEntry(meta(), "x.example", ports, nil, []string{"td/ns/a/sa/b"}, sel), "spiffe"},
		{"duplicate port", ExportServiceEntry(meta(), "x.example", append(ports, ports[0]), sel), "unique"},
		{"bad protocol", ExportServiceEntry(meta(), "x.example", []v1alpha1.Port{{Number: 1, Name: "p", Protocol: "SMTP"}}, sel), "not an Istio protocol"},
		{"workload entry without network", ImportWorkloadEntry(meta(), "", ""), "address is required"},
		{"untyped gateway address", withUntypedAddress(RemoteGateway(meta(), "w", []Address{{"IPAddress", "192.0.2.1"}}, 15443)), "type: is required"},
		{"IP type with hostname", RemoteGateway(meta(), "w", []Address{{"IPAddress", "gw.example.com"}}, 15443), "not an IP address"},
		{"name too long", ExportServiceEntry(Object{Namespace: "ns", Name: strings.Repeat("a", 64)}, "x.example", ports, sel), "metadata.name"},
		{"empty host list", ExposedHostsGateway(meta(), "g", 15443, nil), "at least one host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(tc.obj.Validate(), "; ")
			switch {
			case tc.want == "" && got != "":
				t.Errorf("valid object rejected: %s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("problems %q, want one containing %q", got, tc.want)
			}
		})
	}
}

// withUntypedAddress drops the address type, which istiod would skip.
func withUntypedAddress(o Object) Object {
	o.Spec.(*gwv1.GatewaySpec).Addresses[0].Type = nil
	return o
}

func TestNodeKeepsDeclaredFieldOrderInBlockStyle(t *testing.T) {
	o := ImportServiceEntry(meta(), "h.example", []v1alpha1.Port{{Number: 80, Name: "http", Protocol: "HTTP"}}, []string{"*"}, []string{"spiffe://td/ns/a/sa/b"}, map[string]string{"k": "v"})
	n, err := o.Node()
	if err != nil {
		t.Fatal(err)
	}
	s, err := yaml.NewRNode(n).String()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && strings.HasSuffix(strings.Fields(line)[0], ":") {
			order = append(order, strings.TrimSuffix(strings.Fields(line)[0], ":"))
		}
	}
	want := "name namespace hosts ports location resolution workloadSelector exportTo subjectAltNames"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("top-level fields in order %q, want %q\n%s", got, want, s)
	}
	if strings.Contains(s, "{") || strings.Contains(s, "\"h.example\"") {
		t.Errorf("expected block style without quoting:\n%s", s)
	}
	if !strings.Contains(s, "- '*'") {
		t.Errorf("a `*` must stay a string:\n%s", s)
	}
}

// TestProtoNodeMatchesProtojson checks the direct rendering of Istio specs
// against the protojson route it replaces, on every builder.
func TestProtoNodeMatchesProtojson(t *testing.T) {
	ports := []v1alpha1.Port{{Number: 8000, Name: "http", Protocol: "HTTP", TargetPort: 8080}, {Number: 9090, Name: "port-9090"}}
	sel := map[string]string{"b": "2", "a": "1"}
	for _, o := range []Object{
		ExportServiceEntry(meta(), "x.ns.svc.p-imports.local", ports, sel),
		ImportServiceEntry(meta(), "x.example", ports, []string{"*", "."}, []string{"spiffe://td/ns/a/sa/b"}, sel),
		ImportWorkloadEntry(meta(), "west-network", "r/z/s"),
		ImportWorkloadEntry(meta(), "west-network", ""),
		ExposedHostsGateway(meta(), "eastwestgateway", 15443, []string{"a.b.svc.cluster.local", "c.d"}),
	} {
		m := o.Spec.(interface{ ProtoReflect() protoreflect.Message })
		direct, ok := protoNode(m.ProtoReflect())
		if !ok {
			t.Fatalf("%s: protoNode declined", o.Kind)
		}
		b, err := specJSON(o.Spec)
		if err != nil {
			t.Fatal(err)
		}
		viaJSON, err := jsonToNode(b)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := yaml.NewRNode(direct).String()
		want, _ := yaml.NewRNode(viaJSON).String()
		if a != want {
			t.Errorf("%s: direct rendering differs from protojson:\n%s\n---\n%s", o.Kind, a, want)
		}
	}
}

// TestRenderedItemMatchesTree: an item's metadata and spec are kept as
// rendered text, and expanding them gives exactly the tree Node builds for
// the object with the extra labels and annotations merged in (the golden
// outputs check the text as the writer puts it in place).
func TestRenderedItemMatchesTree(t *testing.T) {
	ports := []v1alpha1.Port{{Number: 8000, Name: "http", Protocol: "HTTP", TargetPort: 8080}}
	sel := map[string]string{"app": "x", "b": "2"}
	extraLabels := map[string]string{ManagedByLabel: ManagedByValue, "app": "overridden"}
	extraAnnotations := map[string]string{GeneratedByAnnotation: "MeshExport/w", "internal.config.kubernetes.io/index": "7"}
	for _, o := range []Object{
		ExportServiceEntry(Object{Namespace: "ns", Name: "se"}, "x.ns.svc.p-imports.local", ports, sel),
		ImportServiceEntry(Object{Namespace: "ns", Name: "se"}, "x.example", ports, []string{"*", "."}, []string{"spiffe://td/ns/a/sa/b"}, sel),
		ImportWorkloadEntry(Object{Namespace: "istio-system", Name: "w", Labels: sel}, "west-network", "r/z"),
		ExposedHostsGateway(Object{Namespace: "ns", Name: "se"}, "eastwestgateway", 15443, []string{"a.b.svc.cluster.local"}),
	} {
		ko, err := o.KubeObject(extraLabels, extraAnnotations)
		if err != nil {
			t.Fatal(err)
		}
		rn := ko.MoveToResourceNode()
		for _, field := range []string{"metadata", "spec"} {
			if tag := rn.Field(field).Value.YNode().Tag; tag != fn.RenderedTag {
				t.Fatalf("%s: %s not kept as rendered text (tag %q)", o.Kind, field, tag)
			}
		}
		if err := fn.ExpandRendered(rn.YNode()); err != nil {
			t.Fatal(err)
		}
		o.Labels, o.Annotations = merged(o.Labels, extraLabels), merged(o.Annotations, extraAnnotations)
		tree, err := o.Node()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := rn.String()
		want, _ := yaml.NewRNode(tree).String()
		if got != want {
			t.Errorf("%s: expanded rendered item differs from the tree:\n%s\n---\n%s", o.Kind, got, want)
		}
	}
}

// TestRenderedMetadataFallsBackToTree: a value the fast writer is unsure
// how to quote keeps the metadata a tree, with the extras merged in.
func TestRenderedMetadataFallsBackToTree(t *testing.T) {
	o := ImportWorkloadEntry(Object{Namespace: "istio-system", Name: "w", Labels: map[string]string{"a": "x"}}, "n", "")
	ko, err := o.KubeObject(nil, map[string]string{"note": "needs: quoting"})
	if err != nil {
		t.Fatal(err)
	}
	rn := ko.MoveToResourceNode()
	if tag := rn.Field("metadata").Value.YNode().Tag; tag == fn.RenderedTag {
		t.Fatal("metadata rendered as text although a value needs quoting")
	}
	if got := rn.GetAnnotations()["note"]; got != "needs: quoting" {
		t.Errorf("annotation = %q", got)
	}
}
