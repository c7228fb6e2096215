package cluster

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

var (
	westChart     = filepath.Join("testdata", "west-chart")
	westConfig, _ = filepath.Abs(filepath.Join(repoRoot, "functions", "meshfed", "testdata", "helm-west-config.yaml"))
	helmPlugin, _ = filepath.Abs(filepath.Join(repoRoot, "helm-plugin"))
	// badConfig misspells spec.network: meshfed must refuse it, naming the
	// field and the fix.
	badConfig = "apiVersion: meshfed.dev/v1alpha1\nkind: MeshExport\nmetadata:\n  name: west\nspec:\n  netwrok: west-network\n"
)

// helmMajor is one Helm major version as install-tools.sh installs it.
type helmMajor struct {
	name string // helm3, helm4: the tools sub-folder
	bin  string
	env  []string // isolated HELM_*_HOME folders
}

func requireHelm(t *testing.T, major string) *helmMajor {
	t.Helper()
	bin := requireTool(t, major, "helm")
	if out, err := exec.Command(bin, "version", "--short").Output(); err != nil || !strings.HasPrefix(string(out), "v"+strings.TrimPrefix(major, "helm")) {
		t.Fatalf("%s is not Helm %s: %s %v", bin, strings.TrimPrefix(major, "helm"), out, err)
	}
	home := t.TempDir()
	return &helmMajor{name: major, bin: bin, env: []string{
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"),
		"HELM_DATA_HOME=" + filepath.Join(home, "data"),
		"HELM_CACHE_HOME=" + filepath.Join(home, "cache"),
	}}
}

// run runs helm; stdout and stderr apart.
func (h *helmMajor) run(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(h.bin, args...)
	cmd.Env = append(os.Environ(), h.env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func (h *helmMajor) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := h.run(args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// postRenderArgs are the flags that make meshfed Helm's post-renderer:
// Helm 3 runs the executable named by --post-renderer, Helm 4 the
// postrenderer/v1 plugin of that name (helm-plugin/, installed first).
func postRenderArgs(config string) []string {
	return []string{"--post-renderer", "meshfed", "--post-renderer-args", "--config", "--post-renderer-args", config}
}

// pipedForm is what the README documents without a post-renderer:
// `helm template west chart | meshfed --config FILE`.
func pipedForm(t *testing.T, h *helmMajor, config string) string {
	t.Helper()
	rendered := h.mustRun(t, "template", "west", westChart)
	cmd := exec.Command(meshfedOnPath(t), "--config", config)
	cmd.Stdin = strings.NewReader(rendered)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("meshfed --config: %v\n%s", err, stderrOf(err))
	}
	return string(out)
}

// installPlugin installs the repository's Helm 4 plugin (a link to the
// folder, as `helm plugin install DIR` makes it).
func (h *helmMajor) installPlugin(t *testing.T, dir string) {
	t.Helper()
	h.mustRun(t, "plugin", "install", dir)
}

// TestHelmTemplateIsTheFunctionTestStream checks that the stream the
// function's post-renderer tests feed meshfed
// (functions/meshfed/testdata/helm-west-template.yaml) is what Helm
// really prints for the chart here: byte for byte with Helm 3, the same
// documents with Helm 4 (which ends each one with an empty line).
func TestHelmTemplateIsTheFunctionTestStream(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(repoRoot, "functions", "meshfed", "testdata", "helm-west-template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("helm3", func(t *testing.T) {
		h := requireHelm(t, "helm3")
		if got := h.mustRun(t, "template", "west", westChart); got != string(want) {
			t.Errorf("helm template differs from helm-west-template.yaml:\n%s", got)
		}
	})
	t.Run("helm4", func(t *testing.T) {
		h := requireHelm(t, "helm4")
		got := h.mustRun(t, "template", "west", westChart)
		if g, w := strings.ReplaceAll(got, "\n\n", "\n"), string(want); g != w {
			t.Errorf("helm template differs from helm-west-template.yaml beyond empty lines:\n%s", got)
		}
	})
}

// TestHelm3PostRenderer: Helm 3 runs meshfed with --post-renderer-args;
// the output is byte for byte the piped form, and a meshfed error stops
// Helm with meshfed's message (Helm 3 prints a failing post-renderer's
// stderr).
func TestHelm3PostRenderer(t *testing.T) {
	h := requireHelm(t, "helm3")
	meshfedOnPath(t)
	got := h.mustRun(t, append([]string{"template", "west", westChart}, postRenderArgs(westConfig)...)...)
	if want := pipedForm(t, h, westConfig); got != want {
		t.Errorf("helm template --post-renderer meshfed differs from the piped form:\n%s\nwant:\n%s", got, want)
	}
	assertGeneratedObjects(t, got)

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, badConfig)
	out, errOut, err := h.run(append([]string{"template", "west", westChart}, postRenderArgs(bad)...)...)
	if err == nil {
		t.Fatalf("helm template succeeded with a bad config:\n%s", out)
	}
	assertMeshfedMessage(t, errOut)
}

// TestHelm4PostRenderer: Helm 4 runs meshfed through the repository's
// postrenderer/v1 plugin; the objects are those of the piped form (Helm 4
// regroups the documents by template file, so the comparison is of the
// objects, not the bytes), and a meshfed error reaches the user.
func TestHelm4PostRenderer(t *testing.T) {
	h := requireHelm(t, "helm4")
	meshfedOnPath(t)
	h.installPlugin(t, helmPlugin)
	got := h.mustRun(t, append([]string{"template", "west", westChart}, postRenderArgs(westConfig)...)...)
	want := pipedForm(t, h, westConfig)
	if g, w := objectSet(t, got), objectSet(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("helm template --post-renderer meshfed holds other objects than the piped form:\n%s\nwant:\n%s", got, want)
	}
	assertGeneratedObjects(t, got)
	if !strings.Contains(got, "# Source: generated-by-postrender-") {
		t.Errorf("Helm 4 did not file the generated objects as generated-by-postrender-<n>.yaml:\n%s", got)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, badConfig)
	out, errOut, err := h.run(append([]string{"template", "west", westChart}, postRenderArgs(bad)...)...)
	if err == nil {
		t.Fatalf("helm template succeeded with a bad config:\n%s", out)
	}
	assertMeshfedMessage(t, errOut)
	if !strings.Contains(errOut, `plugin "meshfed" exited with error`) {
		t.Errorf("Helm's own error is missing:\n%s", errOut)
	}
}

// TestHelm4DropsPluginStderr pins the Helm 4.3 behaviour the plugin's
// script works around: a post-renderer plugin that runs meshfed directly
// fails with Helm's generic error only, even with --debug. When a Helm
// release shows the plugin's stderr, this test fails and the script's
// workaround can go.
func TestHelm4DropsPluginStderr(t *testing.T) {
	h := requireHelm(t, "helm4")
	meshfedOnPath(t)
	dir := filepath.Join(t.TempDir(), "meshfed-direct")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "plugin.yaml"), "apiVersion: v1\ntype: postrenderer/v1\nname: meshfed-direct\nversion: 0.1.0\nruntime: subprocess\nruntimeConfig:\n  platformCommand:\n  - command: meshfed\n")
	h.installPlugin(t, dir)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, badConfig)
	_, errOut, err := h.run("template", "west", westChart, "--debug", "--post-renderer", "meshfed-direct", "--post-renderer-args", "--config", "--post-renderer-args", bad)
	if err == nil {
		t.Fatal("helm template succeeded with a bad config")
	}
	if !strings.Contains(errOut, `plugin "meshfed-direct" exited with error`) {
		t.Errorf("Helm's generic error is missing:\n%s", errOut)
	}
	if strings.Contains(errOut, "netwrok") {
		t.Errorf("Helm 4 now shows a failing plugin's stderr; helm-plugin/postrender.sh's workaround is no longer needed:\n%s", errOut)
	}
}

// TestHelmInstall installs the chart with meshfed as post-renderer on a
// real API server, with Helm 3 (which creates objects) and Helm 4 (which
// applies them server-side): every object is accepted, the generated
// ones are part of the release and read back as meshfed wrote them.
func TestHelmInstall(t *testing.T) {
	for _, major := range []string{"helm3", "helm4"} {
		t.Run(major, func(t *testing.T) {
			h := requireHelm(t, major)
			meshfedOnPath(t)
			if major == "helm4" {
				h.installPlugin(t, helmPlugin)
			}
			rendered := h.mustRun(t, append([]string{"template", "west", westChart}, postRenderArgs(westConfig)...)...)
			items, _, err := decodeStream([]byte(rendered))
			if err != nil {
				t.Fatal(err)
			}
			s := useCluster(t, clusterNamespaces(items, nil))
			renderedFile := filepath.Join(t.TempDir(), "rendered.yaml")
			writeFile(t, renderedFile, rendered)
			t.Cleanup(func() {
				if _, errOut, err := h.run("uninstall", "west", "--kubeconfig", s.kubeconfig, "--namespace", "default"); err != nil {
					t.Errorf("helm uninstall: %v\n%s", err, errOut)
				}
				s.deleteObjects(t, renderedFile)
			})

			h.mustRun(t, append([]string{"install", "west", westChart, "--kubeconfig", s.kubeconfig, "--namespace", "default"}, postRenderArgs(westConfig)...)...)
			manifest := h.mustRun(t, "get", "manifest", "west", "--kubeconfig", s.kubeconfig, "--namespace", "default")
			var generated []object
			for _, o := range items {
				if isGenerated(o) {
					generated = append(generated, o)
				}
			}
			if len(generated) == 0 {
				t.Fatal("nothing generated")
			}
			released := objectSet(t, manifest)
			gen := filepath.Join(t.TempDir(), "generated.yaml")
			writeFile(t, gen, string(encodeStream(generated)))
			stored := readBack(t, s, gen)
			for _, want := range generated {
				key := objectKey(want)
				if _, ok := released[key]; !ok {
					t.Errorf("%s: not in the release's manifest (helm get manifest)", key)
				}
				got, ok := stored[key]
				if !ok {
					t.Errorf("%s: not found on the server", key)
					continue
				}
				if diffs := diffPaths(withHelmOwnership(want, "west", "default"), asStored(got), ""); len(diffs) > 0 {
					t.Errorf("%s: stored differently from what meshfed wrote (plus Helm's ownership metadata):\n  %s", key, strings.Join(diffs, "\n  "))
				}
			}
		})
	}
}

// withHelmOwnership returns an object as Helm installs it: Helm 3 and 4
// mark every object of a release as theirs, overwriting the
// app.kubernetes.io/managed-by label with Helm and adding the release
// annotations (helm.sh/helm/v3 and v4 pkg/action/validate.go,
// setMetadataVisitor). So in the cluster a generated object says
// managed-by: Helm; meshfed.dev/generated-by still names its config.
func withHelmOwnership(o object, release, namespace string) object {
	c := deepCopy(o)
	m := metadata(c)
	labels, _ := m["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
		m["labels"] = labels
	}
	labels[managedByLabel] = "Helm"
	ann, _ := m["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		m["annotations"] = ann
	}
	ann["meta.helm.sh/release-name"] = release
	ann["meta.helm.sh/release-namespace"] = namespace
	return c
}

// createNamespaces creates namespaces on the server.
func createNamespaces(t *testing.T, s *apiServer, namespaces []string) {
	t.Helper()
	var nsObjs []object
	for _, ns := range namespaces {
		nsObjs = append(nsObjs, object{"apiVersion": "v1", "kind": "Namespace", "metadata": object{"name": ns}})
	}
	f := filepath.Join(t.TempDir(), "namespaces.yaml")
	writeFile(t, f, string(encodeStream(nsObjs)))
	s.mustKubectl(t, "apply", "--server-side", "--field-manager", fieldManager, "-f", f)
}

// objectSet decodes a stream into its objects by objectKey.
func objectSet(t *testing.T, stream string) map[string]object {
	t.Helper()
	items, _, err := decodeStream([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]object{}
	for _, it := range items {
		set[objectKey(it)] = it
	}
	return set
}

// assertGeneratedObjects checks that the post-rendered output holds what
// meshfed generates for West: the east-west Gateway API Gateway and the
// Istio Gateway exposing the hosts.
func assertGeneratedObjects(t *testing.T, stream string) {
	t.Helper()
	var kinds []string
	for key, o := range objectSet(t, stream) {
		if isGenerated(o) {
			kinds = append(kinds, key)
		}
	}
	sort.Strings(kinds)
	joined := strings.Join(kinds, "\n")
	for _, want := range []string{"Gateway.gateway.networking.k8s.io istio-system/eastwestgateway", "Gateway.networking.istio.io istio-system/"} {
		if !strings.Contains(joined, want) {
			t.Errorf("post-rendered output lacks %s; generated objects:\n%s", want, joined)
		}
	}
}

// assertMeshfedMessage checks that Helm's stderr carries meshfed's error:
// the misspelt field and the suggestion.
func assertMeshfedMessage(t *testing.T, stderr string) {
	t.Helper()
	for _, want := range []string{"netwrok", "network"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("Helm's stderr lacks meshfed's message (%q):\n%s", want, stderr)
		}
	}
}
