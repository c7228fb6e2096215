package istiod

import (
	"fmt"
	"slices"
	"testing"
)

const (
	hostA = "httpbin.a.svc.west-mesh-imports.local" // imported under the federation hostname
	hostB = "httpbin.b.svc.cluster.local"           // importAsLocal, alias namespace b
	port  = 8000

	eastNetwork = "east-network" // the importing cluster's own network when its MeshImport names none
	eastIPs     = "10.20.0."
)

func outbound(host string) string { return fmt.Sprintf("outbound|%d||%s", port, host) }

// remoteGateway reads the generated istio-remote Gateway: its network and the addr:port list
// istiod should substitute for every endpoint on that network.
func remoteGateway(t *testing.T, sc *scenario) (string, []string) {
	t.Helper()
	gws := find(sc.kube, "gateway.networking.k8s.io", "Gateway", func(o obj) bool {
		return generated(o) && str(o, "spec", "gatewayClassName") == "istio-remote"
	})
	if len(gws) != 1 {
		t.Fatalf("%s: want 1 generated istio-remote Gateway, got %d", sc.source, len(gws))
	}
	gw := gws[0]
	nw := labels(gw)[labelNetwork]
	if nw == "" {
		t.Fatalf("%s has no %s label", ref(gw), labelNetwork)
	}
	var want []string
	for _, a := range list(nested(gw, "spec", "addresses")) {
		am, _ := a.(map[string]any)
		for _, l := range list(nested(gw, "spec", "listeners")) {
			lm, _ := l.(map[string]any)
			p, _ := num(lm["port"])
			want = append(want, fmt.Sprintf("%v:%d", am["value"], p))
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s has no address or listener", ref(gw))
	}
	return nw, sortedCopy(want)
}

// declaredGateways is addr:port of the MeshImport peers on network, or nil without a MeshImport item.
func declaredGateways(sc *scenario, nw string) []string {
	var out []string
	for _, mi := range find(sc.all, "meshfed.dev", "MeshImport", nil) {
		for _, p := range list(nested(mi, "spec", "peers")) {
			pm, _ := p.(map[string]any)
			if pm["network"] != nw {
				continue
			}
			gwPort := 15443
			if n, ok := num(nested(pm, "gateway", "port")); ok {
				gwPort = n
			}
			addrs := list(nested(pm, "gateway", "addresses"))
			if a := nested(pm, "gateway", "address"); a != nil {
				addrs = append(addrs, a)
			}
			for _, a := range addrs {
				out = append(out, fmt.Sprintf("%v:%d", a, gwPort))
			}
		}
	}
	if out == nil {
		return nil
	}
	return sortedCopy(out)
}

// importPair finds the generated ServiceEntry for host and the WorkloadEntries it selects in its namespace.
func importPair(t *testing.T, config []obj, host string) (se obj, wes []obj) {
	t.Helper()
	ses := find(config, "networking.istio.io", "ServiceEntry", func(o obj) bool {
		return generated(o) && slices.Contains(list(nested(o, "spec", "hosts")), any(host))
	})
	if len(ses) != 1 {
		t.Fatalf("want 1 generated ServiceEntry for %s, got %d", host, len(ses))
	}
	se = ses[0]
	sel := strMap(nested(se, "spec", "workloadSelector", "labels"))
	wes = find(config, "networking.istio.io", "WorkloadEntry", func(o obj) bool {
		merged := strMap(nested(o, "spec", "labels"))
		for k, v := range labels(o) {
			merged[k] = v
		}
		return generated(o) && selects(sel, merged)
	})
	if len(wes) == 0 {
		t.Fatalf("no generated WorkloadEntry matches %s's workloadSelector %v", ref(se), sel)
	}
	return se, wes
}

// clientWorkload is the guide's curl pod in namespace client, or a stand-in when the scenario has none.
func clientWorkload(wls []workload, localNetwork string) workload {
	for _, w := range wls {
		if w.namespace == "client" {
			return w
		}
	}
	return workload{owner: "Deployment client/curl", namespace: "client", name: "curl-0",
		ip: eastIPs + "200", labels: map[string]string{"app": "curl", labelTLSMode: "istio", labelNetwork: localNetwork}}
}

// localHTTPBinB is a Service b/httpbin of EAST's own, for the importAsLocal aggregation case.
func localHTTPBinB() []obj {
	return []obj{
		{
			"apiVersion": "v1", "kind": "Service",
			"metadata": obj{"name": "httpbin", "namespace": "b", "labels": obj{"app": "httpbin"}},
			"spec": obj{
				"selector": obj{"app": "httpbin"},
				"ports":    []any{obj{"name": "http", "port": 8000, "targetPort": 8080}},
			},
		},
		{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": obj{"name": "httpbin", "namespace": "b"},
			"spec": obj{
				"selector": obj{"matchLabels": obj{"app": "httpbin"}},
				"template": obj{
					"metadata": obj{"labels": obj{"app": "httpbin", "version": "v1"}},
					"spec": obj{
						"serviceAccountName": "httpbin",
						"containers": []any{obj{
							"name": "httpbin", "image": "docker.io/mccutchen/go-httpbin:v2.15.0",
							"ports": []any{obj{"containerPort": 8080}},
						}},
					},
				},
			},
		},
	}
}

// TestImportingCluster: on EAST, a client sidecar must reach both imported hosts through
// the peer's east-west gateway address, exactly as declared by the generated istio-remote Gateway.
func TestImportingCluster(t *testing.T) {
	sc := loadScenario(t, "guide-east")
	// The client runs on the network meshfed gives this cluster (MeshImport spec.network).
	eastNetwork := eastNetworkOf(sc)
	remoteNetwork, gwEndpoints := remoteGateway(t, sc)
	if remoteNetwork == eastNetwork {
		t.Fatalf("remote network %q equals the local test network", remoteNetwork)
	}
	if !sc.golden && !equalStrings(gwEndpoints, []string{"192.0.2.10:15443"}) {
		t.Fatalf("fixture gateway endpoints %v, want [192.0.2.10:15443]", gwEndpoints)
	}
	t.Logf("remote network %s, east-west gateway %v", remoteNetwork, gwEndpoints)
	// Independent source: the gateway address the user wrote in the MeshImport.
	if declared := declaredGateways(sc, remoteNetwork); declared != nil && !equalStrings(declared, gwEndpoints) {
		t.Fatalf("MeshImport declares gateway %v for network %s, the istio-remote Gateway says %v", declared, remoteNetwork, gwEndpoints)
	}
	for _, h := range []string{hostA, hostB} {
		se, wes := importPair(t, sc.config, h)
		t.Logf("%s: %s with %d WorkloadEntry(s)", h, ref(se), len(wes))
	}

	t.Run("remote endpoints via east-west gateway", func(t *testing.T) {
		kube, wls := withWorkloads(t, sc.kube, eastNetwork, eastIPs)
		f := newFake(t, kube, sc.config)
		eds := endpointsByCluster(f, sidecarFor(f, clientWorkload(wls, eastNetwork), eastNetwork))
		for _, h := range []string{hostA, hostB} {
			got, ok := eds[outbound(h)]
			if !ok {
				t.Errorf("no EDS cluster %s for the client", outbound(h))
				continue
			}
			if !equalStrings(got, gwEndpoints) {
				t.Errorf("%s: endpoints %v, want %v", outbound(h), got, gwEndpoints)
			}
			t.Logf("%s: %v", outbound(h), got)
		}
	})

	// Negative control: the same objects, but the WorkloadEntry of hostA moved out of its
	// ServiceEntry's namespace. A ServiceEntry selects workloads in its own namespace only,
	// so istiod must give no endpoints, proving the assertions above can fail.
	t.Run("negative control: WorkloadEntry outside the ServiceEntry namespace", func(t *testing.T) {
		config := clone(sc.config)
		se, wes := importPair(t, config, hostA)
		moveTo := "client"
		if namespace(se) == moveTo {
			moveTo = "default"
		}
		for _, we := range wes {
			setNamespace(we, moveTo)
		}
		kube, wls := withWorkloads(t, sc.kube, eastNetwork, eastIPs)
		f := newFake(t, kube, config)
		eds := endpointsByCluster(f, sidecarFor(f, clientWorkload(wls, eastNetwork), eastNetwork))
		got, ok := eds[outbound(hostA)]
		if !ok {
			t.Fatalf("no EDS cluster %s at all: the control should keep the cluster and lose its endpoints", outbound(hostA))
		}
		if len(got) != 0 {
			t.Errorf("%s: endpoints %v with the WorkloadEntry in %s and the ServiceEntry in %s; want none",
				outbound(hostA), got, moveTo, namespace(se))
		}
		t.Logf("%s with the WorkloadEntry moved to %s: %v", outbound(hostA), moveTo, got)
		if got := eds[outbound(hostB)]; !equalStrings(got, gwEndpoints) {
			t.Errorf("%s (untouched): endpoints %v, want %v", outbound(hostB), got, gwEndpoints)
		}
	})
}

// TestImportAsLocalAggregates: where EAST's items show namespace b (the golden
// scenario-import-placement has a Namespace b), meshfed places the importAsLocal
// ServiceEntry and WorkloadEntry there, and a local Service b/httpbin with a pod then
// aggregates with the peer's gateway: the client gets the local pod and the gateway.
// (The guide's East has no namespace b, so there they go in istio-system, as the tested
// migration places them.)
func TestImportAsLocalAggregates(t *testing.T) {
	sc := loadScenario(t, "scenario-import-placement")
	if !sc.golden {
		t.Fatal("scenario-import-placement has no fixture: it needs meshfed's golden output")
	}
	eastNetwork := eastNetworkOf(sc)
	_, gwEndpoints := remoteGateway(t, sc)
	se, _ := importPair(t, sc.config, hostB)
	if namespace(se) != "b" {
		t.Fatalf("%s: the importAsLocal ServiceEntry is in %q, want the alias namespace b the items show", hostB, namespace(se))
	}
	kube, wls := withWorkloads(t, append(clone(sc.kube), localHTTPBinB()...), eastNetwork, eastIPs)
	local := workloadIn(t, wls, "Deployment b/httpbin")
	f := newFake(t, kube, sc.config)
	eds := endpointsByCluster(f, sidecarFor(f, clientWorkload(wls, eastNetwork), eastNetwork))
	want := sortedCopy(append([]string{local.ip + ":8080"}, gwEndpoints...))
	if got := eds[outbound(hostB)]; !equalStrings(got, want) {
		t.Errorf("%s: endpoints %v, want local pod and gateway %v", outbound(hostB), got, want)
	}
}
