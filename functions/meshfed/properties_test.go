package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/pipeline"
	"github.com/meshfed/meshfed/functions/meshfed/render"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Property tests over generated fleets (fleet_test.go): for every seed,
// both clusters, the whole function through the real edge.
const (
	fleetSeeds    = 10 // fleets per run; the seeds are fixed, so failures reproduce
	fleetShuffles = 2  // random orders of the items per fleet
)

func TestFleetProperties(t *testing.T) {
	for seed := uint64(1); seed <= fleetSeeds; seed++ {
		f := newFleet(seed, 4+int(seed%5)*4)
		for _, side := range []struct {
			name string
			docs []string
		}{{"west", f.west()}, {"east", f.east()}} {
			t.Run(fmt.Sprintf("seed-%d/%s", seed, side.name), func(t *testing.T) {
				checkFleetProperties(t, seed, side.docs)
			})
		}
	}
}

func checkFleetProperties(t *testing.T, seed uint64, docs []string) {
	input := resourceList(t, docs)
	out, stderr, code := runFleet(t, input)
	if code != 0 {
		t.Fatalf("the generator made an input meshfed rejects (a generator bug or a meshfed bug):\n%s\n--- input:\n%s", stderr, input)
	}
	items := parseItems(t, out)
	generated := checkGenerated(t, items)
	if len(generated) == 0 {
		t.Fatal("nothing generated")
	}

	// Input items not meant to change come out byte-identical (as kyaml
	// prints them, comments included), in their original order.
	var kept []string
	for _, n := range items {
		if !isGenerated(n) {
			kept = append(kept, nodeString(t, n))
		}
	}
	if a, b := strings.Join(itemStrings(t, input), "---\n"), strings.Join(kept, "---\n"); a != b {
		t.Errorf("input items changed:\n%s", diffLines(a, b))
	}

	// Running on its own output changes nothing.
	again, stderr, code := runFleet(t, out)
	if code != 0 {
		t.Fatalf("second run failed:\n%s", stderr)
	}
	if a, b := strings.Join(itemStrings(t, out), "---\n"), strings.Join(itemStrings(t, again), "---\n"); a != b {
		t.Errorf("running on its own output changed the items:\n%s", diffLines(a, b))
	}

	// Any order of the items gives the same generated objects.
	want := sortedGenerated(t, items)
	r := rand.New(rand.NewPCG(seed, 42))
	for i := 0; i < fleetShuffles; i++ {
		shuffled := append([]string(nil), docs...)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		out2, stderr, code := runFleet(t, resourceList(t, shuffled))
		if code != 0 {
			t.Fatalf("shuffled input failed:\n%s", stderr)
		}
		if got := sortedGenerated(t, parseItems(t, out2)); got != want {
			t.Errorf("shuffle %d changed the generated objects:\n%s", i, diffLines(want, got))
		}
	}
}

// checkGenerated checks the properties of the output objects and returns
// the generated ones: unique IDs, valid DNS-1123 names of at most 63
// characters, subjectAltNames on every imported ServiceEntry, no wildcard
// in the exposed host list, WorkloadEntries only with tlsMode istio.
func checkGenerated(t *testing.T, items []*yaml.RNode) []*yaml.RNode {
	t.Helper()
	seen := map[fn.ObjectID]bool{}
	var generated []*yaml.RNode
	for _, n := range items {
		gv := strings.Split(n.GetApiVersion(), "/")
		id := fn.ObjectID{Kind: n.GetKind(), Namespace: n.GetNamespace(), Name: n.GetName()}
		if len(gv) == 2 {
			id.Group = gv[0]
		}
		if seen[id] {
			t.Errorf("two output objects share the ID %+v", id)
		}
		seen[id] = true
		if !isGenerated(n) {
			continue
		}
		generated = append(generated, n)
		if errs := validation.IsDNS1123Label(n.GetName()); errs != nil {
			t.Errorf("generated %s name %q: %v", n.GetKind(), n.GetName(), errs)
		}
		spec, err := n.Pipe(yaml.Lookup("spec"))
		if err != nil || spec == nil {
			t.Errorf("generated %s %s has no spec", n.GetKind(), n.GetName())
			continue
		}
		owner := n.GetAnnotations()["meshfed.dev/generated-by"]
		switch n.GetApiVersion() + " " + n.GetKind() {
		case "networking.istio.io/v1 ServiceEntry":
			if strings.HasPrefix(owner, "MeshImport/") {
				if sans, _ := spec.GetSlice("subjectAltNames"); len(sans) == 0 {
					t.Errorf("imported ServiceEntry %s/%s has no subjectAltNames: any workload could answer", n.GetNamespace(), n.GetName())
				}
			}
		case "networking.istio.io/v1 Gateway":
			servers, _ := spec.Pipe(yaml.Lookup("servers"))
			hosts := strings.Join(stringsAt(t, servers, "hosts"), " ")
			if strings.Contains(hosts, "*") {
				t.Errorf("exposed hosts hold a wildcard: %s", hosts)
			}
		case "networking.istio.io/v1 WorkloadEntry":
			if n.GetLabels()["security.istio.io/tlsMode"] != "istio" {
				t.Errorf("WorkloadEntry %s/%s without tlsMode istio", n.GetNamespace(), n.GetName())
			}
		}
	}
	return generated
}

// stringsAt collects the strings of field in every element of a list node.
func stringsAt(t *testing.T, list *yaml.RNode, field string) []string {
	t.Helper()
	var out []string
	if list == nil {
		return nil
	}
	elems, err := list.Elements()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range elems {
		s, _ := e.GetSlice(field)
		for _, v := range s {
			out = append(out, fmt.Sprint(v))
		}
	}
	return out
}

func isGenerated(n *yaml.RNode) bool {
	return n.GetAnnotations()["meshfed.dev/generated-by"] != ""
}

func runFleet(t *testing.T, input []byte) (out []byte, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = fn.Run(fn.ItemsFunc(pipeline.ProcessItems), bytes.NewReader(input), &o, &e)
	return o.Bytes(), e.String(), code
}

func parseItems(t *testing.T, rl []byte) []*yaml.RNode {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(rl), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

func nodeString(t *testing.T, n *yaml.RNode) string {
	t.Helper()
	s, err := n.String()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func itemStrings(t *testing.T, rl []byte) []string {
	t.Helper()
	var out []string
	for _, n := range parseItems(t, rl) {
		out = append(out, nodeString(t, n))
	}
	return out
}

// sortedGenerated is the generated objects, sorted, without the
// bookkeeping annotations that record input positions.
func sortedGenerated(t *testing.T, items []*yaml.RNode) string {
	t.Helper()
	var docs []string
	for _, n := range items {
		if isGenerated(n) {
			docs = append(docs, nodeString(t, n))
		}
	}
	sort.Strings(docs)
	return strings.Join(docs, "---\n")
}

// TestLongHostsHashed is the property check of the corpus case
// bad-long-hosts-hashed: a 63-character name in a 63-character namespace
// gives a host far beyond 63 characters, and the ServiceEntry for it is
// named deterministically (cut, plus a hash of the whole host) within 63.
func TestLongHostsHashed(t *testing.T) {
	out, err := os.ReadFile("testdata/bad-long-hosts-hashed/_expected.yaml")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range checkGenerated(t, parseItems(t, out)) {
		if n.GetKind() != "ServiceEntry" {
			continue
		}
		hosts, _ := n.Pipe(yaml.Lookup("spec"))
		h, _ := hosts.GetSlice("hosts")
		host := fmt.Sprint(h[0])
		if len(host) <= 63 {
			t.Fatalf("the case no longer has a long host: %q", host)
		}
		if want := render.Name(host); n.GetName() != want || len(want) > 63 {
			t.Errorf("ServiceEntry for %q named %q, want %q (at most 63 characters)", host, n.GetName(), want)
		}
		found = true
	}
	if !found {
		t.Fatal("no ServiceEntry in the case's output")
	}
}
