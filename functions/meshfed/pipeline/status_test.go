package pipeline

import (
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
)

// The peer's name for this mesh (P_E) is the suffix of the exported names
// in a live ImportedServiceSet's status,
// <name>.<namespace>.svc.<P_E>-exports.local (maistra/istio maistra-2.5
// pkg/servicemesh/federation/server/server.go:116-118, exportDomainSuffix).
func TestRemoteFromStatus(t *testing.T) {
	mapping := func(names ...string) []federation.PeerServiceMapping {
		out := []federation.PeerServiceMapping{}
		for _, n := range names {
			out = append(out, federation.PeerServiceMapping{ExportedName: n})
		}
		return out
	}
	cases := []struct {
		status  []federation.PeerServiceMapping
		want    string
		ok, err bool
	}{
		{mapping("httpbin.a.svc.east-mesh-exports.local", "httpbin.b.svc.east-mesh-exports.local"), "east-mesh", true, false},
		// A ServiceEntry host exported as its name keeps its dots.
		{mapping("db.example.com.data.svc.east-mesh-exports.local"), "east-mesh", true, false},
		{mapping(), "", false, false},
		{nil, "", false, false},
		{mapping("httpbin.a.svc.east-mesh-exports.local", "httpbin.a.svc.other-exports.local"), "", false, true},
	}
	for _, c := range cases {
		var f diag.Findings
		got, ok := remoteFromStatus(item[federation.ImportedServiceSet]{val: federation.ImportedServiceSet{Name: "west-mesh", Status: c.status}}, &f)
		if got != c.want || ok != c.ok || f.HasErrors() != c.err {
			t.Errorf("%v: got %q %v (errors %v), want %q %v (errors %v)", c.status, got, ok, f.HasErrors(), c.want, c.ok, c.err)
		}
	}
}

// On the exporting cluster, a live ExportedServiceSet's
// status.exportedServices is compared with what the rules export over this
// mesh's Services; an entry OSSM 2 has and meshfed not, and one meshfed has
// and OSSM 2 not, are errors naming both sides; a v1 List's items are read,
// and the List comes out unchanged.
func TestExportStatusFromALiveList(t *testing.T) {
	export := `
apiVersion: meshfed.dev/v1alpha1
kind: MeshExport
metadata: {name: west}
spec:
  network: network-west-mesh
  peers: [{name: east-mesh, remoteName: west-mesh}]
`
	peerISS := `
apiVersion: federation.maistra.io/v1
kind: ImportedServiceSet
metadata:
  name: west-mesh
  namespace: istio-system
  annotations: {meshfed.dev/peer: east-mesh, config.kubernetes.io/local-config: "true"}
spec:
  importRules: [{type: NameSelector, nameSelector: {namespace: a}}]
`
	service := func(ns string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: httpbin, namespace: " + ns + "}\nspec:\n  selector: {app: httpbin}\n  ports: [{name: http, port: 8000, targetPort: 8080}]\n"
	}
	live := func(status string) string {
		return `
apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- apiVersion: federation.maistra.io/v1
  kind: ExportedServiceSet
  metadata:
    name: east-mesh
    namespace: istio-system
    resourceVersion: "81234"
    managedFields: [{manager: kubectl, operation: Update}]
  spec:
    exportRules: [{type: NameSelector, nameSelector: {name: httpbin}}]
  status:
    exportedServices:
` + status
	}
	entry := func(ns string) string {
		return "    - exportedName: httpbin." + ns + ".svc.east-mesh-exports.local\n      localService: {hostname: httpbin." + ns + ".svc.cluster.local, name: httpbin, namespace: " + ns + "}\n"
	}
	t.Run("agrees", func(t *testing.T) {
		list := live(entry("a"))
		rl := processYAML(t, export, peerISS, service("a"), list)
		if errs := results(rl, "error"); len(errs) > 0 {
			t.Fatalf("errors: %q", errs)
		}
		for _, o := range rl.Items {
			if o.GetKind() == "List" && strings.Contains(o.String(), "meshfed") {
				t.Errorf("the List was changed:\n%s", o.String())
			}
		}
	})
	t.Run("differs", func(t *testing.T) {
		rl := processYAML(t, export, peerISS, service("a"), service("b"), live(entry("a")+entry("c")))
		findResult(t, rl, "error", "status.exportedServices[1]: OSSM 2 exports httpbin.c.svc.east-mesh-exports.local (local service c/httpbin), but meshfed's resolution of these rules over this mesh's items does not export it")
		findResult(t, rl, "error", "status.exportedServices: meshfed's resolution of these rules over this mesh's items exports httpbin.b.svc.east-mesh-exports.local (local service b/httpbin), but OSSM 2 does not")
	})
}

// OSSM 2 watched federation CRs only in its control-plane namespace
// (maistra/istio maistra-2.5 pkg/servicemesh/federation/common/resources.go:56-57):
// one elsewhere is ignored with a warning and never exported through, even
// when it bears the name of a peer; the control-plane namespace is the
// ServiceMeshControlPlane's, else the one the CRs share, and several
// without a ServiceMeshControlPlane are an error.
func TestFederationCRsOutsideTheControlPlaneNamespace(t *testing.T) {
	export := `
apiVersion: meshfed.dev/v1alpha1
kind: MeshExport
metadata: {name: west}
spec:
  network: network-west-mesh
  peers: [{name: east-mesh, remoteName: west-mesh}]
`
	peerISS := `
apiVersion: federation.maistra.io/v1
kind: ImportedServiceSet
metadata:
  name: west-mesh
  namespace: istio-system
  annotations: {meshfed.dev/peer: east-mesh, config.kubernetes.io/local-config: "true"}
spec:
  importRules: [{type: NameSelector, nameSelector: {namespace: a}}]
`
	service := "apiVersion: v1\nkind: Service\nmetadata: {name: httpbin, namespace: a}\nspec:\n  selector: {app: httpbin}\n  ports: [{name: http, port: 8000, targetPort: 8080}]\n"
	ess := func(ns string) string {
		return "apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata: {name: east-mesh, namespace: " + ns + "}\nspec:\n  exportRules: [{type: NameSelector, nameSelector: {namespace: a}}]\n"
	}
	smcp := "apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\nmetadata: {name: basic, namespace: istio-system}\nspec: {}\n"
	exposed := func(rl *kfn.ResourceList) bool {
		for _, o := range rl.Items {
			if o.GetKind() == "ServiceEntry" && strings.Contains(o.String(), "httpbin.a.svc.west-mesh-imports.local") {
				return true
			}
		}
		return false
	}
	t.Run("outside the SMCP's namespace", func(t *testing.T) {
		rl := processYAML(t, export, peerISS, service, smcp, ess("tenant-a"))
		findResult(t, rl, "warning", `metadata.namespace: ExportedServiceSet east-mesh is in namespace "tenant-a", outside the control-plane namespace istio-system`)
		if exposed(rl) {
			t.Error("a Service was exported through an ExportedServiceSet OSSM 2 never read")
		}
	})
	t.Run("in the SMCP's namespace, beside one outside", func(t *testing.T) {
		rl := processYAML(t, export, peerISS, service, smcp, ess("tenant-a"), ess("istio-system"))
		if errs := results(rl, "error"); len(errs) > 0 {
			t.Fatalf("errors: %q", errs)
		}
		if !exposed(rl) {
			t.Error("the ExportedServiceSet in the control-plane namespace exported nothing")
		}
	})
	t.Run("no SMCP: the shared namespace", func(t *testing.T) {
		rl := processYAML(t, export, peerISS, service, ess("mesh-system"))
		if errs := results(rl, "error"); len(errs) > 0 || !exposed(rl) {
			t.Fatalf("errors %q, exported %v", errs, exposed(rl))
		}
	})
	t.Run("no SMCP, several namespaces", func(t *testing.T) {
		smp := "apiVersion: federation.maistra.io/v1\nkind: ServiceMeshPeer\nmetadata: {name: east-mesh, namespace: istio-system}\nspec: {}\n"
		rl := processYAML(t, export, peerISS, service, smp, ess("tenant-a"))
		findResult(t, rl, "error", "are in several namespaces (istio-system, tenant-a), but OSSM 2 read them only in its control-plane namespace")
	})
}
