package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// kustomizeBuild is the command the samples document. kubectl's built-in
// kustomize has no --enable-exec and cannot run them.
var kustomizeBuild = []string{"build", "--enable-alpha-plugins", "--enable-exec", "."}

// sample is one folder of kustomization-samples/ and what its build must
// contain besides its golden output.
type sample struct {
	name       string
	peerPrefix string   // namePrefix of the peer kustomization, if any
	generated  []string // every object meshfed generates, "Kind ns/name", sorted
	check      func(t *testing.T, objs []*yaml.RNode)
}

var importedByEast = []string{
	"Gateway istio-system/remote-gateway-west-mesh",
	"ServiceEntry istio-system/httpbin-a-svc-west-mesh-imports-local",
	"ServiceEntry istio-system/httpbin-b-svc-cluster-local",
	"WorkloadEntry istio-system/httpbin-a-svc-west-mesh-imports-local",
	"WorkloadEntry istio-system/httpbin-b-svc-cluster-local",
}

// checkEastImports checks the guide's East side: the remote gateway, and
// the importAsLocal ServiceEntry and WorkloadEntry in istio-system, since
// East has no namespace b (as maistra-test-tool's migration places them).
func checkEastImports(t *testing.T, objs []*yaml.RNode) {
	gw := find(t, objs, "gateway.networking.k8s.io/v1", "Gateway", "istio-system", "remote-gateway-west-mesh")
	wantField(t, gw, []string{"istio-remote"}, "spec", "gatewayClassName")
	wantField(t, gw, []string{"203.0.113.10"}, "spec", "addresses", "[type=IPAddress]", "value")
	local := find(t, objs, "networking.istio.io/v1", "ServiceEntry", "istio-system", "httpbin-b-svc-cluster-local")
	wantField(t, local, []string{"httpbin.b.svc.cluster.local"}, "spec", "hosts")
	wantField(t, local, []string{"spiffe://west.local/ns/b/sa/httpbin"}, "spec", "subjectAltNames")
	we := find(t, objs, "networking.istio.io/v1", "WorkloadEntry", "istio-system", "httpbin-b-svc-cluster-local")
	wantField(t, we, []string{"west-network"}, "spec", "network")
	imported := find(t, objs, "networking.istio.io/v1", "ServiceEntry", "istio-system", "httpbin-a-svc-west-mesh-imports-local")
	wantField(t, imported, []string{"httpbin.a.svc.west-mesh-imports.local"}, "spec", "hosts")
	wantField(t, imported, []string{"spiffe://west.local/ns/a/sa/httpbin"}, "spec", "subjectAltNames")
}

var samples = []sample{
	{
		name: "west",
		generated: []string{
			"Gateway istio-system/eastwestgateway",
			"Gateway istio-system/eastwestgateway-exposed-hosts",
			"ServiceEntry a/httpbin-a-svc-west-mesh-imports-local",
		},
		check: func(t *testing.T, objs []*yaml.RNode) {
			hosts := find(t, objs, "networking.istio.io/v1", "Gateway", "istio-system", "eastwestgateway-exposed-hosts")
			// The hosts East's clients dial, from East's ImportedServiceSet
			// (a peer item): a under west-mesh-imports.local, b importAsLocal.
			wantField(t, hosts, []string{"httpbin.a.svc.west-mesh-imports.local", "httpbin.b.svc.cluster.local"}, "spec", "servers", "0", "hosts")
			ew := find(t, objs, "gateway.networking.k8s.io/v1", "Gateway", "istio-system", "eastwestgateway")
			wantField(t, ew, []string{"west-network"}, "metadata", "labels", "topology.istio.io/network")
			// East's ImportedServiceSet is reference data only.
			if n := count(objs, "ImportedServiceSet", "istio-system", "west-mesh"); n != 0 {
				t.Errorf("the peer's ImportedServiceSet reached the output (%d)", n)
			}
		},
	},
	{name: "east", generated: importedByEast, check: checkEastImports},
	{
		// DESIGN §7: phase Cutover reproduces the guide's "Remove
		// federation-related resources" and "Remove federation gateways".
		name: "west-cutover",
		generated: []string{
			"Gateway istio-system/eastwestgateway",
			"Gateway istio-system/eastwestgateway-exposed-hosts",
			"ServiceEntry a/httpbin-a-svc-west-mesh-imports-local",
		},
		check: func(t *testing.T, objs []*yaml.RNode) {
			for _, kind := range []string{"ServiceMeshPeer", "ExportedServiceSet", "ImportedServiceSet"} {
				for _, o := range objs {
					if o.GetKind() == kind {
						t.Errorf("%s %s/%s is still in the output after Cutover", kind, o.GetNamespace(), o.GetName())
					}
				}
			}
			smcp := find(t, objs, "maistra.io/v2", "ServiceMeshControlPlane", "istio-system", "basic")
			for _, gw := range []string{"additionalIngress", "additionalEgress"} {
				if f, err := smcp.Pipe(yaml.Lookup("spec", "gateways", gw)); err != nil || f != nil {
					t.Errorf("spec.gateways.%s is still in the ServiceMeshControlPlane after Cutover", gw)
				}
			}
			// The guide's "Configure control plane" patch.
			wantField(t, smcp, []string{"legacy.local", "east.local"}, "spec", "techPreview", "meshConfig", "trustDomainAliases")
			wantField(t, smcp, []string{"true"}, "spec", "runtime", "components", "pilot", "container", "env", "PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API")
			wantField(t, smcp, []string{"west-network"}, "spec", "cluster", "network")
			wantField(t, smcp, []string{"false"}, "spec", "security", "manageNetworkPolicy")
		},
	},

	{
		name:       "shared-ids",
		peerPrefix: "peer-west-mesh-",
		generated:  importedByEast,
		check: func(t *testing.T, objs []*yaml.RNode) {
			checkEastImports(t, objs)
			// The IDs both meshes share: only East's own objects come out.
			if n := count(objs, "ServiceMeshControlPlane", "istio-system", "basic"); n != 1 {
				t.Errorf("%d ServiceMeshControlPlane istio-system/basic in the output, want East's only", n)
			}
			smcp := find(t, objs, "maistra.io/v2", "ServiceMeshControlPlane", "istio-system", "basic")
			wantField(t, smcp, []string{"east.local"}, "spec", "security", "trustDomain")
			// DESIGN §5: East's own control plane, not West's copy, is patched.
			wantField(t, smcp, []string{"west.local"}, "spec", "techPreview", "meshConfig", "trustDomainAliases")
			if n := count(objs, "Service", "a", "httpbin"); n != 1 {
				t.Errorf("%d Service a/httpbin in the output, want East's only", n)
			}
		},
	},
}

func TestKustomizeSamples(t *testing.T) {
	requireKustomize(t)
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(repoRoot, "kustomization-samples", s.name)
			first := run(t, dir, nil, "kustomize", kustomizeBuild...)
			if first.code != 0 {
				t.Fatalf("kustomize build exited %d:\n%s", first.code, first.stderr)
			}
			compareGolden(t, filepath.Join("testdata", "kustomize", s.name+".yaml"), first.stdout)

			objs := parseObjects(t, first.stdout)
			got := generated(objs)
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(s.generated, "\n") {
				t.Errorf("generated objects:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(s.generated, "\n  "))
			}
			assertNoPeerItems(t, objs, s.peerPrefix)
			s.check(t, objs)

			second := run(t, dir, nil, "kustomize", kustomizeBuild...)
			if second.code != 0 || second.stdout != first.stdout {
				t.Errorf("a second build differs from the first (exit %d):\n%s", second.code, lineDiff(first.stdout, second.stdout))
			}
		})
	}
}

// TestKustomizeSharedIDsNeedPrefix shows why the shared-ids sample's peer
// kustomization sets namePrefix: without it kustomize itself rejects the
// peer's copies of East's IDs before meshfed runs.
func TestKustomizeSharedIDsNeedPrefix(t *testing.T) {
	requireKustomize(t)
	dir := filepath.Join(t.TempDir(), "shared-ids")
	copyDir(t, filepath.Join(repoRoot, "kustomization-samples", "shared-ids"), dir)
	editFile(t, filepath.Join(dir, "peer-west-mesh", "kustomization.yaml"), "namePrefix: peer-west-mesh-\n", "")
	r := run(t, dir, nil, "kustomize", kustomizeBuild...)
	if r.code == 0 || !strings.Contains(r.stderr, "already registered id") {
		t.Fatalf("without namePrefix: exit %d, stderr %q; want kustomize's \"already registered id\" error", r.code, r.stderr)
	}
}

// failureCases break a copy of the east sample; kustomize must fail with
// meshfed's own message on stderr (kustomize never shows KRM results).
var failureCases = []struct {
	name, file, old, new, wantStderr string
}{
	{
		name: "peer network equal to federation's",
		file: "meshimport.yaml", old: "network: west-network", new: "network: network-west-mesh",
		wantStderr: `MeshImport/east spec.peers[0].network: must differ from "network-west-mesh"`,
	},
	{
		name: "peer items not local-config",
		file: "peer-west-mesh/kustomization.yaml", old: "  config.kubernetes.io/local-config: \"true\"\n", new: "",
		wantStderr: `must also be annotated config.kubernetes.io/local-config: "true"`,
	},
}

func TestKustomizeFailure(t *testing.T) {
	requireKustomize(t)
	for _, c := range failureCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "east")
			copyDir(t, filepath.Join(repoRoot, "kustomization-samples", "east"), dir)
			editFile(t, filepath.Join(dir, c.file), c.old, c.new)
			r := run(t, dir, nil, "kustomize", kustomizeBuild...)
			if r.code == 0 {
				t.Fatalf("kustomize build succeeded with a bad config; output:\n%s", r.stdout)
			}
			if !strings.Contains(r.stderr, c.wantStderr) {
				t.Errorf("stderr does not show meshfed's message %q:\n%s", c.wantStderr, r.stderr)
			}
			if strings.TrimSpace(r.stdout) != "" {
				t.Errorf("failed build printed output:\n%s", r.stdout)
			}
		})
	}
}

// editFile replaces old (which must occur) by new in a file.
func editFile(t *testing.T, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
