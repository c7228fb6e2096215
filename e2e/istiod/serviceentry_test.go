package istiod

import (
	"fmt"
	"slices"
	"testing"
)

// TestExportedServiceEntryEndpoints: a MESH_INTERNAL ServiceEntry without workloadSelector, whose
// endpoints are sidecar VMs, is exported through an exporter ServiceEntry carrying the same
// endpoints (functions/meshfed/testdata/scenario-export-serviceentry-endpoints; OSSM 2 exported
// such hosts: maistra/istio maistra-2.5 pkg/servicemesh/federation/server/server.go offered every
// mesh-internal service). On the exporting cluster, the east-west gateway must accept the SNI of
// the importer's name and forward it to those endpoints, on each endpoint's own port (the
// endpoint's ports map wins over the port number: Istio's serviceentry conversion), beside a
// Kubernetes Service exported through its selector. Negative controls: the ServiceEntry's own
// host, and a DNS entry meshfed withholds, have no chain; without the generated entry the
// importer's SNI has no route either, so the check can fail.
func TestExportedServiceEntryEndpoints(t *testing.T) {
	sc := loadScenario(t, "scenario-export-serviceentry-endpoints")
	e := readExportSide(t, sc)
	const (
		dbHost = "db.vms.internal.data.svc.west-mesh-imports.local"
		dbPort = 5432
		apiHst = "api.data.svc.west-mesh-imports.local"
		apiPrt = 8000
	)
	sniAt := func(port int, host string) string { return fmt.Sprintf("outbound_.%d_._.%s", port, host) }
	for _, h := range []string{dbHost, apiHst} {
		if !slices.Contains(e.hosts, h) {
			t.Fatalf("Istio Gateway hosts %v lack %s", e.hosts, h)
		}
	}
	podLabels := map[string]string{"istio.io/gateway-name": e.gwName, "gateway.networking.k8s.io/gateway-name": e.gwName, labelNetwork: e.network}
	routes := func(t *testing.T, config []obj) (map[string]string, map[string][]string, []workload) {
		kube, wls := withWorkloads(t, sc.kube, e.network, westIPs)
		f := newFake(t, kube, config)
		gw := gatewayProxy(f, e, podLabels)
		chains := sniChains(t, f.Listeners(gw), e.port)
		if chains == nil {
			t.Fatalf("the gateway proxy has no listener on port %d", e.port)
		}
		return chains, endpointsByCluster(f, gw), wls
	}

	chains, eds, wls := routes(t, sc.config)
	t.Logf("SNI names on port %d: %v", e.port, keys(chains))
	want := map[string][]string{
		sniAt(dbPort, dbHost): {"10.20.0.11:5432", "10.20.0.12:15432"},
		sniAt(apiPrt, apiHst): {workloadIn(t, wls, "Deployment data/api").ip + ":8080"},
	}
	for name, endpoints := range want {
		c := chains[name]
		if c == "" {
			t.Errorf("no tcp_proxy chain for SNI %s", name)
			continue
		}
		if got := eds[c]; !equalStrings(got, endpoints) {
			t.Errorf("SNI %s -> cluster %s: endpoints %v, want %v", name, c, got, endpoints)
			continue
		}
		t.Logf("SNI %s -> cluster %s -> %v", name, c, eds[c])
	}
	for _, name := range []string{sniAt(dbPort, "db.vms.internal"), sniAt(443, "legacy.example.com"), sniAt(443, "legacy.example.com.data.svc.west-mesh-imports.local")} {
		if _, ok := chains[name]; ok {
			t.Errorf("negative control: a chain for SNI %s exists, although meshfed does not expose that host", name)
		}
	}

	t.Run("negative control: without the generated entry", func(t *testing.T) {
		var config []obj
		for _, o := range sc.config {
			if generated(o) && str(o, "kind") == "ServiceEntry" && slices.Contains(list(nested(o, "spec", "hosts")), any(dbHost)) {
				continue
			}
			config = append(config, o)
		}
		if len(config) != len(sc.config)-1 {
			t.Fatalf("removed %d generated ServiceEntries for %s, want 1", len(sc.config)-len(config), dbHost)
		}
		chains, eds, _ := routes(t, config)
		if c, ok := chains[sniAt(dbPort, dbHost)]; ok && len(eds[c]) > 0 {
			t.Errorf("without the generated ServiceEntry SNI %s still reaches %v: the check proves nothing", sniAt(dbPort, dbHost), eds[c])
		}
	})
}
