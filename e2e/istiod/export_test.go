package istiod

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/network"
)

const (
	westIPs   = "10.10.0."
	gatewayIP = "10.10.1.1"
)

// exportSide is what the test reads from the generated export resources.
type exportSide struct {
	gwName, gwNamespace string
	gwLabels            map[string]string // the Gateway API Gateway's metadata.labels
	network             string
	port                int
	hosts               []string
	selector            map[string]string
}

func readExportSide(t *testing.T, sc *scenario) exportSide {
	t.Helper()
	var e exportSide
	k8s := find(sc.kube, "gateway.networking.k8s.io", "Gateway", func(o obj) bool {
		return generated(o) && str(o, "spec", "gatewayClassName") == "istio"
	})
	if len(k8s) != 1 {
		t.Fatalf("%s: want 1 generated Gateway API Gateway of class istio, got %d", sc.source, len(k8s))
	}
	e.gwName, e.gwNamespace = name(k8s[0]), namespace(k8s[0])
	e.gwLabels = labels(k8s[0])
	e.network = labels(k8s[0])[labelNetwork]
	if e.network == "" {
		t.Fatalf("%s has no %s label", ref(k8s[0]), labelNetwork)
	}
	igws := find(sc.config, "networking.istio.io", "Gateway", generated)
	if len(igws) != 1 {
		t.Fatalf("%s: want 1 generated Istio Gateway, got %d", sc.source, len(igws))
	}
	igw := igws[0]
	if namespace(igw) != e.gwNamespace {
		t.Errorf("%s is not in the east-west gateway's namespace %s", ref(igw), e.gwNamespace)
	}
	e.selector = strMap(nested(igw, "spec", "selector"))
	servers := list(nested(igw, "spec", "servers"))
	if len(servers) != 1 {
		t.Fatalf("%s: want 1 server, got %d", ref(igw), len(servers))
	}
	srv, _ := servers[0].(map[string]any)
	e.port, _ = num(nested(srv, "port", "number"))
	for _, h := range list(srv["hosts"]) {
		e.hosts = append(e.hosts, fmt.Sprint(h))
	}
	return e
}

// gatewayProxy is the east-west gateway's Envoy as a router proxy with the given pod labels.
func gatewayProxy(f *xds.FakeDiscoveryServer, e exportSide, podLabels map[string]string) *model.Proxy {
	return f.SetupProxy(&model.Proxy{
		Type:            model.Router,
		ID:              e.gwName + "-istio-0." + e.gwNamespace,
		ConfigNamespace: e.gwNamespace,
		IPAddresses:     []string{gatewayIP},
		Labels:          podLabels,
		Metadata: &model.NodeMetadata{
			Namespace: e.gwNamespace,
			Network:   network.ID(e.network),
			ClusterID: cluster.ID(constants.DefaultClusterName),
			Labels:    podLabels,
		},
	})
}

// sniChains maps each SNI server name of the listeners on port to the cluster its tcp_proxy
// targets; nil when there is no listener on port at all.
func sniChains(t *testing.T, ls []*listener.Listener, port int) map[string]string {
	t.Helper()
	var out map[string]string
	for _, l := range ls {
		if int(l.GetAddress().GetSocketAddress().GetPortValue()) != port {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		for _, fc := range l.GetFilterChains() {
			tp := xdstest.ExtractTCPProxy(t, fc)
			for _, sni := range fc.GetFilterChainMatch().GetServerNames() {
				if tp == nil {
					out[sni] = ""
					continue
				}
				out[sni] = tp.GetCluster()
			}
		}
	}
	return out
}

func sni(host string) string { return fmt.Sprintf("outbound_.%d_._.%s", port, host) }

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestExportingCluster: on WEST, the east-west gateway must accept mTLS SNI for each exported
// host and forward it to the httpbin pods of the right namespace on their container port.
func TestExportingCluster(t *testing.T) {
	sc := loadScenario(t, "guide-west")
	e := readExportSide(t, sc)
	t.Logf("east-west gateway %s/%s on network %s, port %d, Istio Gateway selector %v, hosts %v",
		e.gwNamespace, e.gwName, e.network, e.port, e.selector, e.hosts)
	for _, h := range []string{hostA, hostB} {
		if !slices.Contains(e.hosts, h) {
			t.Fatalf("Istio Gateway hosts %v lack %s", e.hosts, h)
		}
	}
	// Backends: the workloads behind each exported host, and their container port.
	backends := map[string]string{hostA: "Deployment a/httpbin", hostB: "Deployment b/httpbin"}
	const targetPort = 8080

	// podLabels as the brief and the guide assume: the Istio Gateway's selector on the gateway pod.
	briefLabels := map[string]string{
		"istio.io/gateway-name":                  e.gwName,
		"gateway.networking.k8s.io/gateway-name": e.gwName,
		labelNetwork:                             e.network,
	}

	check := func(t *testing.T, config []obj, podLabels map[string]string) (map[string]string, map[string][]string, []workload) {
		kube, wls := withWorkloads(t, sc.kube, e.network, westIPs)
		f := newFake(t, kube, config)
		gw := gatewayProxy(f, e, podLabels)
		chains := sniChains(t, f.Listeners(gw), e.port)
		return chains, endpointsByCluster(f, gw), wls
	}

	t.Run("SNI chains route to the right pods", func(t *testing.T) {
		chains, eds, wls := check(t, sc.config, briefLabels)
		if chains == nil {
			t.Fatalf("the gateway proxy has no listener on port %d", e.port)
		}
		t.Logf("SNI names on port %d: %v", e.port, keys(chains))
		for _, h := range []string{hostA, hostB} {
			c, ok := chains[sni(h)]
			if !ok {
				t.Errorf("no filter chain for SNI %s", sni(h))
				continue
			}
			if c == "" {
				t.Errorf("filter chain for SNI %s has no tcp_proxy cluster", sni(h))
				continue
			}
			w := workloadIn(t, wls, backends[h])
			want := []string{fmt.Sprintf("%s:%d", w.ip, targetPort)}
			got, ok := eds[c]
			if !ok {
				t.Errorf("SNI %s routes to cluster %s, which has no EDS", sni(h), c)
				continue
			}
			if !equalStrings(got, want) {
				t.Errorf("SNI %s -> cluster %s: endpoints %v, want %v (pod %s/%s)", sni(h), c, got, want, w.namespace, w.name)
			}
			t.Logf("SNI %s -> cluster %s -> %v (pod %s/%s)", sni(h), c, got, w.namespace, w.name)
		}
		// Negative control 1: a real WEST Service that is not in the Istio Gateway's hosts.
		notListed := "httpbin.a.svc.cluster.local"
		if slices.Contains(e.hosts, notListed) {
			t.Fatalf("%s is listed; pick another negative host", notListed)
		}
		if _, ok := chains[sni(notListed)]; ok {
			t.Errorf("filter chain for SNI %s exists although %s is not in the Istio Gateway's hosts", sni(notListed), notListed)
		}
	})

	// The exporter's ServiceEntries carry exportTo [".", <gateway namespace>] (DESIGN section 2 r2):
	// they exist only for the east-west gateway. istiod must still give the gateway an SNI
	// chain with endpoints for every host it lists, while a sidecar in another namespace of this
	// cluster gets no cluster for an entry's host at all (so the entry never changes what this
	// mesh's own clients resolve). Positive control: a sidecar in the entry's own namespace sees
	// it. Negative control: the same entry without exportTo is visible to that other namespace,
	// so the check can fail.
	t.Run("exportTo: every SNI routed, host invisible to other namespaces", func(t *testing.T) {
		chains, eds, _ := check(t, sc.config, briefLabels)
		for _, h := range e.hosts {
			c, ok := chains[sni(h)]
			if !ok || c == "" {
				t.Errorf("the gateway has no tcp_proxy chain for SNI %s (listed host %s)", sni(h), h)
				continue
			}
			if len(eds[c]) == 0 {
				t.Errorf("SNI %s -> cluster %s has no endpoints", sni(h), c)
			}
		}
		entries := find(sc.config, "networking.istio.io", "ServiceEntry", generated)
		if len(entries) == 0 {
			t.Fatalf("%s: no generated ServiceEntry to check", sc.source)
		}
		// probe is a sidecar of a pod that no Service selects, in namespace ns.
		probe := func(config []obj, ns string) map[string][]string {
			kube, _ := withWorkloads(t, sc.kube, e.network, westIPs)
			f := newFake(t, kube, config)
			w := workload{owner: "probe", namespace: ns, name: "probe", ip: "10.10.2.1", labels: map[string]string{"app": "probe"}}
			return endpointsByCluster(f, sidecarFor(f, w, e.network))
		}
		const otherNamespace = "client"
		for _, se := range entries {
			seNamespace := namespace(se)
			if seNamespace == otherNamespace || seNamespace == e.gwNamespace {
				t.Fatalf("%s: pick another namespace than %s for the probe", ref(se), otherNamespace)
			}
			want := []any{".", e.gwNamespace}
			if seNamespace == e.gwNamespace {
				want = []any{"."}
			}
			if got := list(nested(se, "spec", "exportTo")); !slices.Equal(got, want) {
				t.Errorf("%s exportTo = %v, want %v", ref(se), got, want)
			}
			for _, h := range list(nested(se, "spec", "hosts")) {
				cluster := fmt.Sprintf("outbound|%d||%s", port, h)
				if _, seen := probe(sc.config, otherNamespace)[cluster]; seen {
					t.Errorf("a sidecar in namespace %s has cluster %s: %s is visible outside %v", otherNamespace, cluster, ref(se), want)
				}
				if _, seen := probe(sc.config, seNamespace)[cluster]; !seen {
					t.Errorf("positive control: a sidecar in %s's own namespace %s has no cluster %s", ref(se), seNamespace, cluster)
				}
				unrestricted := clone(sc.config)
				for _, o := range find(unrestricted, "networking.istio.io", "ServiceEntry", generated) {
					if ref(o) == ref(se) {
						delete(nested(o, "spec").(map[string]any), "exportTo")
					}
				}
				if _, seen := probe(unrestricted, otherNamespace)[cluster]; !seen {
					t.Errorf("negative control: without exportTo a sidecar in %s still has no cluster %s, so the check proves nothing", otherNamespace, cluster)
				}
				t.Logf("%s (exportTo %v): visible in %s and to the gateway, not in %s", cluster, want, seNamespace, otherNamespace)
			}
		}
	})

	// Negative control 2: drop hostB from the Istio Gateway; its chain must disappear.
	t.Run("negative control: host removed from the Istio Gateway", func(t *testing.T) {
		config := clone(sc.config)
		igw := find(config, "networking.istio.io", "Gateway", generated)[0]
		srv := list(nested(igw, "spec", "servers"))[0].(map[string]any)
		var kept []any
		for _, h := range list(srv["hosts"]) {
			if h != hostB {
				kept = append(kept, h)
			}
		}
		srv["hosts"] = kept
		chains, _, _ := check(t, config, briefLabels)
		if chains == nil {
			t.Fatalf("the gateway proxy has no listener on port %d", e.port)
		}
		if _, ok := chains[sni(hostB)]; ok {
			t.Errorf("filter chain for SNI %s still exists after removing %s from the Istio Gateway", sni(hostB), hostB)
		}
		if _, ok := chains[sni(hostA)]; !ok {
			t.Errorf("filter chain for SNI %s vanished although %s is still listed", sni(hostA), hostA)
		}
	})

	// The pod labels that Istio's own deployment controller puts on a class-istio gateway pod
	// (manifests .../files/kube-gateway.yaml: gateway.networking.k8s.io/gateway-name, the
	// class name, and the Gateway's own labels copied as infrastructure labels). Since Istio 1.24
	// it no longer adds istio.io/gateway-name. This subtest reports whether the generated
	// Istio Gateway's selector still reaches such a pod, and checks that istiod agrees.
	t.Run("selector against the labels Istio 1.24+ gives the gateway pod", func(t *testing.T) {
		// The template's order: fixed labels, then the infrastructure labels
		// (the Gateway's metadata.labels while spec.infrastructure is unset),
		// then the gateway name and class, which win.
		deployed := map[string]string{
			"service.istio.io/canonical-name":     e.gwName + "-istio",
			"service.istio.io/canonical-revision": "latest",
			"sidecar.istio.io/inject":             "false",
		}
		for k, v := range e.gwLabels {
			deployed[k] = v
		}
		deployed["gateway.networking.k8s.io/gateway-name"] = e.gwName
		deployed["gateway.networking.k8s.io/gateway-class-name"] = "istio"
		deployed["gateway.istio.io/managed"] = "istio.io-gateway-controller"
		chains, _, _ := check(t, sc.config, deployed)
		_, hasA := chains[sni(hostA)]
		_, hasB := chains[sni(hostB)]
		if selects(e.selector, deployed) {
			if !hasA || !hasB {
				t.Errorf("selector %v matches the deployed pod but the SNI chains are missing: %v", e.selector, keys(chains))
			}
			return
		}
		t.Errorf("the Istio Gateway selector %v does not match a gateway pod deployed by Istio >= 1.24 "+
			"(labels %v): istiod gives that pod no SNI chains for the exported hosts (got %v); "+
			"the east-west Gateway must carry the selector's labels, which Istio copies onto its pods", e.selector, deployed, keys(chains))
	})
}
