package pipeline

import (
	"strings"
	"testing"

	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/inventory"
	networking "istio.io/api/networking/v1alpha3"
)

// serviceEntryYAML is a ServiceEntry for host <name>.example.com in ns with
// port 5432 (target 15432); location, labels and backend are spec lines.
func serviceEntryYAML(name, ns, location, labels, backend string) string {
	return "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: " + name + ", namespace: " + ns + ", labels: {" + labels + "}}\nspec:\n  hosts: [" + name + ".example.com]\n" + location +
		"  ports: [{number: 5432, name: tcp-postgres, protocol: TCP, targetPort: 15432}]\n  resolution: STATIC\n" + backend
}

// seExport is the MeshExport the ServiceEntry tests run, with the peer's
// ImportedServiceSet importing everything under <name>-imports.local.
const seExport = `
apiVersion: meshfed.dev/v1alpha1
kind: MeshExport
metadata: {name: west}
spec:
  network: network-west-mesh
  peers: [{name: east-mesh, remoteName: west-mesh}]
`

const sePeerISS = `
apiVersion: federation.maistra.io/v1
kind: ImportedServiceSet
metadata:
  name: west-mesh
  namespace: istio-system
  annotations: {meshfed.dev/peer: east-mesh, config.kubernetes.io/local-config: "true"}
spec:
  importRules: [{type: NameSelector, nameSelector: {}}]
`

// MESH_INTERNAL ServiceEntries are export candidates as OSSM 2's export
// server offered them (maistra/istio maistra-2.5
// pkg/servicemesh/federation/server/server.go:404-416 resync over every
// registry's services, skipping external ones; common/exports.go:84): one
// service per host, named after the host, in the ServiceEntry's namespace,
// with its labels (for LabelSelector rules) and its exportTo
// (pilot/pkg/serviceregistry/serviceentry/conversion.go:209-235). A
// MESH_EXTERNAL one, or one without location (MESH_EXTERNAL is the enum's
// zero), never is. One with a workloadSelector is exported like a Service;
// one with endpoints gets an exporter entry with those endpoints.
func TestMeshInternalServiceEntriesAreExportCandidates(t *testing.T) {
	items := []string{
		sePeerISS,
		serviceEntryYAML("db", "data", "  location: MESH_INTERNAL\n", "tier: backend", "  workloadSelector: {labels: {app: db}}\n"),
		serviceEntryYAML("cache", "data", "  location: MESH_INTERNAL\n", "tier: cache", "  workloadSelector: {labels: {app: cache}}\n"),
		serviceEntryYAML("ext", "data", "  location: MESH_EXTERNAL\n", "tier: backend", "  workloadSelector: {labels: {app: ext}}\n"),
		serviceEntryYAML("nolocation", "data", "", "tier: backend", "  workloadSelector: {labels: {app: x}}\n"),
		serviceEntryYAML("empty", "data", "  location: MESH_INTERNAL\n", "tier: backend", ""),
		serviceEntryYAML("vm", "data", "  location: MESH_INTERNAL\n", "tier: backend",
			"  endpoints:\n  - {address: 10.20.0.1, serviceAccount: vm-db, ports: {tcp-postgres: 25432}, labels: {app: vm-db}}\n  - {address: 10.20.0.2, serviceAccount: vm-db}\n"),
	}
	run := func(t *testing.T, ess string) (hosts string, entries map[string]map[string]any, rl []string) {
		t.Helper()
		list := processYAML(t, seExport, append(items, ess)...)
		if errs := results(list, "error"); len(errs) > 0 {
			t.Fatalf("errors: %q", errs)
		}
		gw := itemNamed(t, list, "Gateway", "eastwestgateway-exposed-hosts")
		var out []string
		for _, h := range at(gw, "spec", "servers").([]any)[0].(map[string]any)["hosts"].([]any) {
			out = append(out, h.(string))
		}
		entries = map[string]map[string]any{}
		for _, o := range list.Items {
			if o.GetKind() == "ServiceEntry" && o.GetLabel("app.kubernetes.io/managed-by") == "meshfed" {
				m := itemNamed(t, list, "ServiceEntry", o.GetName())
				entries[at(m, "spec", "hosts").([]any)[0].(string)] = m
			}
		}
		return strings.Join(out, ","), entries, results(list, "warning")
	}
	t.Run("NameSelector", func(t *testing.T) {
		ess := "apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata: {name: east-mesh, namespace: istio-system}\nspec:\n  exportRules: [{type: NameSelector, nameSelector: {namespace: data, name: db.example.com}}]\n"
		hosts, entries, _ := run(t, ess)
		if hosts != "db.example.com.data.svc.west-mesh-imports.local" {
			t.Errorf("exposed hosts %q", hosts)
		}
		// The exporter entry routes the importer's name to the
		// ServiceEntry's own workloads and target port.
		se := entries["db.example.com.data.svc.west-mesh-imports.local"]
		if got := at(se, "spec", "workloadSelector", "labels", "app"); got != "db" {
			t.Errorf("exporter entry selects %v, want app: db", got)
		}
		if got := at(se, "spec", "ports").([]any)[0].(map[string]any)["targetPort"]; got != float64(15432) {
			t.Errorf("targetPort %v, want 15432", got)
		}
	})
	t.Run("LabelSelector", func(t *testing.T) {
		ess := "apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata: {name: east-mesh, namespace: istio-system}\nspec:\n  exportRules: [{type: LabelSelector, labelSelector: {namespace: data, selector: {matchLabels: {tier: backend}}}}]\n"
		// cache has another tier; ext and nolocation are mesh-external;
		// empty has neither a workloadSelector nor endpoints (a warning).
		hosts, entries, warnings := run(t, ess)
		if hosts != "db.example.com.data.svc.west-mesh-imports.local,vm.example.com.data.svc.west-mesh-imports.local" {
			t.Errorf("exposed hosts %q", hosts)
		}
		if !strings.Contains(strings.Join(warnings, "\n"), "spec.endpoints: ServiceEntry host data/empty.example.com matches rule 0 of ExportedServiceSet east-mesh, and OSSM 2 exported it (its federation gateway relayed to it), but it has neither a workloadSelector nor endpoints, so nothing is behind it: the east-west gateway only passes") {
			t.Errorf("no warning for empty.example.com: %q", warnings)
		}
		// The exporter entry for an entry with endpoints carries them,
		// unchanged, and its resolution; no workloadSelector.
		vm := entries["vm.example.com.data.svc.west-mesh-imports.local"]
		if vm == nil {
			t.Fatalf("no exporter entry for vm.example.com; entries %v", entries)
		}
		spec := vm["spec"].(map[string]any)
		if spec["workloadSelector"] != nil || spec["resolution"] != "STATIC" || spec["location"] != "MESH_INTERNAL" {
			t.Errorf("exporter entry spec %v", spec)
		}
		eps := spec["endpoints"].([]any)
		if len(eps) != 2 || at(eps[0].(map[string]any), "ports", "tcp-postgres") != float64(25432) || eps[1].(map[string]any)["address"] != "10.20.0.2" || eps[0].(map[string]any)["serviceAccount"] != "vm-db" {
			t.Errorf("exporter entry endpoints %v", eps)
		}
	})
}

// A ServiceEntry's workloadSelector keeps an unquoted date as the text
// the cluster reads (kubectl's sigs.k8s.io/yaml keeps it a string; decoding
// through go-yaml v3 into an any made it "2024-05-01T00:00:00Z", so the
// exporter entry would have selected no pods).
func TestServiceEntrySelectorKeepsDates(t *testing.T) {
	ess := "apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata: {name: east-mesh, namespace: istio-system}\nspec:\n  exportRules: [{type: NameSelector, nameSelector: {namespace: data, name: db.example.com}}]\n"
	list := processYAML(t, seExport, sePeerISS, ess,
		serviceEntryYAML("db", "data", "  location: MESH_INTERNAL\n", "tier: backend", "  workloadSelector: {labels: {release: 2024-05-01}}\n"))
	if errs := results(list, "error"); len(errs) > 0 {
		t.Fatalf("errors: %q", errs)
	}
	se := itemNamed(t, list, "ServiceEntry", "db-example-com-data-svc-west-mesh-imports-local")
	if got := at(se, "spec", "workloadSelector", "labels", "release"); got != "2024-05-01" {
		t.Errorf("exporter entry selects release: %v, want 2024-05-01", got)
	}
}

// Without a workloadSelector, the east-west gateway can only pass a peer's
// mTLS through to endpoints that are sidecars: unreachableEntry, with the
// Istio rules it cites, decides; with a selector, nothing is checked here.
func TestUnreachableEntry(t *testing.T) {
	ep := func(addr, sa string, lbls map[string]string) *networking.WorkloadEntry {
		return &networking.WorkloadEntry{Address: addr, ServiceAccount: sa, Labels: lbls}
	}
	svc := func(res networking.ServiceEntry_Resolution, sel map[string]string, eps ...*networking.WorkloadEntry) *inventory.Service {
		return &inventory.Service{ServiceName: federation.ServiceName{Name: "db.example.com", Namespace: "data"}, Selector: sel,
			Entry: &inventory.ServiceEntryRoute{Resolution: res, Endpoints: eps}}
	}
	istio := map[string]string{"security.istio.io/tlsMode": "istio"}
	cases := []struct {
		name       string
		svc        *inventory.Service
		why, field string // why: a substring, "" when reachable
	}{
		{"a Kubernetes Service", &inventory.Service{}, "", ""},
		{"workloadSelector", svc(networking.ServiceEntry_STATIC, map[string]string{"app": "db"}), "", ""},
		{"endpoints with service accounts", svc(networking.ServiceEntry_STATIC, nil, ep("10.0.0.1", "db", nil), ep("10.0.0.2", "db", istio)), "", ""},
		{"DNS endpoints with a service account", svc(networking.ServiceEntry_DNS, nil, ep("db-0.vms.example.com", "db", nil)), "", ""},
		{"resolution NONE with endpoints (EDS at a gateway)", svc(networking.ServiceEntry_NONE, nil, ep("10.0.0.1", "db", nil)), "", ""},
		{"DNS without endpoints", svc(networking.ServiceEntry_DNS, nil), "the host itself, with TLS disabled", "spec.endpoints"},
		{"DNS_ROUND_ROBIN without endpoints", svc(networking.ServiceEntry_DNS_ROUND_ROBIN, nil), "resolution DNS_ROUND_ROBIN", "spec.endpoints"},
		{"STATIC without endpoints", svc(networking.ServiceEntry_STATIC, nil), "nothing is behind it", "spec.endpoints"},
		{"endpoint without service account", svc(networking.ServiceEntry_STATIC, nil, ep("10.0.0.1", "db", nil), ep("10.0.0.2", "", istio)), "endpoint 1 (10.0.0.2) has no serviceAccount", "spec.endpoints[1].serviceAccount"},
		{"endpoint with TLS disabled", svc(networking.ServiceEntry_STATIC, nil, ep("10.0.0.1", "db", map[string]string{"security.istio.io/tlsMode": "disabled"})), `tlsMode "disabled"`, "spec.endpoints[0].labels"},
		{"unix socket", svc(networking.ServiceEntry_STATIC, nil, ep("unix:///var/run/db.sock", "db", nil)), "Unix domain socket", "spec.endpoints[0].address"},
		{"endpoint behind another network's gateway", svc(networking.ServiceEntry_STATIC, nil, &networking.WorkloadEntry{Network: "far", ServiceAccount: "db"}), `network "far"`, "spec.endpoints[0].address"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			why, field := unreachableEntry(c.svc)
			if (c.why == "") != (why == "") || !strings.Contains(why, c.why) || field != c.field {
				t.Errorf("got %q at %q, want %q at %q", why, field, c.why, c.field)
			}
		})
	}
}

// On the importing cluster, a peer ServiceEntry host with endpoints is
// imported pinned to its endpoints' identities (their serviceAccount in the
// ServiceEntry's namespace: convertWorkloadEntryToWorkloadInstance), and
// one the east-west gateway cannot reach is not imported, with a warning.
func TestImportPeerServiceEntry(t *testing.T) {
	imp := `
apiVersion: meshfed.dev/v1alpha1
kind: MeshImport
metadata: {name: east}
spec:
  network: network-east-mesh
  peers:
  - name: west-mesh
    trustDomain: west.local
    network: west-network
    gateway: {address: 192.0.2.10}
`
	iss := "apiVersion: federation.maistra.io/v1\nkind: ImportedServiceSet\nmetadata: {name: west-mesh, namespace: istio-system}\nspec:\n  importRules: [{type: NameSelector, nameSelector: {namespace: data}}]\n"
	peer := func(s string) string {
		return strings.Replace(s, "metadata: {", "metadata: {annotations: {meshfed.dev/peer: west-mesh, config.kubernetes.io/local-config: \"true\"}, ", 1)
	}
	ess := peer("apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata: {name: east-mesh, namespace: istio-system}\nspec:\n  exportRules: [{type: NameSelector, nameSelector: {namespace: data}}]\n")
	vm := peer(serviceEntryYAML("vm", "data", "  location: MESH_INTERNAL\n", "tier: backend",
		"  endpoints:\n  - {address: 10.20.0.1, serviceAccount: vm-db}\n  - {address: 10.20.0.2, serviceAccount: vm-replica}\n"))
	dns := peer(strings.Replace(serviceEntryYAML("dns", "data", "  location: MESH_INTERNAL\n", "tier: backend", ""), "STATIC", "DNS", 1))
	rl := processYAML(t, imp, iss, ess, vm, dns)
	if errs := results(rl, "error"); len(errs) > 0 {
		t.Fatalf("errors: %q", errs)
	}
	var entries []map[string]any
	for _, o := range rl.Items {
		if o.GetKind() == "ServiceEntry" && o.GetLabel("app.kubernetes.io/managed-by") == "meshfed" {
			entries = append(entries, itemNamed(t, rl, "ServiceEntry", o.GetName()))
		}
	}
	if len(entries) != 1 {
		t.Fatalf("want 1 imported ServiceEntry (vm), got %d", len(entries))
	}
	if h := at(entries[0], "spec", "hosts").([]any)[0]; h != "vm.example.com.data.svc.west-mesh-imports.local" {
		t.Errorf("imported host %v", h)
	}
	sans := at(entries[0], "spec", "subjectAltNames").([]any)
	if len(sans) != 2 || sans[0] != "spiffe://west.local/ns/data/sa/vm-db" || sans[1] != "spiffe://west.local/ns/data/sa/vm-replica" {
		t.Errorf("subjectAltNames %v", sans)
	}
	findResult(t, rl, "warning", "ServiceEntry host data/dns.example.com matches rule 0 of ExportedServiceSet east-mesh, and OSSM 2 exported it (its federation gateway relayed to it), but it has neither a workloadSelector nor endpoints, so its one endpoint is the host itself, with TLS disabled (resolution DNS)")
}

// A live ExportedServiceSet's status names a ServiceEntry host as OSSM 2
// resolved it: localService.name and hostname are the host itself
// (maistra/istio maistra-2.5 pkg/servicemesh/federation/common/exports.go,
// the service's Attributes.Name and Hostname). Such a status agrees with
// meshfed's resolution, also for a host meshfed withholds (OSSM 2 did
// export it); a Service's cluster-domain hostname for it does not.
func TestExportStatusOfServiceEntryHosts(t *testing.T) {
	ess := func(hostname string) string {
		return `apiVersion: federation.maistra.io/v1
kind: ExportedServiceSet
metadata: {name: east-mesh, namespace: istio-system}
spec:
  exportRules: [{type: NameSelector, nameSelector: {namespace: data}}]
status:
  exportedServices:
  - exportedName: db.example.com.data.svc.east-mesh-exports.local
    localService: {hostname: ` + hostname + `, name: db.example.com, namespace: data}
  - exportedName: empty.example.com.data.svc.east-mesh-exports.local
    localService: {hostname: empty.example.com, name: empty.example.com, namespace: data}
`
	}
	db := serviceEntryYAML("db", "data", "  location: MESH_INTERNAL\n", "", "  workloadSelector: {labels: {app: db}}\n")
	empty := serviceEntryYAML("empty", "data", "  location: MESH_INTERNAL\n", "", "")
	rl := processYAML(t, seExport, sePeerISS, db, empty, ess("db.example.com"))
	if errs := results(rl, "error"); len(errs) > 0 {
		t.Fatalf("errors: %q", errs)
	}
	rl = processYAML(t, seExport, sePeerISS, db, empty, ess("db.example.com.data.svc.cluster.local"))
	findResult(t, rl, "error", "status.exportedServices[0]: OSSM 2 exports db.example.com.data.svc.east-mesh-exports.local from local service data/db.example.com (db.example.com.data.svc.cluster.local), but meshfed's resolution exports it from data/db.example.com")
}

// A wildcard ServiceEntry host names no single service: an export rule that
// matches it gets a warning, and neither side makes anything of it (before,
// it was skipped without a word; its imported name is no hostname, which
// must not turn into an error about the import rule).
func TestWildcardServiceEntryHost(t *testing.T) {
	ess := "apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata: {name: east-mesh, namespace: istio-system}\nspec:\n  exportRules: [{type: NameSelector, nameSelector: {namespace: data}}]\n"
	wild := strings.Replace(serviceEntryYAML("w", "data", "  location: MESH_INTERNAL\n", "", "  workloadSelector: {labels: {app: w}}\n"), "[w.example.com]", "['*.example.com']", 1)
	db := serviceEntryYAML("db", "data", "  location: MESH_INTERNAL\n", "", "  workloadSelector: {labels: {app: db}}\n")
	rl := processYAML(t, seExport, sePeerISS, ess, wild, db)
	if errs := results(rl, "error"); len(errs) > 0 {
		t.Fatalf("errors: %q", errs)
	}
	findResult(t, rl, "warning", "spec.hosts: ServiceEntry host data/*.example.com matches rule 0 of ExportedServiceSet east-mesh, and OSSM 2 exported it (its federation gateway relayed to it), but a wildcard host names no single service")
	gw := itemNamed(t, rl, "Gateway", "eastwestgateway-exposed-hosts")
	if hosts := at(gw, "spec", "servers").([]any)[0].(map[string]any)["hosts"].([]any); len(hosts) != 1 || hosts[0] != "db.example.com.data.svc.west-mesh-imports.local" {
		t.Errorf("exposed hosts %v", hosts)
	}
}
