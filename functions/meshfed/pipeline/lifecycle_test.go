package pipeline

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	k8syaml "sigs.k8s.io/yaml"
)

// processYAML runs meshfed on a ResourceList given as items (YAML
// documents) and a functionConfig.
func processYAML(t *testing.T, functionConfig string, items ...string) *kfn.ResourceList {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n")
	b.WriteString(indent(functionConfig, "  "))
	b.WriteString("items:\n")
	for _, it := range items {
		b.WriteString("- " + strings.TrimPrefix(indent(it, "  "), "  "))
	}
	rl, err := kfn.ParseResourceList([]byte(b.String()))
	if err != nil {
		t.Fatalf("parsing the test's ResourceList: %v\n%s", err, b.String())
	}
	Process(rl)
	return rl
}

func indent(s, by string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(strings.TrimLeft(s, "\n"), "\n"), "\n") {
		b.WriteString(by + line + "\n")
	}
	return b.String()
}

// results returns the messages of one severity ("error", "warning", "info"),
// each prefixed with its field when it has one.
func results(rl *kfn.ResourceList, severity string) []string {
	var out []string
	for _, r := range rl.Results {
		if string(r.Severity) != severity {
			continue
		}
		msg := r.Message
		if r.Field != nil && r.Field.Path != "" {
			msg = r.Field.Path + ": " + msg
		}
		out = append(out, msg)
	}
	return out
}

func findResult(t *testing.T, rl *kfn.ResourceList, severity, substring string) string {
	t.Helper()
	for _, m := range results(rl, severity) {
		if strings.Contains(m, substring) {
			return m
		}
	}
	t.Fatalf("no %s result containing %q; %s results: %q", severity, substring, severity, results(rl, severity))
	return ""
}

func noResult(t *testing.T, rl *kfn.ResourceList, severity, substring string) {
	t.Helper()
	for _, m := range results(rl, severity) {
		if strings.Contains(m, substring) {
			t.Fatalf("unexpected %s result: %s", severity, m)
		}
	}
}

func itemNamed(t *testing.T, rl *kfn.ResourceList, kind, name string) map[string]any {
	t.Helper()
	for _, o := range rl.Items {
		if o.GetKind() == kind && o.GetName() == name {
			var m map[string]any
			if err := k8syaml.Unmarshal([]byte(o.String()), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no %s %s among the items", kind, name)
	return nil
}

func at(m map[string]any, fields ...string) any {
	var cur any = m
	for _, f := range fields {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[f]
	}
	return cur
}

// The guide's East importer, as small as it gets: the ServiceMeshPeer
// gives the trust domain, an explicit import stands for the rules.
const (
	eastImport = `
apiVersion: meshfed.dev/v1alpha1
kind: MeshImport
metadata: {name: east}
spec:
  network: network-east-mesh
  peers:
  - name: west-mesh
    network: west-network
    gateway: {address: 203.0.113.10}
    services:
    - host: httpbin.a.svc.west-mesh-imports.local
      ports: [{number: 8000, name: http, protocol: HTTP}]
      serviceAccount: a/httpbin
`
	eastPeer = `
apiVersion: federation.maistra.io/v1
kind: ServiceMeshPeer
metadata: {name: west-mesh, namespace: istio-system}
spec:
  security:
    trustDomain: west.local
    certificateChain: {kind: ConfigMap, name: west-mesh-ca-root-cert}
`
	westRoot = `
apiVersion: v1
kind: ConfigMap
metadata: {name: west-mesh-ca-root-cert, namespace: istio-system}
data:
  root-cert.pem: |
    -----BEGIN CERTIFICATE-----
    West
    -----END CERTIFICATE-----
`
	eastSMCP = `
apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec:
  version: v2.6
  security:
    trust: {domain: east.local}
`
	eastIstio = `
apiVersion: sailoperator.io/v1
kind: Istio
metadata: {name: default}
spec:
  namespace: istio-system
  version: v1.24-latest
`
)

var patchArgument = regexp.MustCompile(`kubectl patch (smcp|istio) [^']*-p '([^']*)'`)

// printedPatches returns the merge patches of the info result meshfed
// prints when no control plane is among the items, by kind.
func printedPatches(t *testing.T, rl *kfn.ResourceList) map[string]map[string]any {
	t.Helper()
	msg := findResult(t, rl, "info", "kubectl patch smcp")
	out := map[string]map[string]any{}
	for _, m := range patchArgument.FindAllStringSubmatch(msg, -1) {
		var patch map[string]any
		if err := json.Unmarshal([]byte(m[2]), &patch); err != nil {
			t.Fatalf("the printed %s patch is not JSON: %v: %s", m[1], err, m[2])
		}
		out[m[1]] = patch
	}
	return out
}

// For the guide's East cluster, the printed SMCP patch is the guide's
// "Configure control plane" patch for East, field for field: the same patch
// maistra-test-tool applies (pkg/tests/tasks/migration/federation_test.go
// configureSMCPForMigration, lines 325-356, with "west.local" and
// "network-east-mesh", line 355).
func TestPrintedSMCPPatchIsTheGuides(t *testing.T) {
	const guideEast = `{
	  "spec": {
	    "techPreview": {"meshConfig": {"trustDomainAliases": ["west.local"]}},
	    "runtime": {"components": {"pilot": {"container": {"env": {"PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API": "true"}}}}},
	    "cluster": {"network": "network-east-mesh"},
	    "security": {"manageNetworkPolicy": false}
	  }
	}`
	var want map[string]any
	if err := json.Unmarshal([]byte(guideEast), &want); err != nil {
		t.Fatal(err)
	}
	rl := processYAML(t, eastImport, eastPeer)
	got := printedPatches(t, rl)["smcp"]
	if !reflect.DeepEqual(got, want) {
		t.Errorf("printed SMCP patch\n%v\nwant the guide's\n%v", got, want)
	}
}

// The OSSM 3 Istio that maistra-test-tool installs on East
// (pkg/tests/tasks/migration/testdata/federation/east/istio.yaml) has, in
// spec.values, everything meshfed sets; meshfed sets all of it except
// accessLogFile (a logging choice of the test).
func TestSailIstioGetsTheTestedMigrationsValues(t *testing.T) {
	const testedEast = `
meshConfig:
  defaultConfig:
    proxyMetadata:
      ISTIO_META_DNS_CAPTURE: "true"
      PROXY_CONFIG_XDS_AGENT: "true"
  caCertificates:
  - pem: |
      -----BEGIN CERTIFICATE-----
      West
      -----END CERTIFICATE-----
  trustDomain: east.local
  trustDomainAliases:
  - west.local
pilot:
  env:
    ISTIO_MULTIROOT_MESH: "true"
    PILOT_ENABLE_IP_AUTOALLOCATE: "true"
global:
  network: network-east-mesh
`
	var want map[string]any
	if err := k8syaml.Unmarshal([]byte(testedEast), &want); err != nil {
		t.Fatal(err)
	}
	rl := processYAML(t, eastImport, eastPeer, westRoot, eastSMCP, eastIstio)
	if errs := results(rl, "error"); len(errs) > 0 {
		t.Fatalf("errors: %q", errs)
	}
	got := at(itemNamed(t, rl, "Istio", "default"), "spec", "values")
	if !reflect.DeepEqual(got, any(want)) {
		t.Errorf("Istio spec.values\n%v\nwant the tested migration's\n%v", got, want)
	}
	noResult(t, rl, "warning", "")

	// The printed Istio patch (no control plane among the items) carries
	// the same values but the trust domain, which only an SMCP names.
	printed := printedPatches(t, processYAML(t, eastImport, eastPeer, westRoot))["istio"]
	delete(at(want, "meshConfig").(map[string]any), "trustDomain")
	if got := at(printed, "spec", "values"); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("printed Istio patch values\n%v\nwant\n%v", got, want)
	}
}

// PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API is on by default from Istio 1.23
// (istio/istio release-1.23 and release-1.24 pilot/pkg/features/pilot.go:180;
// off in release-1.22 pilot/pkg/features/pilot.go:172), and the tested
// migration's OSSM 3 Istio does not set it: meshfed sets it on the OSSM 2.6
// SMCP (its istiod is older) and on an Istio older than 1.23 only, and
// warns about an explicit "false".
func TestMultiNetworkGatewayAPIOnlyWhereNeeded(t *testing.T) {
	cases := []struct {
		name, istio string
		want        any // the env value after meshfed, nil for absent
		warning     bool
	}{
		{"v1.24 leaves it to the default", eastIstio, nil, false},
		{"no version: the operator's current Istio", "apiVersion: sailoperator.io/v1\nkind: Istio\nmetadata: {name: default}\nspec: {}\n", nil, false},
		{"v1.22 needs it", "apiVersion: sailoperator.io/v1\nkind: Istio\nmetadata: {name: default}\nspec: {version: v1.22.5}\n", "true", false},
		{"explicit false is a conflict", "apiVersion: sailoperator.io/v1\nkind: Istio\nmetadata: {name: default}\nspec:\n  version: v1.24.3\n  values: {pilot: {env: {PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API: \"false\"}}}\n", "false", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rl := processYAML(t, eastImport, eastPeer, c.istio)
			got := at(itemNamed(t, rl, "Istio", "default"), "spec", "values", "pilot", "env", "PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API")
			if got != c.want {
				t.Errorf("PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API = %v, want %v", got, c.want)
			}
			if c.warning {
				findResult(t, rl, "warning", "spec.values.pilot.env.PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API: is \"false\"")
			} else {
				noResult(t, rl, "warning", "PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API")
			}
		})
	}
}

// Existing control-plane values are kept; one that conflicts with what the
// migration needs is a warning naming the field and both values.
func TestConflictingControlPlaneValuesAreKeptWithAWarning(t *testing.T) {
	smcp := `
apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec:
  cluster: {network: other-network}
  security: {manageNetworkPolicy: true, trust: {domain: east.local}}
  proxy:
    runtime: {container: {env: {ISTIO_META_DNS_CAPTURE: "false"}}}
  techPreview:
    meshConfig: {defaultConfig: {proxyMetadata: {ISTIO_META_DNS_AUTO_ALLOCATE: "false"}}}
`
	istio := `
apiVersion: sailoperator.io/v1
kind: Istio
metadata: {name: default}
spec:
  values:
    meshConfig:
      trustDomain: other.local
      defaultConfig: {proxyMetadata: {ISTIO_META_DNS_CAPTURE: true}}
    pilot: {env: {PILOT_ENABLE_IP_AUTOALLOCATE: "false"}}
`
	rl := processYAML(t, eastImport, eastPeer, smcp, istio)
	for _, w := range []string{
		`spec.cluster.network: is "other-network", but the migration needs "network-east-mesh"`,
		`spec.security.manageNetworkPolicy: is true, but the migration needs false`,
		`spec.proxy.runtime.container.env.ISTIO_META_DNS_CAPTURE: is "false", which turns off what OSSM 2.6 enables by default`,
		`spec.techPreview.meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE: is "false"`,
		`spec.values.meshConfig.trustDomain: is "other.local", but the migration needs "east.local"`,
		// A bool where the CRD wants the string "true".
		`spec.values.meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE: is true, but the migration needs "true" (a string)`,
		`spec.values.pilot.env.PILOT_ENABLE_IP_AUTOALLOCATE: is "false", but the migration needs "true"`,
	} {
		findResult(t, rl, "warning", w)
	}
	s := itemNamed(t, rl, "ServiceMeshControlPlane", "basic")
	if at(s, "spec", "cluster", "network") != "other-network" || at(s, "spec", "security", "manageNetworkPolicy") != true {
		t.Errorf("existing SMCP values changed: %v", s["spec"])
	}
	i := itemNamed(t, rl, "Istio", "default")
	if at(i, "spec", "values", "pilot", "env", "PILOT_ENABLE_IP_AUTOALLOCATE") != "false" || at(i, "spec", "values", "meshConfig", "trustDomain") != "other.local" {
		t.Errorf("existing Istio values changed: %v", i["spec"])
	}
	// Values that do not conflict are still set.
	if at(i, "spec", "values", "global", "network") != "network-east-mesh" {
		t.Errorf("Istio global.network not set: %v", i["spec"])
	}
}

// MeshImport spec.network: required unless a MeshExport in the same step or
// a control plane among the items names the network; never a peer's.
func TestMeshImportNetwork(t *testing.T) {
	withoutNetwork := strings.Replace(eastImport, "  network: network-east-mesh\n", "", 1)
	t.Run("required", func(t *testing.T) {
		rl := processYAML(t, withoutNetwork, eastPeer)
		findResult(t, rl, "error", "spec.network: is required: set it to this cluster's own network name")
		if len(rl.Items) != 1 {
			t.Errorf("items changed on error: %d items", len(rl.Items))
		}
	})
	t.Run("from the control plane", func(t *testing.T) {
		smcp := eastSMCP + "  cluster: {network: network-east-mesh}\n"
		rl := processYAML(t, withoutNetwork, eastPeer, smcp, eastIstio)
		if errs := results(rl, "error"); len(errs) > 0 {
			t.Fatalf("errors: %q", errs)
		}
		if got := at(itemNamed(t, rl, "Istio", "default"), "spec", "values", "global", "network"); got != "network-east-mesh" {
			t.Errorf("Istio values.global.network = %v, want the SMCP's", got)
		}
	})
	t.Run("from a MeshExport in the same step", func(t *testing.T) {
		export := "apiVersion: meshfed.dev/v1alpha1\nkind: MeshExport\nmetadata:\n  name: east\n  annotations: {config.kubernetes.io/local-config: \"true\"}\nspec: {network: network-east-mesh}\n"
		rl := processYAML(t, withoutNetwork, eastPeer, export)
		if errs := results(rl, "error"); len(errs) > 0 {
			t.Fatalf("errors: %q", errs)
		}
		if got := at(printedPatches(t, rl)["smcp"], "spec", "cluster", "network"); got != "network-east-mesh" {
			t.Errorf("printed spec.cluster.network = %v", got)
		}
	})
	t.Run("two different networks", func(t *testing.T) {
		export := "apiVersion: meshfed.dev/v1alpha1\nkind: MeshExport\nmetadata:\n  name: east\n  annotations: {config.kubernetes.io/local-config: \"true\"}\nspec: {network: east-network}\n"
		rl := processYAML(t, eastImport, eastPeer, export)
		findResult(t, rl, "error", `this cluster's network is given twice with different values: "east-network" by MeshExport/east spec.network and "network-east-mesh" here`)
	})
	t.Run("a peer's network", func(t *testing.T) {
		rl := processYAML(t, strings.Replace(eastImport, "network: network-east-mesh", "network: west-network", 1), eastPeer)
		findResult(t, rl, "error", `spec.peers[0].network: "west-network" is also this cluster's own network`)
	})
	t.Run("federation's network for a peer", func(t *testing.T) {
		rl := processYAML(t, strings.Replace(eastImport, "network: network-east-mesh", "network: network-west-mesh", 1), eastPeer)
		findResult(t, rl, "error", `this cluster's network "network-west-mesh" (MeshImport/east spec.network) is the network OSSM 2 federation gives peer "west-mesh"`)
	})
}

// What maistra-test-tool's migration still does by hand, as exact commands
// (pkg/tests/tasks/migration/federation_test.go): restart the clients
// after the new objects are applied (lines 185-188), and after Cutover
// relabel each namespace (maistraIgnoreLabel, main_test.go:34, with
// istio-injection- and istio.io/rev=<status.activeRevisionName>, lines
// 439-466), restart its workloads, and label the east-west Gateway itself
// (lines 468-471).
func TestAfterApplyCommands(t *testing.T) {
	client := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: sleep, namespace: client}
spec:
  template:
    metadata: {labels: {app: sleep}}
    spec: {serviceAccountName: sleep, containers: [{name: sleep, image: curl}]}
`
	t.Run("Coexist: restart the clients", func(t *testing.T) {
		rl := processYAML(t, eastImport, eastPeer, client)
		findResult(t, rl, "info", "spec.phase: after applying, restart the client workloads so that their proxies get the new ServiceEntries' endpoints (while the federation registry also has these hosts, they may not be pushed otherwise), then check the imported hosts answer: kubectl rollout restart deployment -n client")
		noResult(t, rl, "info", "after Cutover")
	})
	t.Run("Cutover: move to the revision", func(t *testing.T) {
		cutover := strings.Replace(eastImport, "spec:\n", "spec:\n  phase: Cutover\n", 1)
		export := "apiVersion: meshfed.dev/v1alpha1\nkind: MeshExport\nmetadata:\n  name: east\n  annotations: {config.kubernetes.io/local-config: \"true\"}\nspec:\n  network: network-east-mesh\n  phase: Cutover\n  gateway: {namespace: istio-ingress}\n"
		rl := processYAML(t, cutover, eastPeer, client, eastIstio, export)
		if errs := results(rl, "error"); len(errs) > 0 {
			t.Fatalf("errors: %q", errs)
		}
		want := "REV=$(kubectl get istio default -o jsonpath='{.status.activeRevisionName}'); " +
			"kubectl label namespace client maistra.io/ignore-namespace=true istio-injection- istio.io/rev=$REV --overwrite; " +
			"kubectl rollout restart deployment -n client; " +
			"kubectl label gateways.gateway.networking.k8s.io eastwestgateway -n istio-ingress istio.io/rev=$REV maistra.io/ignore=true --overwrite"
		for _, m := range results(rl, "info") {
			if strings.Contains(m, "after Cutover is applied") && !strings.HasSuffix(m, ": "+want) {
				t.Errorf("commands:\n%s\nwant them to end with\n%s", m, want)
			}
		}
		findResult(t, rl, "info", want)
		noResult(t, rl, "info", "after applying, restart the client workloads")
	})
}
