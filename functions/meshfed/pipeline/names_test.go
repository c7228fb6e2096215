package pipeline

import (
	"testing"

	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/inventory"
)

func TestUniqueNames(t *testing.T) {
	u := uniqueNames{}
	first := u.get("ns", "a.b-c")
	second := u.get("ns", "a-b.c") // same plain name as the first
	other := u.get("other", "a-b.c")
	again := u.get("ns", "a.b-c")
	if first != "a-b-c" || second == first || other != "a-b-c" || again != first {
		t.Errorf("names: %q %q %q %q; want the plain name, a hashed one on collision, the plain one in another namespace, and stability", first, second, other, again)
	}
}

func TestLocalNamespace(t *testing.T) {
	tests := []struct {
		host, domain, ns string
		ok               bool
	}{
		{"httpbin.b.svc.cluster.local", "cluster.local", "b", true},
		{"httpbin.b.svc.corp.internal", "corp.internal", "b", true},
		{"httpbin.b.svc.west-mesh-imports.local", "cluster.local", "", false},
		{"b.svc.cluster.local", "cluster.local", "", false},
	}
	for _, tc := range tests {
		ns, ok := localNamespace(tc.host, tc.domain)
		if ns != tc.ns || ok != tc.ok {
			t.Errorf("localNamespace(%q, %q) = %q, %v; want %q, %v", tc.host, tc.domain, ns, ok, tc.ns, tc.ok)
		}
	}
}

func TestRealServiceOf(t *testing.T) {
	m := newMesh("", 0)
	m.inv.AddService(&inventory.Service{ServiceName: federation.ServiceName{Name: "httpbin", Namespace: "b"}})
	tests := []struct {
		host string
		want federation.ServiceName
		ok   bool
	}{
		{"httpbin.b.svc.cluster.local", federation.ServiceName{Name: "httpbin", Namespace: "b"}, true},
		{"other.b.svc.cluster.local", federation.ServiceName{Name: "other", Namespace: "b"}, false},
		{"httpbin.b.svc.west-mesh-imports.local", federation.ServiceName{}, false},
	}
	for _, tc := range tests {
		got, ok := realServiceOf(m, tc.host)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("realServiceOf(%q) = %v, %v; want %v, %v", tc.host, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCompletePorts(t *testing.T) {
	got := completePorts([]v1alpha1.Port{{Number: 9090, Protocol: "grpc"}, {Number: 80, Name: "web", Protocol: "http"}})
	want := []v1alpha1.Port{{Number: 80, Name: "web", Protocol: "HTTP"}, {Number: 9090, Name: "port-9090", Protocol: "GRPC"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("completePorts = %+v, want %+v (sorted, named, canonical protocols)", got, want)
	}
}

func TestSpiffeID(t *testing.T) {
	id := spiffeID("west.local", "b", "httpbin")
	if id != "spiffe://west.local/ns/b/sa/httpbin" {
		t.Errorf("spiffeID = %q", id)
	}
	if ns, sa, ok := spiffeNamespaceAccount(id); !ok || ns != "b" || sa != "httpbin" {
		t.Errorf("spiffeNamespaceAccount(%q) = %q, %q, %v", id, ns, sa, ok)
	}
}
