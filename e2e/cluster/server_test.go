package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the repository root, relative to this package's directory
// (go test runs in it).
const repoRoot = "../.."

// adminToken authenticates kubectl and Helm as a member of system:masters
// (the token file's group), so RBAC lets them do everything.
const adminToken = "meshfed-cluster-test-admin"

// toolsDir is where install-tools.sh puts what it builds; TOOLS overrides
// it as it does for the script.
func toolsDir() string {
	if d := os.Getenv("TOOLS"); d != "" {
		return d
	}
	abs, _ := filepath.Abs(filepath.Join(repoRoot, ".cache", "tools"))
	return abs
}

// findTool returns the path of a tool: in the tools folder (under sub, as
// install-tools.sh lays it out), else on PATH.
func findTool(sub, name string) (string, error) {
	p := filepath.Join(toolsDir(), sub, name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s is neither in %s nor on PATH", name, filepath.Join(toolsDir(), sub))
}

// requireTool returns a tool's path, skipping the test when it is missing,
// except under CI, which installs every tool (make test-cluster runs
// install-tools.sh first) and so fails instead.
func requireTool(t testing.TB, sub, name string) string {
	t.Helper()
	p, err := findTool(sub, name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%v; e2e/cluster/install-tools.sh installs it (make test-cluster runs it)", err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// children are the servers this test started; they are killed when the
// test binary ends, also on SIGINT/SIGTERM (Pdeathsig covers a SIGKILL of
// the test binary itself).
var children struct {
	sync.Mutex
	procs []*child
}

// child is a started server; done is closed when it has exited.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startChild(cmd *exec.Cmd) (*child, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	children.Lock()
	children.procs = append(children.procs, c)
	children.Unlock()
	return c, nil
}

// stop kills the server (its whole process group) and waits for it.
func (c *child) stop() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.done
	children.Lock()
	defer children.Unlock()
	for i, p := range children.procs {
		if p == c {
			children.procs = append(children.procs[:i], children.procs[i+1:]...)
			break
		}
	}
}

func stopAllChildren() {
	children.Lock()
	procs := append([]*child(nil), children.procs...)
	children.Unlock()
	for _, c := range procs {
		c.stop()
	}
}

func TestMain(m *testing.M) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		stopAllChildren()
		os.Exit(2)
	}()
	code := m.Run()
	stopAllChildren()
	for _, dir := range []string{etcd.dir, meshfedBuild.dir, apiServerDir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// freePort asks the kernel for an unused loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// etcd is shared by every API server of the test binary: each server
// keeps its objects under its own --etcd-prefix, so each scenario starts
// from an empty cluster without the cost of a new etcd.
var etcd struct {
	once sync.Once
	url  string
	dir  string
	err  error
}

func sharedEtcd(t testing.TB) string {
	t.Helper()
	bin := requireTool(t, "", "etcd")
	etcd.once.Do(func() {
		dir, err := os.MkdirTemp("", "meshfed-etcd-")
		if err != nil {
			etcd.err = err
			return
		}
		etcd.dir = dir
		client, peer := freePort(t), freePort(t)
		clientURL := fmt.Sprintf("http://127.0.0.1:%d", client)
		peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
		logf, err := os.Create(filepath.Join(dir, "etcd.log"))
		if err != nil {
			etcd.err = err
			return
		}
		cmd := exec.Command(bin,
			"--name", "meshfed-test",
			"--data-dir", filepath.Join(dir, "data"),
			"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
			"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
			"--initial-cluster", "meshfed-test="+peerURL)
		cmd.Stdout, cmd.Stderr = logf, logf
		if _, err := startChild(cmd); err != nil {
			etcd.err = err
			return
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := http.Get(clientURL + "/health")
			if err == nil {
				body := new(bytes.Buffer)
				_, _ = body.ReadFrom(resp.Body)
				resp.Body.Close()
				if strings.Contains(body.String(), `"health":"true"`) {
					etcd.url = clientURL
					return
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		log, _ := os.ReadFile(logf.Name())
		etcd.err = fmt.Errorf("etcd did not become healthy in 60 s; its log:\n%s", tail(log))
	})
	if etcd.err != nil {
		t.Fatal(etcd.err)
	}
	return etcd.url
}

// apiServer is one kube-apiserver on loopback with the CRDs installed.
type apiServer struct {
	url        string
	kubeconfig string
	kubectlBin string
	cacheDir   string
	logFile    string
}

// apiServerDir holds the shared server's keys, certificates and log.
var apiServerDir string

var prefixes struct {
	sync.Mutex
	n int
}

// shared is the one kube-apiserver of the test binary: starting one and
// installing the CRDs takes most of a minute on a loaded two-core machine,
// so the scenarios share it, each on an emptied cluster (useCluster).
var shared struct {
	sync.Mutex
	server *apiServer
	err    string
}

// useCluster returns the shared API server for one scenario, with exactly
// the given namespaces besides the built-in ones; when the test ends the
// scenario's objects (cleanup, given the files it applied) and namespaces
// are deleted again.
func useCluster(t *testing.T, namespaces []string) *apiServer {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.err != "" {
		t.Fatal(shared.err)
	}
	if shared.server == nil {
		ok := false
		defer func() {
			if !ok && shared.server == nil {
				shared.err = "the shared kube-apiserver did not start (see the first test that needed it)"
			}
		}()
		shared.server = startAPIServer(t)
		ok = true
	}
	s := shared.server
	if extra := s.scenarioNamespaces(t); len(extra) > 0 {
		t.Fatalf("the cluster is not empty: namespaces %v are left from an earlier scenario", extra)
	}
	createNamespaces(t, s, namespaces)
	t.Cleanup(func() { s.deleteNamespaces(t, namespaces) })
	return s
}

// builtinNamespaces are those kube-apiserver creates itself.
var builtinNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}

func (s *apiServer) scenarioNamespaces(t testing.TB) []string {
	t.Helper()
	out := s.mustKubectl(t, "get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}")
	var extra []string
	for _, ns := range strings.Fields(out) {
		if !builtinNamespaces[ns] {
			extra = append(extra, ns)
		}
	}
	return extra
}

// deleteObjects deletes what a scenario applied.
func (s *apiServer) deleteObjects(t testing.TB, file string) {
	t.Helper()
	s.mustKubectl(t, "delete", "--ignore-not-found", "--wait=false", "-f", file)
	var left []string
	for _, name := range strings.Fields(s.mustKubectl(t, "get", "--ignore-not-found", "-o", "name", "-f", file)) {
		// A Namespace among the objects stays Terminating until
		// deleteNamespaces finalizes it.
		if !strings.HasPrefix(name, "namespace/") {
			left = append(left, name)
		}
	}
	if len(left) > 0 {
		t.Errorf("objects left after deleting them: %s", strings.Join(left, ", "))
	}
}

// deleteNamespaces deletes namespaces, emptied by the scenario's cleanup.
// No kube-controller-manager runs here, so this does the namespace
// controller's last step itself: once the namespace is marked for deletion
// it clears spec.finalizers through the finalize subresource, and the
// server removes it.
func (s *apiServer) deleteNamespaces(t testing.TB, namespaces []string) {
	t.Helper()
	for _, ns := range namespaces {
		s.mustKubectl(t, "delete", "namespace", ns, "--wait=false")
		raw := s.mustKubectl(t, "get", "namespace", ns, "-o", "json")
		var o object
		if err := json.Unmarshal([]byte(raw), &o); err != nil {
			t.Fatal(err)
		}
		if spec, _ := o["spec"].(object); spec != nil {
			spec["finalizers"] = []any{}
		}
		f := filepath.Join(t.TempDir(), ns+".json")
		b, _ := json.Marshal(o)
		writeFile(t, f, string(b))
		s.mustKubectl(t, "replace", "--raw", "/api/v1/namespaces/"+ns+"/finalize", "-f", f)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(s.scenarioNamespaces(t)) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if extra := s.scenarioNamespaces(t); len(extra) > 0 {
		t.Fatalf("namespaces %v not deleted", extra)
	}
}

// startAPIServer starts a kube-apiserver with an empty store of its own
// and the CRDs installed; it runs until the test binary ends.
func startAPIServer(t testing.TB) *apiServer {
	t.Helper()
	bin := requireTool(t, "", "kube-apiserver")
	kubectl := requireTool(t, "", "kubectl")
	etcdURL := sharedEtcd(t)
	dir, err := os.MkdirTemp("", "meshfed-kube-apiserver-")
	if err != nil {
		t.Fatal(err)
	}
	apiServerDir = dir

	// Service-account keys, as a real cluster's API server has them.
	saKey, saPub := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	run(t, "openssl", "genrsa", "-out", saKey, "2048")
	run(t, "openssl", "rsa", "-in", saKey, "-pubout", "-out", saPub)
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(t, tokens, adminToken+",admin,admin,system:masters\n")

	prefixes.Lock()
	prefixes.n++
	prefix := fmt.Sprintf("/meshfed-test-%d-%d", os.Getpid(), prefixes.n)
	prefixes.Unlock()

	port := freePort(t)
	s := &apiServer{
		url:        fmt.Sprintf("https://127.0.0.1:%d", port),
		kubeconfig: filepath.Join(dir, "kubeconfig"),
		kubectlBin: kubectl,
		cacheDir:   filepath.Join(dir, "kubectl-cache"),
		logFile:    filepath.Join(dir, "kube-apiserver.log"),
	}
	logf, err := os.Create(s.logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--etcd-servers", etcdURL, "--etcd-prefix", prefix,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(port), "--cert-dir", filepath.Join(dir, "certs"),
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", saPub, "--service-account-signing-key-file", saKey,
		"--token-auth-file", tokens, "--authorization-mode", "RBAC",
		"--service-cluster-ip-range", "10.0.0.0/24")
	cmd.Stdout, cmd.Stderr = logf, logf
	server, err := startChild(cmd)
	if err != nil {
		t.Fatal(err)
	}

	writeFile(t, s.kubeconfig, kubeconfig(s.url))
	start := time.Now()
	s.waitReady(t, server)
	ready := time.Now()
	s.installCRDs(t)
	t.Logf("kube-apiserver ready in %.1f s, CRDs installed in %.1f s", ready.Sub(start).Seconds(), time.Since(ready).Seconds())
	return s
}

// kubeconfig returns a kubeconfig for the admin token; the server's
// certificate is the self-signed one it made in --cert-dir.
func kubeconfig(server string) string {
	cfg := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"clusters":        []any{map[string]any{"name": "test", "cluster": map[string]any{"server": server, "insecure-skip-tls-verify": true}}},
		"users":           []any{map[string]any{"name": "admin", "user": map[string]any{"token": adminToken}}},
		"contexts":        []any{map[string]any{"name": "test", "context": map[string]any{"cluster": "test", "user": "admin", "namespace": "default"}}},
		"current-context": "test",
	}
	out, _ := json.Marshal(cfg) // JSON is YAML
	return string(out)
}

func (s *apiServer) waitReady(t testing.TB, server *child) {
	t.Helper()
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-server.done:
			t.Fatalf("kube-apiserver exited; its log:\n%s", s.logTail())
		default:
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, s.url+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("kube-apiserver not ready in 120 s; its log:\n%s", s.logTail())
}

func (s *apiServer) logTail() string {
	log, _ := os.ReadFile(s.logFile)
	return tail(log)
}

// kubectl runs kubectl against this server.
func (s *apiServer) kubectl(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(s.kubectlBin, append([]string{"--kubeconfig", s.kubeconfig, "--cache-dir", s.cacheDir}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func (s *apiServer) mustKubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, err := s.kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// installCRDs installs the CRDs of the istio.io/api and
// sigs.k8s.io/gateway-api versions the root go.mod pins (the same files
// internal/crdvalidate validates against), and the minimal CRDs of the
// OSSM 2 and Sail input kinds.
func (s *apiServer) installCRDs(t testing.TB) {
	t.Helper()
	files := append(pinnedCRDFiles(t), filepath.Join("testdata", "ossm2-crds.yaml"))
	args := []string{"apply", "--server-side", "--field-manager", "meshfed-cluster-test"}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	s.mustKubectl(t, args...)
	s.mustKubectl(t, "wait", "--for", "condition=Established", "--timeout", "120s", "crd", "--all")
}

var pinned struct {
	once  sync.Once
	files []string
	err   error
}

// pinnedCRDFiles finds the pinned modules in the module cache with
// `go mod download -json` run in the root module, so the versions are the
// ones its go.mod requires.
func pinnedCRDFiles(t testing.TB) []string {
	t.Helper()
	pinned.once.Do(func() {
		cmd := exec.Command("go", "mod", "download", "-json", "istio.io/api", "sigs.k8s.io/gateway-api")
		cmd.Dir = repoRoot
		out, err := cmd.Output()
		if err != nil {
			pinned.err = fmt.Errorf("go mod download: %v", err)
			return
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		for dec.More() {
			var m struct{ Path, Version, Dir string }
			if err := dec.Decode(&m); err != nil {
				pinned.err = err
				return
			}
			switch m.Path {
			case "istio.io/api":
				pinned.files = append(pinned.files, filepath.Join(m.Dir, "kubernetes", "customresourcedefinitions.gen.yaml"))
			case "sigs.k8s.io/gateway-api":
				matches, _ := filepath.Glob(filepath.Join(m.Dir, "config", "crd", "standard", "gateway.networking.k8s.io_*.yaml"))
				if len(matches) == 0 {
					pinned.err = fmt.Errorf("no Gateway API CRDs in %s", m.Dir)
					return
				}
				pinned.files = append(pinned.files, matches...)
			}
		}
		if len(pinned.files) < 2 {
			pinned.err = fmt.Errorf("go mod download found no CRDs:\n%s", out)
		}
	})
	if pinned.err != nil {
		t.Fatal(pinned.err)
	}
	return pinned.files
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tail returns the last lines of a log.
func tail(log []byte) string {
	lines := strings.Split(strings.TrimRight(string(log), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
