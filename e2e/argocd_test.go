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

// cmpGenerate runs the plugin's generate command the way argocd-cmp-server
// does: in the application's folder inside the checked-out repository,
// with the build environment variables, no shell, and a PATH that has only
// the sidecar's tools (meshfed and kustomize) and the system folders.
func cmpGenerate(t *testing.T, p cmpPlugin, repo, appPath string) result {
	t.Helper()
	kustomize := requireKustomize(t)
	env := []string{
		"PATH=" + strings.Join([]string{meshfedDir, filepath.Dir(kustomize), "/usr/local/bin", "/usr/bin", "/bin"}, string(os.PathListSeparator)),
		"HOME=" + t.TempDir(),
		"ARGOCD_APP_NAME=east-mesh",
		"ARGOCD_APP_NAMESPACE=istio-system",
		"ARGOCD_APP_SOURCE_PATH=" + appPath,
		"ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/platform/meshes.git",
		"ARGOCD_APP_SOURCE_TARGET_REVISION=main",
		"ARGOCD_APP_REVISION=0123456789abcdef0123456789abcdef01234567",
		"KUBE_VERSION=1.33.0",
		"KUBE_API_VERSIONS=v1,apps/v1,networking.istio.io/v1,gateway.networking.k8s.io/v1",
	}
	// exec.Command resolves the command on this process's PATH; the CMP
	// server resolves it on the sidecar's, which env stands for.
	cmdPath := p.Spec.Generate.Command[0]
	for _, dir := range filepath.SplitList(strings.TrimPrefix(env[0], "PATH=")) {
		if _, err := os.Stat(filepath.Join(dir, cmdPath)); err == nil && !strings.Contains(cmdPath, "/") {
			cmdPath = filepath.Join(dir, cmdPath)
			break
		}
	}
	args := append(append([]string{}, p.Spec.Generate.Command[1:]...), p.Spec.Generate.Args...)
	return run(t, filepath.Join(repo, appPath), env, cmdPath, args...)
}

// checkoutSample copies the kustomization samples into a fresh
// "repository" folder (all of them: an overlay such as west-cutover refers
// to its base by a relative path) and returns the path an Application would
// name for one of them.
func checkoutSample(t *testing.T, name string) (repo, appPath string) {
	t.Helper()
	repo = t.TempDir()
	copyDir(t, filepath.Join(repoRoot, "kustomization-samples"), filepath.Join(repo, "clusters"))
	return repo, filepath.Join("clusters", name)
}

func TestArgoCDPluginGenerate(t *testing.T) {
	requireKustomize(t)
	p := readPlugin(t)
	if p.Metadata.Name+"-"+p.Spec.Version != "meshfed-v1" {
		t.Errorf("plugin is named %s-%s; argocd/application.yaml and the README refer to meshfed-v1", p.Metadata.Name, p.Spec.Version)
	}
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			repo, appPath := checkoutSample(t, s.name)
			if m, _ := filepath.Glob(filepath.Join(repo, appPath, p.Spec.Discover.FileName)); len(m) == 0 {
				t.Errorf("discover.fileName %q does not match the application folder", p.Spec.Discover.FileName)
			}
			r := cmpGenerate(t, p, repo, appPath)
			if r.code != 0 {
				t.Fatalf("generate exited %d:\n%s", r.code, r.stderr)
			}
			// stdout must hold only Kubernetes objects: the same ones as
			// the plain kustomize build of the sample.
			objs := parseObjects(t, r.stdout)
			if len(generated(objs)) != len(s.generated) {
				t.Errorf("generated objects: %q, want %q", generated(objs), s.generated)
			}
			assertNoPeerItems(t, objs, s.peerPrefix)
			s.check(t, objs)
			want, err := os.ReadFile(filepath.Join("testdata", "kustomize", s.name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if r.stdout != string(want) {
				t.Errorf("plugin output differs from the kustomize build golden:\n%s", lineDiff(string(want), r.stdout))
			}
		})
	}
}

func TestArgoCDPluginGenerateFailure(t *testing.T) {
	requireKustomize(t)
	p := readPlugin(t)
	repo, appPath := checkoutSample(t, "east")
	c := failureCases[0]
	editFile(t, filepath.Join(repo, appPath, c.file), c.old, c.new)
	r := cmpGenerate(t, p, repo, appPath)
	if r.code == 0 {
		t.Fatalf("generate succeeded with a bad config; Argo CD would sync:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, c.wantStderr) {
		t.Errorf("stderr (shown in the Argo CD UI) does not show meshfed's message %q:\n%s", c.wantStderr, r.stderr)
	}
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("failed generate printed output:\n%s", r.stdout)
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
