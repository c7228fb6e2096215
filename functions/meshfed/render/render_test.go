package render

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
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
		{"export service entry", ExportServiceEntry(meta(), "x.ns.svc.p-imports.local", ports, sel, nil), ""},
		{"import service entry", ImportServiceEntry(meta(), "x.ns.svc.p-imports.local", ports, []string{"*"}, []string{"spiffe://td/ns/a/sa/b"}, sel), ""},
		{"workload entry", ImportWorkloadEntry(meta(), "west-network", "r/z"), ""},
		{"east-west gateway", EastWestGateway(meta(), "west-network", 15443), ""},
		{"exposed hosts", ExposedHostsGateway(meta(), "eastwestgateway", 15443, []string{"a.b.svc.cluster.local"}), ""},
		{"remote gateway", RemoteGateway(meta(), "w", []Address{{"IPAddress", "192.0.2.1"}, {"Hostname", "gw.example.com"}}, 15443), ""},
		{"wildcard host", ExportServiceEntry(meta(), "*.ns.svc.cluster.local", ports, sel, nil), "wildcard"},
		{"no ports", ExportServiceEntry(meta(), "x.example", nil, sel, nil), "at least one port"},
		{"no selector", ExportServiceEntry(meta(), "x.example", ports, nil, nil), "a selector or endpoints are required"},
		{"export endpoints entry", ExportEndpointsEntry(meta(), "x.example", ports, networking.ServiceEntry_STATIC, []*networking.WorkloadEntry{{Address: "10.0.0.1", ServiceAccount: "db"}}, []string{"."}), ""},
		{"endpoint without address", ExportEndpointsEntry(meta(), "x.example", ports, networking.ServiceEntry_STATIC, []*networking.WorkloadEntry{{Network: "n"}}, nil), "spec.endpoints[0].address: an address is required"},
		{"bad SAN", ImportServiceEntry(meta(), "x.example", ports, nil, []string{"td/ns/a/sa/b"}, sel), "spiffe"},
		{"duplicate port", ExportServiceEntry(meta(), "x.example", append(ports, ports[0]), sel, nil), "unique"},
		{"bad protocol", ExportServiceEntry(meta(), "x.example", []v1alpha1.Port{{Number: 1, Name: "p", Protocol: "SMTP"}}, sel, nil), "not an Istio protocol"},
		{"workload entry without network", ImportWorkloadEntry(meta(), "", ""), "address is required"},
		{"untyped gateway address", withUntypedAddress(RemoteGateway(meta(), "w", []Address{{"IPAddress", "192.0.2.1"}}, 15443)), "type: is required"},
		{"IP type with hostname", RemoteGateway(meta(), "w", []Address{{"IPAddress", "gw.example.com"}}, 15443), "not an IP address"},
		{"name too long", ExportServiceEntry(Object{Namespace: "ns", Name: strings.Repeat("a", 64)}, "x.example", ports, sel, nil), "metadata.name"},
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

// TestJSONKeepsDeclaredFieldOrder: an object renders with apiVersion,
// kind, metadata and spec in that order, and the spec's fields in the
// order istio.io/api declares them (protojson's order), which is the order
// the YAML items show.
func TestJSONKeepsDeclaredFieldOrder(t *testing.T) {
	o := ImportServiceEntry(meta(), "h.example", []v1alpha1.Port{{Number: 80, Name: "http", Protocol: "HTTP"}}, []string{"*"}, []string{"spiffe://td/ns/a/sa/b"}, map[string]string{"k": "v"})
	o.Labels = map[string]string{"b": "2", "a": "1"}
	b, err := o.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Metadata json.RawMessage
		Spec     json.RawMessage
	}
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	for what, tc := range map[string]struct {
		doc  []byte
		keys []string
	}{
		"object":   {b, []string{`"apiVersion"`, `"kind"`, `"metadata"`, `"spec"`}},
		"metadata": {top.Metadata, []string{`"name"`, `"namespace"`, `"labels"`, `"a"`, `"b"`}},
		"spec":     {top.Spec, []string{`"hosts"`, `"ports"`, `"location"`, `"resolution"`, `"workloadSelector"`, `"exportTo"`, `"subjectAltNames"`}},
	} {
		at := -1
		for _, k := range tc.keys {
			i := bytes.Index(tc.doc, []byte(k))
			if i <= at {
				t.Errorf("%s: %s out of order in %s", what, k, tc.doc)
			}
			at = i
		}
	}
	// protojson's own rendering, field for field.
	want, err := protojson.Marshal(o.Spec.(proto.Message))
	if err != nil {
		t.Fatal(err)
	}
	var a, g any
	if json.Unmarshal(want, &a) != nil || json.Unmarshal(top.Spec, &g) != nil || !reflect.DeepEqual(a, g) {
		t.Errorf("spec %s, protojson writes %s", top.Spec, want)
	}
}
