package istiod

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/network"
)

// workload is a Pod synthesised for a Deployment/StatefulSet/DaemonSet, as the cluster would run it.
type workload struct {
	owner     string // kind/namespace/name of the controller
	namespace string
	name      string
	ip        string
	labels    map[string]string
}

// withWorkloads returns items plus what the cluster would add at run time and the function's
// output does not hold: one ready, sidecar-injected Pod per workload controller, with a fixed IP
// from ipPrefix and the network label that injection sets from the mesh network, and one
// EndpointSlice per selector Service, as the EndpointSlice controller would write it.
func withWorkloads(t *testing.T, items []obj, meshNetwork, ipPrefix string) ([]obj, []workload) {
	t.Helper()
	out := clone(items)
	var owners []obj
	for _, it := range out {
		if str(it, "apiVersion") != "apps/v1" {
			continue
		}
		switch str(it, "kind") {
		case "Deployment", "StatefulSet", "DaemonSet":
			owners = append(owners, it)
		}
	}
	sort.Slice(owners, func(i, j int) bool { return ref(owners[i]) < ref(owners[j]) })

	var pods []obj
	var wls []workload
	for i, o := range owners {
		tmpl, _ := nested(o, "spec", "template").(map[string]any)
		if tmpl == nil {
			t.Fatalf("%s has no spec.template", ref(o))
		}
		lbls := strMap(nested(tmpl, "metadata", "labels"))
		lbls[labelTLSMode] = "istio"
		if meshNetwork != "" {
			lbls[labelNetwork] = meshNetwork
		}
		sa := str(tmpl, "spec", "serviceAccountName")
		if sa == "" {
			sa = "default"
		}
		ip := fmt.Sprintf("%s%d", ipPrefix, 10+i)
		podName := name(o) + "-0"
		podLabels := map[string]any{}
		for k, v := range lbls {
			podLabels[k] = v
		}
		pods = append(pods, obj{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata": obj{
				"name":      podName,
				"namespace": namespace(o),
				"labels":    podLabels,
			},
			"spec": obj{
				"serviceAccountName": sa,
				"containers":         nested(tmpl, "spec", "containers"),
			},
			"status": obj{
				"phase":  "Running",
				"podIP":  ip,
				"podIPs": []any{obj{"ip": ip}},
				"conditions": []any{
					obj{"type": "Ready", "status": "True"},
					obj{"type": "ContainersReady", "status": "True"},
				},
			},
		})
		wls = append(wls, workload{
			owner: ref(o), namespace: namespace(o), name: podName, ip: ip, labels: lbls,
		})
	}

	var epSlices []obj
	for _, svc := range find(out, "", "Service", nil) {
		selector := strMap(nested(svc, "spec", "selector"))
		if len(selector) == 0 {
			continue
		}
		var endpoints []any
		var ports []any
		seenPort := map[string]bool{}
		for i, p := range pods {
			if namespace(p) != namespace(svc) || !selects(selector, labels(p)) {
				continue
			}
			endpoints = append(endpoints, obj{
				"addresses":  []any{wls[i].ip},
				"conditions": obj{"ready": true, "serving": true, "terminating": false},
				"targetRef":  obj{"kind": "Pod", "name": name(p), "namespace": namespace(p)},
			})
			for _, sp := range list(nested(svc, "spec", "ports")) {
				spm, _ := sp.(map[string]any)
				tp, err := targetPort(spm, p)
				if err != nil {
					t.Fatalf("%s: %v", ref(svc), err)
				}
				pname, _ := spm["name"].(string)
				proto, _ := spm["protocol"].(string)
				if proto == "" {
					proto = "TCP"
				}
				key := fmt.Sprintf("%s/%d", pname, tp)
				if seenPort[key] {
					continue
				}
				seenPort[key] = true
				ports = append(ports, obj{"name": pname, "port": tp, "protocol": proto})
			}
		}
		if len(endpoints) == 0 {
			continue
		}
		epSlices = append(epSlices, obj{
			"apiVersion":  "discovery.k8s.io/v1",
			"kind":        "EndpointSlice",
			"addressType": "IPv4",
			"metadata": obj{
				"name":      name(svc) + "-synth",
				"namespace": namespace(svc),
				"labels": obj{
					"kubernetes.io/service-name":             name(svc),
					"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
				},
			},
			"endpoints": endpoints,
			"ports":     ports,
		})
	}
	out = append(out, pods...)
	out = append(out, epSlices...)
	return out, wls
}

// targetPort resolves a Service port's targetPort against a Pod, as the EndpointSlice controller does.
func targetPort(svcPort map[string]any, pod obj) (int, error) {
	tp := svcPort["targetPort"]
	if n, ok := num(tp); ok {
		return n, nil
	}
	if s, ok := tp.(string); ok && s != "" {
		for _, c := range list(nested(pod, "spec", "containers")) {
			cm, _ := c.(map[string]any)
			for _, cp := range list(cm["ports"]) {
				cpm, _ := cp.(map[string]any)
				if cpm["name"] == s {
					if n, ok := num(cpm["containerPort"]); ok {
						return n, nil
					}
				}
			}
		}
		return 0, fmt.Errorf("targetPort %q: no container port of that name in pod %s", s, ref(pod))
	}
	n, ok := num(svcPort["port"])
	if !ok {
		return 0, fmt.Errorf("service port without a number: %v", svcPort)
	}
	return n, nil
}

// newFake starts istiod's in-process discovery server on one cluster's objects.
func newFake(t *testing.T, kube, config []obj) *xds.FakeDiscoveryServer {
	t.Helper()
	if !features.MultiNetworkGatewayAPI {
		t.Fatal("PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API is off in this istiod build; meshfed's output needs it on")
	}
	return xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		KubernetesObjectString: toYAML(t, kube),
		ConfigString:           toYAML(t, config),
	})
}

// sidecarFor builds a sidecar proxy for a synthesised workload.
func sidecarFor(f *xds.FakeDiscoveryServer, w workload, meshNetwork string) *model.Proxy {
	return f.SetupProxy(&model.Proxy{
		Type:            model.SidecarProxy,
		ID:              w.name + "." + w.namespace,
		ConfigNamespace: w.namespace,
		IPAddresses:     []string{w.ip},
		Labels:          w.labels,
		Metadata: &model.NodeMetadata{
			Namespace: w.namespace,
			Network:   network.ID(meshNetwork),
			ClusterID: cluster.ID(constants.DefaultClusterName),
			Labels:    w.labels,
		},
	})
}

// endpointsByCluster is EDS for a proxy: cluster name -> sorted "ip:port" list.
func endpointsByCluster(f *xds.FakeDiscoveryServer, p *model.Proxy) map[string][]string {
	got := xdstest.ExtractLoadAssignments(f.Endpoints(p))
	for k, v := range got {
		got[k] = sortedCopy(v)
	}
	return got
}

func workloadIn(t *testing.T, wls []workload, owner string) workload {
	t.Helper()
	for _, w := range wls {
		if w.owner == owner {
			return w
		}
	}
	var have []string
	for _, w := range wls {
		have = append(have, w.owner)
	}
	t.Fatalf("no workload for %s (have %s)", owner, strings.Join(have, ", "))
	return workload{}
}

func equalStrings(a, b []string) bool {
	a, b = sortedCopy(a), sortedCopy(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
