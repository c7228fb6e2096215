package crdvalidate

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// validators returns one Validator per Istio version under test, named by
// the version they were built from.
func validators(t *testing.T) map[string]*Validator {
	t.Helper()
	out := map[string]*Validator{}
	for _, ver := range IstioVersions {
		v, err := ForIstio(ver)
		if err != nil {
			t.Fatalf("loading CRDs for Istio %q: %v", ver, err)
		}
		out[versionName(ver)] = v
	}
	return out
}

const istioRemoteGateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: istio-remote-peer-west
  namespace: istio-system
  labels:
    topology.istio.io/network: network-west
spec:
  gatewayClassName: istio-remote
  addresses:
  - type: IPAddress
    value: 192.0.2.10
  listeners:
  - name: cross-network
    port: 15443
    protocol: TLS
    tls:
      mode: Passthrough
      options:
        gateway.istio.io/listener-protocol: auto-passthrough
    allowedRoutes:
      namespaces:
        from: Same
`

const blockAllGateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: eastwest
  namespace: istio-system
spec:
  gatewayClassName: istio
  listeners:
  - name: default
    hostname: fake-hostname-to-block-all-by-default
    port: 15443
    protocol: TLS
    tls:
      mode: Passthrough
    allowedRoutes:
      namespaces:
        from: Same
`

const istioGateway = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: cross-network-gateway
  namespace: istio-system
spec:
  selector:
    istio.io/gateway-name: eastwestgateway
  servers:
  - port:
      number: 15443
      name: tls
      protocol: TLS
    tls:
      mode: AUTO_PASSTHROUGH
    hosts:
    - "*.local"
    - "*.mesh.example"
`

const serviceEntry = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ratings-west
  namespace: bookinfo
spec:
  hosts:
  - ratings.bookinfo.svc.west.mesh
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: 9080
    name: http
    protocol: HTTP
    targetPort: 9080
  workloadSelector:
    labels:
      app: ratings
  subjectAltNames:
  - spiffe://west.local/ns/bookinfo/sa/ratings
  exportTo:
  - "."
  - istio-system
`

const workloadEntryNetworkOnly = `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: ratings-west
  namespace: bookinfo
spec:
  network: network-west
  labels:
    app: ratings
`

type want struct {
	layer    string
	fragment string
}

var cases = []struct {
	name  string
	yaml  string
	wants []want // empty: must validate cleanly
}{
	{name: "istio-remote Gateway with IP address", yaml: istioRemoteGateway},
	{name: "istio class Gateway with blocking hostname", yaml: blockAllGateway},
	{name: "Istio Gateway AUTO_PASSTHROUGH", yaml: istioGateway},
	{
		// Listener.AllowedRoutes has +kubebuilder:default={namespaces:{from: Same}}
		// (sigs.k8s.io/gateway-api apis/v1/gateway_types.go); kube-apiserver
		// stores the listener with it (seen with make test-cluster).
		name:  "Gateway listener without allowedRoutes",
		yaml:  strings.Replace(blockAllGateway, "    allowedRoutes:\n      namespaces:\n        from: Same\n", "", 1),
		wants: []want{{LayerDefaulting, `the apiserver adds spec.listeners[0].allowedRoutes: {"namespaces":{"from":"Same"}} by defaulting`}},
	},
	{name: "ServiceEntry", yaml: serviceEntry},
	{name: "WorkloadEntry with only network", yaml: workloadEntryNetworkOnly},
	{
		name: "Gateway API hostname address without type",
		yaml: strings.Replace(istioRemoteGateway, "  - type: IPAddress\n    value: 192.0.2.10",
			"  - value: eastwest.example.com", 1),
		// Only the defaulted type IPAddress makes the value need the
		// ipv4/ipv6 format.
		wants: []want{{LayerCRD, "spec.addresses[0].value in body must be of type ipv4"}},
	},
	{
		name:  "TLS listener without tls mode",
		yaml:  strings.Replace(blockAllGateway, "    tls:\n      mode: Passthrough\n", "", 1),
		wants: []want{{LayerCEL, "tls mode must be set for protocol TLS"}},
	},
	{
		name:  "WorkloadEntry without address or network",
		yaml:  strings.Replace(workloadEntryNetworkOnly, "  network: network-west\n", "", 1),
		wants: []want{{LayerCEL, "Address is required"}},
	},
	{
		name: "unknown field in Istio spec",
		yaml: strings.Replace(serviceEntry, "workloadSelector:", "workloadSelectr:", 1),
		wants: []want{
			{LayerProtojson, `unknown field "workloadSelectr"`},
			{LayerPruning, "spec.workloadSelectr"},
		},
	},
	{
		name: "unknown field in Gateway API spec",
		yaml: strings.Replace(istioRemoteGateway, "  gatewayClassName:", "  gatewayClass: x\n  gatewayClassName:", 1),
		wants: []want{
			{LayerTyped, `unknown field "gatewayClass"`},
			{LayerPruning, "spec.gatewayClass"},
		},
	},
	{
		name:  "listener port out of range",
		yaml:  strings.Replace(istioRemoteGateway, "port: 15443", "port: 70000", 1),
		wants: []want{{LayerCRD, "spec.listeners[0].port in body should be less than or equal to 65535"}},
	},
	{
		name:  "ServiceEntry targetPort out of range",
		yaml:  strings.Replace(serviceEntry, "targetPort: 9080", "targetPort: 0", 1),
		wants: []want{{LayerCEL, "spec.ports[0].targetPort: Invalid value: 0: port must be between 1-65535"}},
	},
	{
		// Known gap, kept so it stays visible: the Istio CRDs bound
		// server ports only by uint32; istiod's validating webhook, which
		// this package does not run, is what rejects 70000.
		name: "known gap: Istio server port above 65535 passes the CRD",
		yaml: strings.Replace(istioGateway, "number: 15443", "number: 70000", 1),
	},
	{
		name:  "invalid object name",
		yaml:  strings.Replace(serviceEntry, "name: ratings-west", "name: Ratings_West", 1),
		wants: []want{{LayerMetadata, "a lowercase RFC 1123 subdomain"}},
	},
	{
		name:  "unknown field in metadata",
		yaml:  strings.Replace(serviceEntry, "  namespace: bookinfo\n", "  namespace: bookinfo\n  lables: {app: ratings}\n", 1),
		wants: []want{{LayerPruning, "metadata.lables"}},
	},
	{
		name:  "unserved version",
		yaml:  strings.Replace(blockAllGateway, "gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha1", 1),
		wants: []want{{LayerCRD, `version "v1alpha1" is not served`}},
	},
}

func TestValidate(t *testing.T) {
	for verName, v := range validators(t) {
		t.Run(verName, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					objs, err := DecodeObjects([]byte(tc.yaml))
					if err != nil {
						t.Fatal(err)
					}
					if unchecked := v.Unchecked(objs); len(unchecked) > 0 {
						t.Fatalf("no CRD loaded for %v", unchecked)
					}
					problems, err := v.ValidateYAML([]byte(tc.yaml))
					if err != nil {
						t.Fatal(err)
					}
					if len(tc.wants) == 0 && len(problems) > 0 {
						t.Fatalf("want no problems, got:\n%s", FormatProblems(problems))
					}
					for _, w := range tc.wants {
						if !hasProblem(problems, w) {
							t.Errorf("want a %q problem containing %q, got:\n%s", w.layer, w.fragment, FormatProblems(problems))
						}
					}
				})
			}
		})
	}
}

func hasProblem(problems []Problem, w want) bool {
	for _, p := range problems {
		if p.Layer == w.layer && strings.Contains(p.Message, w.fragment) {
			return true
		}
	}
	return false
}

// Kinds without a loaded CRD are skipped, not failed, and reported by
// Unchecked so callers can tell "valid" from "not looked at".
func TestUncheckedKinds(t *testing.T) {
	const stream = `
apiVersion: v1
kind: Service
metadata: {name: eastwestgateway, namespace: istio-system}
spec:
  ports: [{port: 15443, name: tls}]
---
apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec: {version: v2.6}
---
apiVersion: federation.maistra.io/v1
kind: ServiceMeshPeer
metadata: {name: west, namespace: istio-system}
spec: {remote: {addresses: [west.example.com]}}
---
apiVersion: sailoperator.io/v1
kind: Istio
metadata: {name: default}
spec: {version: v1.24.4}
`
	for verName, v := range validators(t) {
		t.Run(verName, func(t *testing.T) {
			objs, err := DecodeObjects([]byte(stream + "---" + serviceEntry))
			if err != nil {
				t.Fatal(err)
			}
			var problems []Problem
			for _, u := range objs {
				problems = append(problems, v.ValidateObject(u)...)
			}
			if len(problems) > 0 {
				t.Fatalf("unchecked kinds must not fail:\n%s", FormatProblems(problems))
			}
			got := v.Unchecked(objs)
			wantIDs := []string{
				"Service istio-system/eastwestgateway (v1)",
				"ServiceMeshControlPlane istio-system/basic (maistra.io/v2)",
				"ServiceMeshPeer istio-system/west (federation.maistra.io/v1)",
				"Istio default (sailoperator.io/v1)",
			}
			if strings.Join(got, "\n") != strings.Join(wantIDs, "\n") {
				t.Errorf("Unchecked = %q, want %q", got, wantIDs)
			}
		})
	}
}

func TestKindsCovered(t *testing.T) {
	need := []schema.GroupVersionKind{
		{Group: "networking.istio.io", Version: "v1", Kind: "Gateway"},
		{Group: "networking.istio.io", Version: "v1", Kind: "ServiceEntry"},
		{Group: "networking.istio.io", Version: "v1", Kind: "WorkloadEntry"},
		{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule"},
		{Group: "security.istio.io", Version: "v1", Kind: "AuthorizationPolicy"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "GatewayClass"},
	}
	for verName, v := range validators(t) {
		for _, gvk := range need {
			if !v.HasCRD(gvk) {
				t.Errorf("%s: no CRD for %s (have %v)", verName, gvk, v.Kinds())
			}
		}
	}
}

func TestDecodeObjects(t *testing.T) {
	const stream = `
# comment-only document
---
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
  data: {k: v}
- apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: {name: b}
  spec: {ports: [{number: 9080, name: http}]}
functionConfig:
  apiVersion: v1
  kind: ConfigMap
  metadata: {name: fn-config}
---
---
apiVersion: v1
kind: Namespace
metadata: {name: c}
`
	objs, err := DecodeObjects([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range objs {
		names = append(names, u.GetName())
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("decoded %v, want items a,b and document c (functionConfig excluded)", names)
	}
	// CEL integer rules depend on this being int64, not float64.
	ports, _, _ := unstructured.NestedSlice(objs[1].Object, "spec", "ports")
	if n := ports[0].(map[string]interface{})["number"]; n != int64(9080) {
		t.Errorf("port decoded as %T %v, want int64", n, n)
	}

	if _, err := DecodeObjects([]byte("- not\n- an object\n")); err == nil {
		t.Error("want an error for a non-object document")
	}
}
