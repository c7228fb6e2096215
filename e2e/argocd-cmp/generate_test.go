package argocdcmp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v3/reposerver/repository"
	"github.com/argoproj/argo-cd/v3/util/git"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// repoRoot is the meshfed repository, relative to this package.
const repoRoot = "../.."

// pluginName is what an Application names in spec.source.plugin.name:
// <metadata.name>-<spec.version> of argocd/plugin.yaml. The CMP server
// listens on <pluginName>.sock (argo-cd v3.2.12,
// cmpserver/plugin/config.go, PluginConfig.Address), and the repo server
// dials exactly that file for a named plugin
// (util/app/discovery/discovery.go, DetectConfigManagementPlugin).
const pluginName = "meshfed-v1"

// pipePluginName is argocd/plugin-pipe.yaml's, the large-mesh fast path.
const pipePluginName = "meshfed-pipe-v1"

var (
	socketDir  string // ARGOCD_PLUGINSOCKFILEPATH, shared with the server
	kustomize  string // the kustomize the sidecar has on PATH
	toolsPATH  string // the sidecar's PATH: meshfed, kustomize, system folders
	serverLogs *syncBuffer
)

// syncBuffer collects both servers' logs, written concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestMain builds meshfed and Argo CD's argocd-cmp-server, starts the
// server with argocd/plugin.yaml the way the sidecar runs it (its own work
// folder, the socket folder it shares with the repo server, a PATH with
// meshfed and kustomize), runs the tests, and stops the server.
func TestMain(m *testing.M) {
	os.Exit(func() int {
		tmp, err := os.MkdirTemp("", "meshfed-argocd-cmp-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		stop, err := startServer(tmp)
		if err != nil {
			fmt.Fprintln(os.Stderr, "argocd-cmp e2e:", err)
			if os.Getenv("CI") != "" || !strings.Contains(err.Error(), "not on PATH") {
				return 1
			}
			fmt.Fprintln(os.Stderr, "argocd-cmp e2e: skipped (outside CI)")
			return 0
		}
		defer stop()
		return m.Run()
	}())
}

func startServer(tmp string) (stop func(), err error) {
	kustomize, err = exec.LookPath("kustomize")
	if err != nil {
		if gopath, e := exec.Command("go", "env", "GOPATH").Output(); e == nil {
			kustomize, err = exec.LookPath(filepath.Join(strings.TrimSpace(string(gopath)), "bin", "kustomize"))
		}
		if err != nil {
			return nil, fmt.Errorf("kustomize is not on PATH (go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2)")
		}
	}
	bin := filepath.Join(tmp, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	for _, b := range []struct{ dir, pkg, out string }{
		{repoRoot, "./functions/meshfed", filepath.Join(bin, "meshfed")},
		{".", "./cmd/argocd-cmp-server", filepath.Join(tmp, "argocd-cmp-server")},
	} {
		build := exec.Command("go", "build", "-o", b.out, b.pkg)
		build.Dir = b.dir
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building %s: %v\n%s", b.pkg, err, out)
		}
	}
	if err := os.Symlink(kustomize, filepath.Join(bin, "kustomize")); err != nil {
		return nil, err
	}
	// The fast path's script needs a shell with pipefail, as the sidecar
	// image's busybox sh; Debian's /bin/sh (dash) has none.
	bash, err := exec.LookPath("bash")
	if err != nil {
		return nil, fmt.Errorf("bash is not on PATH")
	}
	if err := os.Symlink(bash, filepath.Join(bin, "sh")); err != nil {
		return nil, err
	}
	toolsPATH = strings.Join([]string{bin, "/usr/local/bin", "/usr/bin", "/bin"}, string(os.PathListSeparator))

	socketDir = filepath.Join(tmp, "plugins")
	if err := os.MkdirAll(socketDir, 0o755); err != nil {
		return nil, err
	}
	// The repo server finds the sockets through the same variable.
	os.Setenv("ARGOCD_PLUGINSOCKFILEPATH", socketDir)
	serverLogs = new(syncBuffer)
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	for _, p := range []struct{ file, name string }{{"plugin.yaml", pluginName}, {"plugin-pipe.yaml", pipePluginName}} {
		s, err := startPluginServer(tmp, filepath.Join(tmp, "argocd-cmp-server"), p.file, p.name)
		if err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, s)
	}
	return stop, nil
}

// startPluginServer starts one argocd-cmp-server, as one sidecar, serving
// argocd/<file>, and waits for its socket <name>.sock.
func startPluginServer(tmp, server, file, name string) (stop func(), err error) {
	config := filepath.Join(tmp, name, "config")
	work := filepath.Join(tmp, name, "work")
	for _, d := range []string{config, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	plugin, err := os.ReadFile(filepath.Join(repoRoot, "argocd", file))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(config, "plugin.yaml"), plugin, 0o644); err != nil {
		return nil, err
	}
	srv := exec.Command(server, "--config-dir-path", config, "--loglevel", "info")
	srv.Env = []string{
		"PATH=" + toolsPATH,
		"HOME=" + tmp,
		"ARGOCD_PLUGINSOCKFILEPATH=" + socketDir,
		"ARGOCD_CMP_WORKDIR=" + work,
	}
	srv.Stdout, srv.Stderr = serverLogs, serverLogs
	if err := srv.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
	}
	sock := filepath.Join(socketDir, name+".sock")
	for deadline := time.Now().Add(60 * time.Second); ; {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("argocd-cmp-server did not listen on %s within 60s:\n%s", sock, serverLogs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkout copies folders of this repository into a fresh "repository"
// folder, as the repo server's git checkout would hold them.
func checkout(t *testing.T, folders ...string) string {
	t.Helper()
	repo := t.TempDir()
	for _, f := range folders {
		src := filepath.Join(repoRoot, f)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repoRoot, p)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(repo, rel), 0o755)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(repo, rel), b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

// generate asks the repo server's own manifest generation for an
// Application whose source is appPath with the meshfed plugin: it
// discovers the plugin over its socket, streams the repository to it as a
// tarball, and splits the YAML the plugin prints into objects.
func generate(t *testing.T, repo, appPath string) (*apiclient.ManifestResponse, error) {
	t.Helper()
	return generateWith(t, pluginName, repo, appPath)
}

func generateWith(t *testing.T, plugin, repo, appPath string) (*apiclient.ManifestResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	q := &apiclient.ManifestRequest{
		Repo:    &v1alpha1.Repository{Repo: "https://git.example.com/platform/meshes.git"},
		AppName: "mesh",
		// The namespace the Application deploys to.
		Namespace: "istio-system",
		ApplicationSource: &v1alpha1.ApplicationSource{
			RepoURL:        "https://git.example.com/platform/meshes.git",
			Path:           appPath,
			TargetRevision: "main",
			Plugin:         &v1alpha1.ApplicationSourcePlugin{Name: plugin},
		},
		KubeVersion: "1.33.0",
	}
	return repository.GenerateManifests(ctx, filepath.Join(repo, appPath), repo, "0123456789abcdef0123456789abcdef01234567", q, false, &git.NoopCredsStore{}, resource.MustParse("100Mi"), nil)
}

// kustomizeObjects runs the plugin's generate command directly and returns
// its objects, each as decoded JSON.
func kustomizeObjects(t *testing.T, dir string) []any {
	t.Helper()
	cmd := exec.Command(kustomize, "build", "--enable-alpha-plugins", "--enable-exec", ".")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + toolsPATH, "HOME=" + t.TempDir()}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderr.String())
	}
	var objs []any
	for _, doc := range strings.Split(string(out), "\n---\n") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var o any
		if err := json.Unmarshal(j, &o); err != nil {
			t.Fatal(err)
		}
		if o != nil {
			objs = append(objs, o)
		}
	}
	return objs
}

func manifestObjects(t *testing.T, resp *apiclient.ManifestResponse) []any {
	t.Helper()
	var objs []any
	for _, m := range resp.Manifests {
		var o any
		if err := json.Unmarshal([]byte(m), &o); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	return objs
}

func describe(o any) string {
	m, _ := o.(map[string]any)
	md, _ := m["metadata"].(map[string]any)
	return fmt.Sprintf("%v %v/%v", m["kind"], md["namespace"], md["name"])
}

// assertSameObjects compares what Argo CD would apply with what kustomize
// builds, object by object and in order.
func assertSameObjects(t *testing.T, got, want []any) {
	t.Helper()
	if len(got) != len(want) {
		var g, w []string
		for _, o := range got {
			g = append(g, describe(o))
		}
		for _, o := range want {
			w = append(w, describe(o))
		}
		t.Fatalf("Argo CD generated %d objects, kustomize build %d:\n  got:  %s\n  want: %s", len(got), len(want), strings.Join(g, ", "), strings.Join(w, ", "))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			gj, _ := json.MarshalIndent(got[i], "", " ")
			wj, _ := json.MarshalIndent(want[i], "", " ")
			t.Errorf("object %d (%s) differs:\n got: %s\nwant: %s", i, describe(want[i]), gj, wj)
		}
	}
}

// TestGenerateSamples renders every kustomization sample through the real
// CMP server; what Argo CD would apply must be what `kustomize build`
// prints.
func TestGenerateSamples(t *testing.T) {
	for _, name := range []string{"west", "east", "west-cutover", "shared-ids"} {
		t.Run(name, func(t *testing.T) {
			repo := checkout(t, "kustomization-samples")
			appPath := filepath.Join("kustomization-samples", name)
			resp, err := generate(t, repo, appPath)
			if err != nil {
				t.Fatalf("GenerateManifests: %v\nserver log:\n%s", err, serverLogs)
			}
			got := manifestObjects(t, resp)
			if len(got) == 0 {
				t.Fatal("no objects generated")
			}
			assertSameObjects(t, got, kustomizeObjects(t, filepath.Join(repo, appPath)))
		})
	}
}

// TestGenerateFailure breaks East's config: the sync must fail, and the
// error the repo server returns (what the Argo CD UI shows) must carry
// meshfed's own message.
func TestGenerateFailure(t *testing.T) {
	repo := checkout(t, "kustomization-samples")
	appPath := filepath.Join("kustomization-samples", "east")
	file := filepath.Join(repo, appPath, "meshimport.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), "network: west-network", "network: network-west-mesh", 1)
	if broken == string(b) {
		t.Fatal("meshimport.yaml no longer sets network: west-network; update this test")
	}
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := generate(t, repo, appPath)
	if err == nil {
		t.Fatalf("GenerateManifests succeeded with a bad config; Argo CD would sync %d objects", len(resp.Manifests))
	}
	for _, want := range []string{
		"CMP processing failed", // the repo server's wrapping (repository.go, GenerateManifests)
		`MeshImport/east spec.peers[0].network: must differ from "network-west-mesh"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not contain %q:\n%v", want, err)
		}
	}
}

// TestGenerateNotDiscovered: the plugin's discover rule
// (fileName ./kustomization.yaml) is evaluated by the server on the
// streamed repository; a folder without a kustomization is not the
// plugin's.
func TestGenerateNotDiscovered(t *testing.T) {
	repo := checkout(t, "kustomization-samples")
	appPath := filepath.Join("kustomization-samples", "east", "peer-west-mesh")
	if err := os.Remove(filepath.Join(repo, appPath, "kustomization.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := generate(t, repo, appPath)
	if err == nil || !strings.Contains(err.Error(), "supporting the given repository") {
		t.Fatalf("GenerateManifests on a folder without kustomization.yaml: %v; want the discovery error", err)
	}
}

// sortedByID orders objects by kind, namespace and name: the fast path
// writes them in another order than kustomize's transformer run, which
// Argo CD does not care about.
func sortedByID(objs []any) []any {
	out := append([]any(nil), objs...)
	sort.SliceStable(out, func(i, j int) bool { return describe(out[i]) < describe(out[j]) })
	return out
}

// TestGenerateFleet renders one cluster of the fleet repository
// (examples/fleet/render/alpha, pulling its peers' folders in by
// reference) through the real server, with the whole repository streamed
// to it, and the same cluster through the large-mesh fast path
// (examples/fleet/render-pipe/alpha with the meshfed-pipe-v1 plugin):
// both must be what kustomize builds with meshfed as transformer.
func TestGenerateFleet(t *testing.T) {
	repo := checkout(t, "examples/fleet")
	want := kustomizeObjects(t, filepath.Join(repo, "examples", "fleet", "render", "alpha"))
	resp, err := generate(t, repo, filepath.Join("examples", "fleet", "render", "alpha"))
	if err != nil {
		t.Fatalf("GenerateManifests (transformer): %v\nserver log:\n%s", err, serverLogs)
	}
	assertSameObjects(t, manifestObjects(t, resp), want)

	resp, err = generateWith(t, pipePluginName, repo, filepath.Join("examples", "fleet", "render-pipe", "alpha"))
	if err != nil {
		t.Fatalf("GenerateManifests (fast path): %v\nserver log:\n%s", err, serverLogs)
	}
	assertSameObjects(t, sortedByID(manifestObjects(t, resp)), sortedByID(want))
}

// TestGenerateFastPathFailure: a meshfed error in the fast path fails the
// render with meshfed's message, although meshfed runs at the end of a
// pipe.
func TestGenerateFastPathFailure(t *testing.T) {
	repo := checkout(t, "examples/fleet")
	appPath := filepath.Join("examples", "fleet", "render-pipe", "alpha")
	file := filepath.Join(repo, appPath, "meshfed.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), "network: beta-network", "network: network-beta-mesh", 1)
	if broken == string(b) {
		t.Fatal("meshfed.yaml no longer sets network: beta-network; update this test")
	}
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := generateWith(t, pipePluginName, repo, appPath)
	if err == nil {
		t.Fatalf("GenerateManifests succeeded with a bad config; Argo CD would sync %d objects", len(resp.Manifests))
	}
	if want := `spec.peers[0].network: must differ from "network-beta-mesh"`; !strings.Contains(err.Error(), want) {
		t.Errorf("the error does not contain meshfed's message %q:\n%v", want, err)
	}
}
