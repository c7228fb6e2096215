package pipeline

import (
	"strings"
	"testing"
)

// MESH_INTERNAL ServiceEntries are export candidates as OSSM 2's export
// server offered them (maistra/istio maistra-2.5
// pkg/servicemesh/federation/server/server.go:404-416 resync over every
// registry's services, skipping external ones; common/exports.go:84): one
// service per host, named after the host, in the ServiceEntry's namespace,
// with its labels (for LabelSelector rules) and its exportTo
// (pilot/pkg/serviceregistry/serviceentry/conversion.go:209-235). A
// MESH_EXTERNAL one, or one without location (MESH_EXTERNAL is the enum's
// zero), never is.
func TestMeshInternalServiceEntriesAreExportCandidates(t *testing.T) {
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
  importRules: [{type: NameSelector, nameSelector: {}}]
`
	se := func(name, ns, location, labels, selector string) string {
		return "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: " + name + ", namespace: " + ns + ", labels: {" + labels + "}}\nspec:\n  hosts: [" + name + ".example.com]\n" + location +
			"  ports: [{number: 5432, name: tcp-postgres, protocol: TCP, targetPort: 15432}]\n  resolution: STATIC\n" + selector
	}
	items := []string{
		peerISS,
		se("db", "data", "  location: MESH_INTERNAL\n", "tier: backend", "  workloadSelector: {labels: {app: db}}\n"),
		se("cache", "data", "  location: MESH_INTERNAL\n", "tier: cache", "  workloadSelector: {labels: {app: cache}}\n"),
		se("ext", "data", "  location: MESH_EXTERNAL\n", "tier: backend", "  workloadSelector: {labels: {app: ext}}\n"),
		se("nolocation", "data", "", "tier: backend", "  workloadSelector: {labels: {app: x}}\n"),
		se("endpoints", "data", "  location: MESH_INTERNAL\n", "tier: backend", ""),
	}
	hostsOf := func(t *testing.T, ess string) string {
		rl := processYAML(t, export, append(items, ess)...)
		if errs := results(rl, "error"); len(errs) > 0 {
			t.Fatalf("errors: %q", errs)
		}
		gw := itemNamed(t, rl, "Gateway", "eastwestgateway-exposed-hosts")
		hosts := at(gw, "spec", "servers").([]any)[0].(map[string]any)["hosts"]
		var out []string
		for _, h := range hosts.([]any) {
			out = append(out, h.(string))
		}
		// The exporter-side ServiceEntry routes the importer's name to the
		// ServiceEntry's own workloads and target port.
		if strings.Contains(strings.Join(out, ","), "db.example.com") {
			for _, o := range rl.Items {
				if o.GetKind() == "ServiceEntry" && o.GetNamespace() == "data" && strings.Contains(o.String(), "db.example.com.data.svc.west-mesh-imports.local") {
					if s := o.String(); !strings.Contains(s, "app: db") || !strings.Contains(s, "targetPort: 15432") {
						t.Errorf("exporter ServiceEntry does not select the db workloads on 15432:\n%s", s)
					}
				}
			}
		}
		return strings.Join(out, ",")
	}
	t.Run("NameSelector", func(t *testing.T) {
		ess := "apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata: {name: east-mesh, namespace: istio-system}\nspec:\n  exportRules: [{type: NameSelector, nameSelector: {namespace: data, name: db.example.com}}]\n"
		if got := hostsOf(t, ess); got != "db.example.com.data.svc.west-mesh-imports.local" {
			t.Errorf("exposed hosts %q", got)
		}
	})
	t.Run("LabelSelector", func(t *testing.T) {
		ess := "apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata: {name: east-mesh, namespace: istio-system}\nspec:\n  exportRules: [{type: LabelSelector, labelSelector: {namespace: data, selector: {matchLabels: {tier: backend}}}}]\n"
		// cache has another tier; ext and nolocation are mesh-external;
		// endpoints has no workloadSelector (a warning, below).
		if got := hostsOf(t, ess); got != "db.example.com.data.svc.west-mesh-imports.local" {
			t.Errorf("exposed hosts %q", got)
		}
		rl := processYAML(t, export, append(items, ess)...)
		findResult(t, rl, "warning", "ServiceEntry host data/endpoints.example.com matches rule 0 of ExportedServiceSet east-mesh, and OSSM 2 exported it, but it has no workloadSelector")
	})
}
