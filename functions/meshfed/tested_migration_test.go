package main

import (
	"os"
	"reflect"
	"testing"

	k8syaml "sigs.k8s.io/yaml"
)

// The guide scenario's outputs (goldens guide-west and guide-east) contain
// what Red Hat's end-to-end migration test applies on real clusters
// (maistra/maistra-test-tool pkg/tests/tasks/migration/federation_test.go and
// testdata/federation/{east,west}/): every object, with every field that
// decides routing, names or identities. Where the test differs by choice
// (its gateway namespace istio-ingress, its exportTo [client], its Hostname
// gateway address on AWS), meshfed's value is the configured one, and the
// test says which.

type testedObject struct {
	source     string // the maistra-test-tool file that applies it
	kind       string
	match      func(o map[string]any) bool
	fields     map[string]any // dotted path -> value the test applies
	configured map[string]string
}

func goldenItems(t *testing.T, name string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + "/_expected.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rl struct {
		Items []map[string]any `json:"items"`
	}
	if err := k8syaml.Unmarshal(b, &rl); err != nil {
		t.Fatal(err)
	}
	return rl.Items
}

func dig(o any, path ...string) any {
	for _, p := range path {
		m, ok := o.(map[string]any)
		if !ok {
			return nil
		}
		o = m[p]
	}
	return o
}

func hasHost(host string) func(map[string]any) bool {
	return func(o map[string]any) bool {
		hosts, _ := dig(o, "spec", "hosts").([]any)
		return len(hosts) == 1 && hosts[0] == host
	}
}

func TestOutputsContainTheTestedMigration(t *testing.T) {
	httpPort := []any{map[string]any{"number": float64(8000), "name": "http", "protocol": "HTTP"}}
	cases := map[string][]testedObject{
		"guide-west": {
			{
				source: "testdata/federation/west/eastwestgateway.yaml", kind: "Gateway",
				match: func(o map[string]any) bool { return dig(o, "spec", "gatewayClassName") == "istio" },
				fields: map[string]any{
					"metadata.name": "eastwestgateway",
					"metadata.labels.topology\\.istio\\.io/network":                       "network-west-mesh",
					"spec.listeners.0.name":                                               "cross-network",
					"spec.listeners.0.hostname":                                           "fake-hostname-to-block-all-by-default",
					"spec.listeners.0.port":                                               float64(15443),
					"spec.listeners.0.protocol":                                           "TLS",
					"spec.listeners.0.tls.mode":                                           "Passthrough",
					"spec.listeners.0.tls.options.gateway\\.istio\\.io/listener-protocol": "auto-passthrough",
				},
				configured: map[string]string{"metadata.namespace": "the test deploys it in istio-ingress (MeshExport spec.gateway.namespace)"},
			},
			{
				source: "testdata/federation/west/expose-services-gateway.yaml", kind: "Gateway",
				match: func(o map[string]any) bool { return dig(o, "spec", "selector") != nil },
				fields: map[string]any{
					"spec.selector.istio\\.io/gateway-name": "eastwestgateway",
					"spec.servers.0.port.number":            float64(15443),
					"spec.servers.0.port.name":              "tls",
					"spec.servers.0.port.protocol":          "TLS",
					"spec.servers.0.tls.mode":               "AUTO_PASSTHROUGH",
					"spec.servers.0.hosts":                  []any{"httpbin.a.svc.west-mesh-imports.local", "httpbin.b.svc.cluster.local"},
				},
			},
			{
				source: "testdata/federation/west/serviceentry-httpbin-a.yaml", kind: "ServiceEntry",
				match: hasHost("httpbin.a.svc.west-mesh-imports.local"),
				fields: map[string]any{
					"metadata.namespace":           "a", // federation_test.go:369 applies it in namespace a
					"spec.location":                "MESH_INTERNAL",
					"spec.resolution":              "STATIC",
					"spec.workloadSelector.labels": map[string]any{"app": "httpbin"},
					"spec.ports.0.number":          float64(8000),
					"spec.ports.0.name":            "http",
					"spec.ports.0.protocol":        "HTTP",
				},
				configured: map[string]string{"spec.ports.0.targetPort": "the test's httpbin listens on 8000; the guide's on 8080, which meshfed takes from the Service"},
			},
		},
		"guide-east": {
			{
				source: "testdata/federation/east/remote-gateway.yaml", kind: "Gateway",
				match: func(o map[string]any) bool { return dig(o, "spec", "gatewayClassName") == "istio-remote" },
				fields: map[string]any{
					"metadata.namespace":                            "istio-system", // federation_test.go:384
					"metadata.labels.topology\\.istio\\.io/network": "west-network",
					"spec.listeners.0.name":                         "cross-network",
					"spec.listeners.0.port":                         float64(15443),
					"spec.listeners.0.protocol":                     "TLS",
					"spec.listeners.0.tls.mode":                     "Passthrough",
					"spec.listeners.0.tls.options.gateway\\.istio\\.io/listener-protocol": "auto-passthrough",
				},
				configured: map[string]string{"spec.addresses": "the test's gateway address is an AWS hostname (type Hostname); the guide scenario's is an IP (type IPAddress)"},
			},
		},
	}
	for _, imp := range []struct{ host, sa, source string }{
		{"httpbin.a.svc.west-mesh-imports.local", "spiffe://west.local/ns/a/sa/httpbin", "testdata/federation/east/serviceentry-httpbin-a.yaml"},
		{"httpbin.b.svc.cluster.local", "spiffe://west.local/ns/b/sa/httpbin", "testdata/federation/east/serviceentry-httpbin-b.yaml"},
	} {
		cases["guide-east"] = append(cases["guide-east"], testedObject{
			source: imp.source, kind: "ServiceEntry", match: hasHost(imp.host),
			fields: map[string]any{
				// federation_test.go:389-390 applies both in istio-system.
				"metadata.namespace":   "istio-system",
				"spec.location":        "MESH_INTERNAL",
				"spec.resolution":      "STATIC",
				"spec.ports":           httpPort,
				"spec.subjectAltNames": []any{imp.sa},
			},
			configured: map[string]string{"spec.exportTo": "the test narrows it to [client] (MeshImport spec.exportTo)"},
		})
	}
	for name, objs := range cases {
		items := goldenItems(t, name)
		for _, want := range objs {
			var found []map[string]any
			for _, o := range items {
				if o["kind"] == want.kind && dig(o, "metadata", "labels", "app.kubernetes.io/managed-by") == "meshfed" && want.match(o) {
					found = append(found, o)
				}
			}
			if len(found) != 1 {
				t.Errorf("%s: want one generated %s like maistra-test-tool's %s, found %d", name, want.kind, want.source, len(found))
				continue
			}
			for path, v := range want.fields {
				if got := digPath(found[0], path); !reflect.DeepEqual(got, v) {
					t.Errorf("%s: %s like %s: %s = %v, the test applies %v", name, want.kind, want.source, path, got, v)
				}
			}
		}
	}

	// Each imported ServiceEntry's WorkloadEntry: tlsMode istio, the peer network
	// west-network (serviceentry-httpbin-{a,b}.yaml), no address.
	items := goldenItems(t, "guide-east")
	wes := 0
	for _, o := range items {
		if o["kind"] != "WorkloadEntry" {
			continue
		}
		wes++
		if dig(o, "metadata", "labels", "security.istio.io/tlsMode") != "istio" || dig(o, "spec", "network") != "west-network" || dig(o, "spec", "address") != nil {
			t.Errorf("WorkloadEntry %v: want tlsMode istio, network west-network, no address, as the test's", dig(o, "metadata", "name"))
		}
	}
	if wes != 2 {
		t.Errorf("guide-east: %d WorkloadEntries, the test applies 2", wes)
	}
}

// digPath follows a dotted path ("a.b.0.c"); "\." escapes a dot in a key.
func digPath(o any, path string) any {
	var keys []string
	cur := ""
	for i := 0; i < len(path); i++ {
		switch {
		case path[i] == '\\' && i+1 < len(path) && path[i+1] == '.':
			cur += "."
			i++
		case path[i] == '.':
			keys = append(keys, cur)
			cur = ""
		default:
			cur += string(path[i])
		}
	}
	keys = append(keys, cur)
	for _, k := range keys {
		switch v := o.(type) {
		case map[string]any:
			o = v[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(v) {
				return nil
			}
			o = v[i]
		default:
			return nil
		}
	}
	return o
}
