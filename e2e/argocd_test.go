package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// cmpPlugin is the part of argocd/plugin.yaml the CMP server acts on.
type cmpPlugin struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Version  string `yaml:"version"`
		Discover struct {
			FileName string `yaml:"fileName"`
		} `yaml:"discover"`
		Generate struct {
			Command []string `yaml:"command"`
			Args    []string `yaml:"args"`
		} `yaml:"generate"`
	} `yaml:"spec"`
}

func readPlugin(t *testing.T) cmpPlugin {
	t.Helper()
	return readPluginFile(t, filepath.Join(repoRoot, "argocd", "plugin.yaml"))
}

func readPluginFile(t *testing.T, file string) cmpPlugin {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p cmpPlugin
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if p.APIVersion != "argoproj.io/v1alpha1" || p.Kind != "ConfigManagementPlugin" {
		t.Fatalf("%s is %s %s, want argoproj.io/v1alpha1 ConfigManagementPlugin", file, p.APIVersion, p.Kind)
	}
	if len(p.Spec.Generate.Command) == 0 {
		t.Fatalf("%s has no spec.generate.command", file)
	}
	return p
}

// TestArgoCDPluginName: Applications (argocd/application.yaml, the fleet's
// ApplicationSet) and the README select the plugin as meshfed-v1, its
// <metadata.name>-<spec.version>. Argo CD's own CMP server runs the plugin
// in e2e/argocd-cmp (make test-argocd).
func TestArgoCDPluginName(t *testing.T) {
	p := readPlugin(t)
	if p.Metadata.Name+"-"+p.Spec.Version != "meshfed-v1" {
		t.Errorf("plugin is named %s-%s; argocd/application.yaml and the README refer to meshfed-v1", p.Metadata.Name, p.Spec.Version)
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "argocd", "application.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "name: meshfed-v1") {
		t.Error("argocd/application.yaml does not select the plugin meshfed-v1")
	}
}

// TestArgoCDRepoServerPatch applies argocd/repo-server-patch.yaml with
// kustomize to a minimal argocd-repo-server Deployment (the volumes the
// Argo CD install defines) and checks the sidecar and its mounts.
func TestArgoCDRepoServerPatch(t *testing.T) {
	requireKustomize(t)
	dir := t.TempDir()
	copyDir(t, filepath.Join(repoRoot, "argocd"), filepath.Join(dir, "argocd"))
	files := map[string]string{
		"repo-server.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
  namespace: argocd
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      containers:
      - name: argocd-repo-server
        image: quay.io/argoproj/argocd:v3.1.0
      volumes:
      - name: var-files
        emptyDir: {}
      - name: plugins
        emptyDir: {}
`,
		"kustomization.yaml": `resources: [repo-server.yaml]
patches: [{path: argocd/repo-server-patch.yaml}]
configMapGenerator:
- name: meshfed-cmp-plugin
  namespace: argocd
  files: [argocd/plugin.yaml]
  options: {disableNameSuffixHash: true}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, dir, nil, "kustomize", "build", ".")
	if r.code != 0 {
		t.Fatalf("kustomize build of the patched repo server exited %d:\n%s", r.code, r.stderr)
	}
	objs := parseObjects(t, r.stdout)
	dep := find(t, objs, "apps/v1", "Deployment", "argocd", "argocd-repo-server")
	wantField(t, dep, []string{"/var/run/argocd/argocd-cmp-server"}, "spec", "template", "spec", "containers", "[name=meshfed-cmp]", "command")
	wantField(t, dep, []string{"plugin.yaml"}, "spec", "template", "spec", "containers", "[name=meshfed-cmp]", "volumeMounts", "[name=meshfed-cmp-plugin]", "subPath")
	// The repo server's own container is kept, not replaced.
	wantField(t, dep, []string{"quay.io/argoproj/argocd:v3.1.0"}, "spec", "template", "spec", "containers", "[name=argocd-repo-server]", "image")
	cm := find(t, objs, "v1", "ConfigMap", "argocd", "meshfed-cmp-plugin")
	if data := field(cm, "data", "plugin.yaml"); len(data) != 1 || !strings.Contains(data[0], "kind: ConfigManagementPlugin") {
		t.Errorf("ConfigMap meshfed-cmp-plugin does not carry plugin.yaml: %q", data)
	}
}
