package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/pipeline"
	"github.com/meshfed/meshfed/internal/yamltest"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// runTimeout bounds one run of the whole function on one input. The guide's
// clusters take about a millisecond; anything near this is a hang.
const runTimeout = 10 * time.Second

// FuzzRun feeds arbitrary bytes to the function exactly as the binary gets
// them on stdin. Whatever the input, the function must not panic or hang;
// exit code 1 if and only if there is an error result (or the input could
// not be read, with a reason on stderr); on exit 0 the output is a
// ResourceList that parses and that the function accepts again unchanged;
// on exit 1 the items come back unchanged.
//
//	go test ./functions/meshfed -run '^$' -fuzz '^FuzzRun$' -fuzztime 20s
func FuzzRun(f *testing.F) {
	for _, seed := range runSeeds(f) {
		f.Add(seed)
	}
	// Items that are not mappings: the SDK's accessors used to end the
	// process on a list as an item (log.Fatalf). Found by FuzzRun.
	f.Add([]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- - \n"))
	f.Add([]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- [a, b, c]\n- x\n"))
	f.Add([]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig: [1]\n"))
	// A comment at an item's end attaches elsewhere when read back with
	// results after it: items are compared without comments. Found by FuzzRun.
	f.Add([]byte("n:\nkind: ResourceList\nitems:\n- #nt\n  apiVersion: meshfed.dev/v1a>>>>lpia1\n  kind: MeshImport\n  metadata:\n    name: east\n    annotations:\n  #"))
	// An anchor on a key, in a run that ends in an error: the items come
	// back with it resolved, as kyaml reads them. Found by FuzzRun.
	f.Add([]byte("kind: ResourceList\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n    &x namespace: a\n- apiVersion: meshfed.dev/v1alpha1\n  kind: MeshImport\n  metadata:\n    name: east\n    annotations:\n      config.kubernetes.io/local-config: \"true\"\n"))
	f.Fuzz(func(t *testing.T, input []byte) {
		out, stderr, code := runBounded(t, input)
		if code != 0 && code != 1 {
			t.Fatalf("exit code %d: %s", code, stderr)
		}
		if len(out) == 0 {
			// The input could not be read: nothing to write back.
			if code != 1 || len(stderr) == 0 {
				t.Fatalf("no output, exit code %d, stderr %q", code, stderr)
			}
			return
		}
		if !isResourceList(out) {
			// A plain YAML stream in gives a plain stream out, with no
			// place for results: they reach the user on stderr only.
			if code == 0 {
				if _, err := (&kio.ByteReader{Reader: bytes.NewReader(out)}).Read(); err != nil {
					t.Fatalf("exit 0 but the output stream does not parse: %v\n%s", err, out)
				}
				assertRerunUnchanged(t, out)
				return
			}
			assertFuzzItemsUnchanged(t, input, out)
			return
		}
		rl, err := kfn.ParseResourceList(out)
		if err != nil {
			if code == 0 {
				t.Fatalf("exit 0 but the output does not parse: %v\n%s", err, out)
			}
			// With errors the items are echoed as they came, and kpt's
			// parser is stricter than kyaml's reader (it wants
			// apiVersion and kind on every item), so only compare items.
			assertFuzzItemsUnchanged(t, input, out)
			return
		}
		hasError := false
		for _, r := range rl.Results {
			if r != nil && r.Severity == kfn.Error {
				hasError = true
			}
		}
		if hasError != (code == 1) {
			t.Fatalf("exit code %d but error results present = %v\n%s", code, hasError, out)
		}
		if code == 1 {
			if len(stderr) == 0 {
				t.Fatal("exit code 1 with nothing on stderr")
			}
			assertFuzzItemsUnchanged(t, input, out)
			return
		}
		assertRerunUnchanged(t, out)
	})
}

// assertRerunUnchanged runs the function on its own output: it must
// succeed and change nothing.
func assertRerunUnchanged(t *testing.T, out []byte) {
	t.Helper()
	again, stderr, code := runBounded(t, out)
	if code != 0 {
		t.Fatalf("second run on the function's own output failed:\n%s\n%s", stderr, again)
	}
	if a, b := itemDocs(t, out), itemDocs(t, again); a != b {
		t.Fatalf("second run changed the items:\n%s", diffLines(a, b))
	}
}

// runBounded runs the function and fails the test if it takes longer than
// runTimeout, which is how a hang shows up under the fuzzer.
func runBounded(t *testing.T, input []byte) (out, stderr []byte, code int) {
	t.Helper()
	type result struct {
		out, stderr []byte
		code        int
	}
	done := make(chan result, 1)
	go func() {
		var o, e bytes.Buffer
		c := fn.Run(fn.ItemsFunc(pipeline.ProcessItems), bytes.NewReader(input), &o, &e)
		done <- result{o.Bytes(), e.Bytes(), c}
	}()
	select {
	case r := <-done:
		return r.out, r.stderr, r.code
	case <-time.After(runTimeout):
		t.Fatalf("no result after %s: the function hangs on this input", runTimeout)
		return nil, nil, 0
	}
}

// isResourceList reports whether the output is wrapped in a ResourceList
// (it is when the input was).
func isResourceList(out []byte) bool {
	r := &kio.ByteReader{Reader: bytes.NewReader(out)}
	if _, err := r.Read(); err != nil {
		return false
	}
	return r.WrappingKind == kio.ResourceListKind
}

// itemDocs is the items of a ResourceList, normalised by kyaml's reader as
// the golden runner does; it returns "" for input the reader rejects.
func itemDocs(t *testing.T, rl []byte) string {
	t.Helper()
	// Anchors and aliases resolved, as meshfed reads and writes items
	// (kyaml's DeAnchor, what kustomize does): an anchor, even one on a
	// key that nothing aliases, is how the input is written, not what it
	// says. Found by FuzzRun.
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(rl), OmitReaderAnnotations: true, AnchorsAweigh: true}).Read()
	if err != nil {
		return ""
	}
	docs := make([]string, 0, len(nodes))
	for _, n := range nodes {
		// kyaml's writer drops an empty `annotations:` (and then an empty
		// `metadata:`), which means the same as absent; compare without.
		_ = yaml.ClearEmptyAnnotations(n)
		s, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, s)
	}
	return strings.Join(docs, "---\n")
}

func assertFuzzItemsUnchanged(t *testing.T, input, out []byte) {
	t.Helper()
	// Compared without comments: a comment at an item's end attaches to
	// another node when the output is read back with results after the
	// items (go-yaml's attachment depends on what follows). The bytes the
	// writer echoes are kyaml's own (TestWriteResourceListMatchesKyaml).
	// Found by FuzzRun.
	if a, b := itemDocs(t, uncommented(input)), itemDocs(t, uncommented(out)); a != b {
		t.Fatalf("items changed although there are errors:\n%s", diffLines(a, b))
	}
}

// uncommented is a ResourceList or stream without its comments (itself
// when kyaml cannot read or write it back).
func uncommented(in []byte) []byte {
	out, err := yamltest.StripComments(in)
	if err != nil {
		return in
	}
	return out
}

// runSeeds are the inputs the fuzzers start from: every golden case's
// output ResourceList (a valid input: the function must accept its own
// output), the guide's two clusters as a plain YAML stream (how `kpt fn
// eval` and the demo feed them) and a few degenerate streams.
func runSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var seeds [][]byte
	expected, _ := filepath.Glob("testdata/*/_expected.yaml")
	for _, p := range expected {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for _, cluster := range []string{"west", "east"} {
		var buf bytes.Buffer
		root := filepath.Join("..", "..", "examples", "guide", cluster)
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
				return err
			}
			b, err := os.ReadFile(p)
			buf.WriteString("---\n")
			buf.Write(b)
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, buf.Bytes())
	}
	seeds = append(seeds,
		[]byte(""),
		[]byte("---\n"),
		[]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"),
		[]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- a\n"),
		// Crasher found by FuzzRun: a null item was echoed with exit 0 and
		// kpt could not read the output (now an error; see bad-item-without-kind).
		[]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: meshfed.dev/v1alpha1\n  kind: MeshExport\n  metadata: {name: w, annotations: {config.kubernetes.io/local-config: \"true\"}}\n  spec: {network: n}\n-\n"),
		[]byte("apiVersion: meshfed.dev/v1alpha1\nkind: MeshExport\nmetadata: {name: w, annotations: {config.kubernetes.io/local-config: \"true\"}}\nspec: {network: n}\n"),
	)
	return seeds
}

// TestRunSeeds checks that the seed list found the golden cases and the
// guide (plain `go test` runs FuzzRun on the seeds).
func TestRunSeeds(t *testing.T) {
	if n := len(runSeeds(t)); n < 10 {
		t.Fatalf("only %d seeds: the golden cases or the guide were not found", n)
	}
}
