package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// A fleet is a random but valid pair of meshes for property tests: West
// exports N Services to East through an ExportedServiceSet (NameSelector
// and LabelSelector rules, random aliases) and East imports them through an
// ImportedServiceSet (namespace rules, domainSuffix, importAsLocal). The
// generator is seeded and deterministic, and it avoids, by construction,
// the inputs meshfed must reject (two exports to one host, hosts that are
// another Service's name): aliases are unique per service and importAsLocal
// lands either on the service's own name or in a namespace West does not
// use.
type fleet struct {
	services []fleetService
	exportRules,
	importRules []string // YAML list entries, in rule order
}

type fleetService struct {
	name, namespace, tier string
	namedTarget           bool // targetPort: http, resolved from the Deployment
	twoPorts              bool
}

const (
	fleetPeerE = "east-mesh" // West's name for East (P_E)
	fleetPeerI = "west-mesh" // East's name for West (P_I)
)

// newFleet generates a fleet of n services from seed.
func newFleet(seed uint64, n int) *fleet {
	r := rand.New(rand.NewPCG(seed, 0x6d657368666564))
	namespaces := []string{"shop", "pay", "search", "ops"}[:1+r.IntN(4)]
	f := &fleet{}
	for i := range n {
		name := fmt.Sprintf("svc-%d", i)
		if r.IntN(8) == 0 {
			// Long names: hosts beyond 63 characters must be hashed.
			name = fmt.Sprintf("%s-%d", strings.Repeat("long", 12), i)
		}
		f.services = append(f.services, fleetService{
			name:        name,
			namespace:   namespaces[r.IntN(len(namespaces))],
			tier:        []string{"front", "back"}[r.IntN(2)],
			namedTarget: r.IntN(2) == 0,
			twoPorts:    r.IntN(3) == 0,
		})
	}
	// Export rules, first match wins: a few single services with a unique
	// alias, a LabelSelector over one tier with aliases, whole namespaces.
	for _, i := range r.Perm(n)[:r.IntN(n/2+1)] {
		s := f.services[i]
		rule := fmt.Sprintf("- type: NameSelector\n  nameSelector:\n    namespace: %s\n    name: %s\n", s.namespace, s.name)
		switch r.IntN(3) {
		case 0:
			rule += fmt.Sprintf("    alias:\n      name: alias-%d\n", i)
		case 1:
			rule += fmt.Sprintf("    alias:\n      namespace: shared\n      name: shared-%d\n", i)
		}
		f.exportRules = append(f.exportRules, rule)
	}
	if r.IntN(2) == 0 {
		rule := fmt.Sprintf("- type: LabelSelector\n  labelSelector:\n    namespace: \"%s\"\n    selector:\n      matchLabels:\n        tier: front\n", []string{"", "*", namespaces[0]}[r.IntN(3)])
		var aliases []string
		for i, s := range f.services {
			if r.IntN(4) == 0 {
				aliases = append(aliases, fmt.Sprintf("    - namespace: %s\n      name: %s\n      alias:\n        name: front-%d\n", s.namespace, s.name, i))
			}
		}
		if len(aliases) > 0 {
			rule += "    aliases:\n" + strings.Join(aliases, "")
		}
		f.exportRules = append(f.exportRules, rule)
	}
	for _, ns := range namespaces {
		if r.IntN(4) != 0 {
			f.exportRules = append(f.exportRules, fmt.Sprintf("- type: NameSelector\n  nameSelector:\n    namespace: %s\n", ns))
		}
	}
	// Import rules over the exported namespaces (the originals and shared).
	for _, ns := range append([]string{"shared"}, namespaces...) {
		switch r.IntN(5) {
		case 0: // skipped: not imported
		case 1:
			f.importRules = append(f.importRules, fmt.Sprintf("- type: NameSelector\n  nameSelector:\n    namespace: %s\n", ns))
		case 2:
			f.importRules = append(f.importRules, fmt.Sprintf("- type: NameSelector\n  domainSuffix: fed.example.com\n  nameSelector:\n    namespace: %s\n", ns))
		case 3: // importAsLocal under its own name: East aggregates with a local twin
			f.importRules = append(f.importRules, fmt.Sprintf("- type: NameSelector\n  importAsLocal: true\n  nameSelector:\n    namespace: %s\n    alias:\n      namespace: %s\n", ns, ns))
		case 4: // importAsLocal into a namespace West does not have
			f.importRules = append(f.importRules, fmt.Sprintf("- type: NameSelector\n  importAsLocal: true\n  nameSelector:\n    namespace: %s\n    alias:\n      namespace: remote-%s\n", ns, ns))
		}
	}
	if r.IntN(2) == 0 {
		f.importRules = append(f.importRules, "- type: NameSelector\n  nameSelector:\n    namespace: \"*\"\n")
	}
	return f
}

// serviceDocs are a mesh's Services and Deployments; peer, when set, marks
// them as the peer's reference data.
func (f *fleet) serviceDocs(peer string) []string {
	var docs []string
	for _, s := range f.services {
		target := "8080"
		if s.namedTarget {
			target = "http"
		}
		ports := fmt.Sprintf("  - name: http\n    port: 8000\n    targetPort: %s\n", target)
		if s.twoPorts {
			ports += "  - name: grpc-admin\n    port: 9000\n    targetPort: 9090\n"
		}
		docs = append(docs,
			fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\n  labels:\n    tier: %s\n%sspec:\n  selector:\n    app: %s\n  ports:\n%s", s.name, s.namespace, s.tier, peerAnnotations(peer), s.name, ports),
			fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n  namespace: %s\n%sspec:\n  template:\n    metadata:\n      labels:\n        app: %s\n    spec:\n      serviceAccountName: %s-sa\n      containers:\n      - name: app\n        image: example.com/app:1 # pinned by digest in real life\n        ports:\n        - name: http\n          containerPort: 8080\n", s.name, s.namespace, peerAnnotations(peer), s.name, s.name),
		)
	}
	return docs
}

func peerAnnotations(peer string) string {
	if peer == "" {
		return ""
	}
	return fmt.Sprintf("  annotations:\n    meshfed.dev/peer: %s\n    config.kubernetes.io/local-config: \"true\"\n", peer)
}

func (f *fleet) exportSet(peer string) string {
	return fmt.Sprintf("apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata:\n  name: %s\n  namespace: istio-system\n%sspec:\n%s", fleetPeerE, peerAnnotations(peer), rulesField("exportRules", f.exportRules))
}

func (f *fleet) importSet(peer string) string {
	return fmt.Sprintf("apiVersion: federation.maistra.io/v1\nkind: ImportedServiceSet\nmetadata:\n  name: %s\n  namespace: istio-system\n%sspec:\n%s", fleetPeerI, peerAnnotations(peer), rulesField("importRules", f.importRules))
}

// rulesField writes spec.<name>: the rules as a block list, or [] (a
// generated fleet can have none).
func rulesField(name string, rules []string) string {
	if len(rules) == 0 {
		return "  " + name + ": []\n"
	}
	return "  " + name + ":\n" + indent(rules)
}

func indent(rules []string) string {
	var b strings.Builder
	for _, r := range rules {
		for _, l := range strings.SplitAfter(r, "\n") {
			if l != "" {
				b.WriteString("  " + l)
			}
		}
	}
	return b.String()
}

// unrelated is an item meshfed must pass through untouched, comments and
// all.
const unrelated = "# kept as written\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings # trailing comment\n  namespace: ops\ndata:\n  key: \"value\"\n"

// west is the exporting cluster's input documents.
func (f *fleet) west() []string {
	docs := []string{
		"apiVersion: meshfed.dev/v1alpha1\nkind: MeshExport\nmetadata:\n  name: west\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\nspec:\n  network: west-network\n",
		f.exportSet(""),
		f.importSet(fleetPeerE),
		unrelated,
	}
	return append(docs, f.serviceDocs("")...)
}

// east is the importing cluster's input documents.
func (f *fleet) east() []string {
	docs := []string{
		"apiVersion: meshfed.dev/v1alpha1\nkind: MeshImport\nmetadata:\n  name: east\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\nspec:\n  network: network-east-mesh\n  peers:\n  - name: west-mesh\n    network: west-network\n    gateway:\n      address: 203.0.113.10\n",
		"apiVersion: federation.maistra.io/v1\nkind: ServiceMeshPeer\nmetadata:\n  name: west-mesh\n  namespace: istio-system\nspec:\n  security:\n    trustDomain: west.local\n",
		f.importSet(""),
		f.exportSet(fleetPeerI),
		unrelated,
	}
	return append(docs, f.serviceDocs(fleetPeerI)...)
}

// resourceList wraps documents into the ResourceList an orchestrator sends,
// each item with the file bookkeeping kpt adds.
func resourceList(t *testing.T, docs []string) []byte {
	t.Helper()
	var nodes []*yaml.RNode
	for i, d := range docs {
		n, err := yaml.Parse(d)
		if err != nil {
			t.Fatalf("generator wrote invalid YAML: %v\n%s", err, d)
		}
		for k, v := range map[string]string{
			"internal.config.kubernetes.io/path":  fmt.Sprintf("doc-%d.yaml", i),
			"internal.config.kubernetes.io/index": "0",
		} {
			if err := n.PipeE(yaml.SetAnnotation(k, v)); err != nil {
				t.Fatal(err)
			}
		}
		nodes = append(nodes, n)
	}
	var buf bytes.Buffer
	w := kio.ByteWriter{Writer: &buf, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion, KeepReaderAnnotations: true}
	if err := w.Write(nodes); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFleetGeneratorIsDeterministic(t *testing.T) {
	a, b := newFleet(7, 12), newFleet(7, 12)
	if strings.Join(a.west(), "---\n") != strings.Join(b.west(), "---\n") || strings.Join(a.east(), "---\n") != strings.Join(b.east(), "---\n") {
		t.Fatal("the same seed gave two fleets")
	}
}
