package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The fleet repository of examples/fleet: each cluster's objects once in
// clusters/<c>/, and render/<c>/ pulling the peers' folders in by
// reference (see its README.md).

var fleetClusters = []string{"alpha", "beta", "gamma"}

var fleetDir = filepath.Join(repoRoot, "examples", "fleet")

// TestFleetKustomize builds every cluster's render folder with the real
// kustomize. The generated objects must be those of the function goldens
// functions/meshfed/testdata/fleet-<c>, which read the same folders
// in-process, so kustomize's renaming of the peers' objects (namePrefix)
// changes nothing meshfed generates.
func TestFleetKustomize(t *testing.T) {
	requireKustomize(t)
	for _, c := range fleetClusters {
		t.Run(c, func(t *testing.T) {
			t.Parallel()
			// No --load-restrictor: every reference outside a folder is to
			// another kustomization.
			r := run(t, filepath.Join(fleetDir, "render", c), nil, "kustomize", kustomizeBuild...)
			if r.code != 0 {
				t.Fatalf("kustomize build exited %d:\n%s", r.code, r.stderr)
			}
			compareGolden(t, filepath.Join("testdata", "kustomize", "fleet-"+c+".yaml"), r.stdout)
			objs := parseObjects(t, r.stdout)
			assertNoPeerItems(t, objs, "peer-")

			got := map[string]string{}
			for _, o := range objs {
				if o.GetAnnotations()[generatedBy] != "" {
					got[objectID(o)] = withoutBookkeeping(t, o)
				}
			}
			want := goldenGenerated(t, filepath.Join(repoRoot, "functions", "meshfed", "testdata", "fleet-"+c, "_expected.yaml"))
			if len(want) == 0 {
				t.Fatal("the function golden has no generated objects")
			}
			for id, w := range want {
				if got[id] != w {
					t.Errorf("%s: kustomize's output differs from the function golden:\n%s", id, lineDiff(w, got[id]))
				}
			}
			for id := range got {
				if _, ok := want[id]; !ok {
					t.Errorf("%s: generated under kustomize only", id)
				}
			}
			// The cluster's own objects pass through; none of the peers'.
			for _, id := range []string{"Service app/" + c + "-api", "ServiceMeshPeer istio-system/" + fleetClusters[(indexOf(c)+1)%3] + "-mesh"} {
				if n := countID(objs, id); n != 1 {
					t.Errorf("%d %s in the output, want 1 (the cluster's own)", n, id)
				}
			}
			for _, peer := range fleetClusters {
				if peer != c && countID(objs, "Service app/"+peer+"-api") != 0 {
					t.Errorf("the peer %s's Service reached %s's output", peer, c)
				}
			}
		})
	}
}

func indexOf(c string) int {
	for i, x := range fleetClusters {
		if x == c {
			return i
		}
	}
	return -1
}

func objectID(o *yaml.RNode) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

func countID(objs []*yaml.RNode, id string) int {
	n := 0
	for _, o := range objs {
		if objectID(o) == id {
			n++
		}
	}
	return n
}

// withoutBookkeeping is an object as indented JSON (keys sorted) without the orchestrators' file
// annotations, which differ between a ResourceList and a kustomize build.
func withoutBookkeeping(t *testing.T, o *yaml.RNode) string {
	t.Helper()
	o = o.Copy()
	for k := range o.GetAnnotations() {
		if strings.HasPrefix(k, "internal.config.kubernetes.io/") || strings.HasPrefix(k, "config.kubernetes.io/") {
			if _, err := o.Pipe(yaml.ClearAnnotation(k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(o.GetAnnotations()) == 0 {
		if _, err := o.Pipe(yaml.Lookup("metadata"), yaml.Clear("annotations")); err != nil {
			t.Fatal(err)
		}
	}
	// Compared as data: kustomize writes fields in its own order.
	j, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		t.Fatal(err)
	}
	canonical, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(canonical)
}

// goldenGenerated returns the generated items of a function golden
// (an output ResourceList), by "Kind ns/name".
func goldenGenerated(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	items, err := (&kio.ByteReader{Reader: strings.NewReader(string(b)), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range items {
		if o.GetAnnotations()[generatedBy] != "" {
			out[objectID(o)] = withoutBookkeeping(t, o)
		}
	}
	return out
}

// TestFleetHoldsNoCopies: objects live only in clusters/, and none is
// marked as a peer's (meshfed.dev/peer or local-config): peer data enters
// a render only through a peer-<p>-mesh/ kustomization's annotations, so
// no file holds a copy of another cluster's objects.
func TestFleetHoldsNoCopies(t *testing.T) {
	objects := 0
	err := filepath.WalkDir(fleetDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		docs, err := (&kio.ByteReader{Reader: strings.NewReader(string(b)), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(fleetDir, p)
		for _, doc := range docs {
			switch doc.GetKind() {
			case "Kustomization", "ApplicationSet", "MeshExport", "MeshImport":
				continue
			}
			objects++
			if !strings.HasPrefix(rel, "clusters"+string(filepath.Separator)) {
				t.Errorf("%s: %s outside clusters/: a cluster's objects belong in its own folder", rel, objectID(doc))
			}
			if ann := doc.GetAnnotations(); ann[peerAnn] != "" || ann[localConfig] != "" {
				t.Errorf("%s: %s is marked as reference data: a copy of a peer's object", rel, objectID(doc))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if objects == 0 {
		t.Fatal("no objects found under examples/fleet")
	}
}

// TestFleetApplicationSet checks that the ApplicationSet's git directory
// generator matches exactly the render folders and renders them through
// the plugin argocd/plugin.yaml defines.
func TestFleetApplicationSet(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fleetDir, "applicationset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Generators []struct {
				Git struct {
					Directories []struct {
						Path    string `yaml:"path"`
						Exclude bool   `yaml:"exclude"`
					} `yaml:"directories"`
				} `yaml:"git"`
			} `yaml:"generators"`
			Template struct {
				Spec struct {
					Source struct {
						Path   string `yaml:"path"`
						Plugin struct {
							Name string `yaml:"name"`
						} `yaml:"plugin"`
					} `yaml:"source"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	if set.Kind != "ApplicationSet" || len(set.Spec.Generators) != 1 || len(set.Spec.Generators[0].Git.Directories) != 1 {
		t.Fatalf("want an ApplicationSet with one git directory generator, got %+v", set)
	}
	// Argo CD matches directories with path.Match on repository paths
	// (argo-cd v3.2.12, applicationset/generators/git.go, GitGenerator.filterApps).
	glob := set.Spec.Generators[0].Git.Directories[0].Path
	matches, err := filepath.Glob(filepath.Join(repoRoot, filepath.FromSlash(glob)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			got = append(got, filepath.Base(m))
			if _, err := os.Stat(filepath.Join(m, "kustomization.yaml")); err != nil {
				t.Errorf("%s: the plugin discovers kustomization.yaml, which this folder lacks", m)
			}
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(fleetClusters, ",") {
		t.Errorf("the generator's %q matches %q, want the render folders %q", glob, got, fleetClusters)
	}
	p := readPlugin(t)
	if want := p.Metadata.Name + "-" + p.Spec.Version; set.Spec.Template.Spec.Source.Plugin.Name != want {
		t.Errorf("template plugin %q, want %q (argocd/plugin.yaml)", set.Spec.Template.Spec.Source.Plugin.Name, want)
	}
	if set.Spec.Template.Spec.Source.Path != "{{ .path.path }}" {
		t.Errorf("template source path %q, want the generated folder {{ .path.path }}", set.Spec.Template.Spec.Source.Path)
	}
}
