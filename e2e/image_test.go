//go:build image

package e2e

// The container images, built from the project's Dockerfile, unmodified,
// by Debian's buildah and run by podman with runc: `make test-image`.
//
// No image registry is reachable where these tests run, so the base
// images the Dockerfile names cannot be pulled. The test builds small
// stand-ins under exactly those names (buildImages) and says so in its
// log:
//   - gcr.io/distroless/static-debian12:nonroot: a scratch image with the
//     files distroless static provides and meshfed can use: /etc/passwd
//     and /etc/group with root, nobody (65534) and nonroot (65532), the CA
//     bundle, /tmp (1777), /home/nonroot, the PATH of the real image and
//     user 65532;
//   - gcr.io/distroless/static-debian12:debug-nonroot: the same with
//     busybox in /busybox, on PATH;
//   - golang:<GO_VERSION>: busybox as the shell and this machine's Go
//     toolchain (which must be the Dockerfile's GO_VERSION), the CA bundle,
//     and the real image's GOPATH and PATH.
// Everything else is real: the Dockerfile's stages, cache mounts, COPYs,
// go mod download from the module proxy and the kustomize go install.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

const (
	imageTag      = "image-test"
	imageName     = "localhost/meshfed"
	functionRef   = imageName + ":" + imageTag
	cmpImageRef   = "localhost/meshfed-argocd-cmp:" + imageTag
	cmpShellRef   = "localhost/meshfed-argocd-cmp-shell:" + imageTag
	distroless    = "gcr.io/distroless/static-debian12:nonroot"
	distrolessDbg = "gcr.io/distroless/static-debian12:debug-nonroot"
)

// containersConf is what podman and buildah need on these machines: crun
// fails on their cgroups (hybrid mode), the default ulimits cannot be set
// without CAP_SYS_RESOURCE, and there is no systemd to manage cgroups.
const containersConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
`

var (
	imagesOnce sync.Once
	imagesErr  error
	imagesLog  string
)

// requireImages builds the stand-in bases and both images once per test
// binary and fails the test if that fails.
func requireImages(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"buildah", "podman", "runc", "busybox"} {
		requireTool(t, tool, "apt-get install podman buildah runc busybox-static (see .ci/run)")
	}
	imagesOnce.Do(func() { imagesLog, imagesErr = buildImages() })
	if imagesErr != nil {
		t.Fatalf("building the images: %v\n%s", imagesErr, imagesLog)
	}
}

// sh runs a command and returns its combined output, failing with it.
func sh(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// dockerfileBases returns the images the Dockerfile's FROM lines name
// (stage names excluded), with the global ARG defaults substituted.
func dockerfileBases() ([]string, map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		return nil, nil, err
	}
	args := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ARG (\w+)=(\S+)$`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := args[m[1]]; !ok {
			args[m[1]] = m[2]
		}
	}
	stages := map[string]bool{}
	var bases []string
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^FROM (?:--platform=\S+ )?(\S+)(?: AS (\S+))?$`).FindAllStringSubmatch(string(b), -1) {
		image := os.Expand(m[1], func(k string) string { return args[k] })
		if !stages[image] && !seen[image] {
			seen[image] = true
			bases = append(bases, image)
		}
		if m[2] != "" {
			stages[m[2]] = true
		}
	}
	return bases, args, nil
}

// buildImages writes the containers.conf, builds the stand-in bases, then
// the function image and the Argo CD sidecar with `make image`.
func buildImages() (string, error) {
	var log strings.Builder
	tmp, err := os.MkdirTemp("", "meshfed-image-")
	if err != nil {
		return "", err
	}
	conf := filepath.Join(tmp, "containers.conf")
	if err := os.WriteFile(conf, []byte(containersConf), 0o644); err != nil {
		return "", err
	}
	// Every podman and buildah the tests start, also through kpt and
	// kustomize, reads it.
	os.Setenv("CONTAINERS_CONF", conf)

	bases, args, err := dockerfileBases()
	if err != nil {
		return "", err
	}
	for _, base := range bases {
		fmt.Fprintf(&log, "NOTE: %s cannot be pulled here; building a stand-in under that name (see image_test.go)\n", base)
		var err error
		switch {
		case base == distroless:
			err = buildDistrolessStandIn(filepath.Join(tmp, "distroless"), base, false)
		case base == distrolessDbg:
			err = buildDistrolessStandIn(filepath.Join(tmp, "distroless-debug"), base, true)
		case strings.HasPrefix(base, "golang:"):
			if want := "go" + args["GO_VERSION"]; runtime.Version() != want {
				return log.String(), fmt.Errorf("the Go stand-in is this machine's toolchain, %s, but the Dockerfile's GO_VERSION wants %s", runtime.Version(), want)
			}
			err = buildGoStandIn(filepath.Join(tmp, "golang"), base)
		default:
			err = fmt.Errorf("the Dockerfile uses base image %s, for which this test has no stand-in", base)
		}
		if err != nil {
			return log.String(), err
		}
	}
	out, err := sh(repoRoot, nil, "make", "--no-print-directory", "image", "IMAGE="+imageName, "CMP_IMAGE=localhost/meshfed-argocd-cmp", "CMP_SHELL_IMAGE=localhost/meshfed-argocd-cmp-shell", "VERSION="+imageTag, "PLATFORMS=linux/"+runtime.GOARCH, "BUILDAH_FLAGS=--pull=never --network host --layers")
	log.WriteString(out)
	return log.String(), err
}

// writeFiles writes files (path -> content) under dir.
func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// buildDistrolessStandIn builds the distroless stand-in; debug adds what
// the :debug variants add, busybox in /busybox, on PATH.
func buildDistrolessStandIn(dir, name string, debug bool) error {
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return err
	}
	// The accounts distroless static's :nonroot image has
	// (GoogleContainerTools/distroless, base/base.bzl: root, nobody and
	// nonroot 65532), and its PATH and user.
	if err := writeFiles(dir, map[string]string{
		"rootfs/etc/passwd":                        "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
		"rootfs/etc/group":                         "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n",
		"rootfs/etc/ssl/certs/ca-certificates.crt": string(ca),
		"rootfs/etc/os-release":                    "PRETTY_NAME=\"stand-in for distroless static-debian12 (meshfed image test)\"\n",
		"Containerfile": `FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 home/ /home/
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
`,
	}); err != nil {
		return err
	}
	for _, d := range []string{"home/nonroot", "rootfs/tmp", "busybox"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	// COPY keeps a folder's mode: /tmp is writable by all, sticky.
	if err := os.Chmod(filepath.Join(dir, "rootfs", "tmp"), 0o777|os.ModeSticky); err != nil {
		return err
	}
	if debug {
		busybox, err := exec.LookPath("busybox")
		if err != nil {
			return err
		}
		if _, err := sh("", nil, "cp", busybox, filepath.Join(dir, "busybox", "busybox")); err != nil {
			return err
		}
		// distroless's debug images: busybox's applets in /busybox, which
		// is on PATH (GoogleContainerTools/distroless, base/BUILD).
		cf := filepath.Join(dir, "Containerfile")
		b, err := os.ReadFile(cf)
		if err != nil {
			return err
		}
		text := strings.Replace(string(b), "COPY rootfs/ /\n", "COPY rootfs/ /\nCOPY busybox/ /busybox/\nRUN [\"/busybox/busybox\", \"--install\", \"/busybox\"]\n", 1)
		text = strings.Replace(text, "/sbin:/bin ", "/sbin:/bin:/busybox ", 1)
		if err := os.WriteFile(cf, []byte(text), 0o644); err != nil {
			return err
		}
	}
	_, err = sh(dir, nil, "buildah", "bud", "--pull=never", "-t", name, ".")
	return err
}

func buildGoStandIn(dir, name string) error {
	goroot := runtime.GOROOT()
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return err
	}
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return err
	}
	if err := writeFiles(dir, map[string]string{
		"etc/ssl/certs/ca-certificates.crt": string(ca),
		"Containerfile": `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY etc/ /etc/
COPY go/ /usr/local/go/
ENV GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
RUN mkdir -p /go/bin /tmp /root && chmod 1777 /tmp
WORKDIR /go
`,
	}); err != nil {
		return err
	}
	// A copy, not a symlink: the build context must hold the files.
	if _, err := sh("", nil, "cp", "-a", goroot, filepath.Join(dir, "go")); err != nil {
		return err
	}
	if _, err := sh("", nil, "cp", busybox, filepath.Join(dir, "busybox")); err != nil {
		return err
	}
	_, err = sh(dir, nil, "buildah", "bud", "--pull=never", "-t", name, ".")
	return err
}

func TestImageFunctionRuns(t *testing.T) {
	requireImages(t)
	t.Log(imagesLog) // says which base images are stand-ins
	r := run(t, "", nil, "podman", "run", "--rm", functionRef, "--version")
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, imageTag) {
		t.Fatalf("podman run %s --version: exit %d, output %q %q; want the version %s stamped by make image", functionRef, r.code, r.stdout, r.stderr, imageTag)
	}
	user := run(t, "", nil, "podman", "image", "inspect", "--format", "{{.Config.User}} {{json .Config.Entrypoint}}", functionRef)
	if got := strings.TrimSpace(user.stdout); got != `65532:65532 ["/usr/local/bin/meshfed"]` {
		t.Errorf("function image user and entrypoint: %q", got)
	}
}

// useImageInKptfile replaces a kpt package's exec step by the image.
func useImageInKptfile(t *testing.T, pkg string) {
	t.Helper()
	editFile(t, filepath.Join(pkg, "Kptfile"), "- exec: meshfed\n", "- image: "+functionRef+"\n")
}

// TestImageKptRender renders every kpt example with the image
// (KPT_FN_RUNTIME=podman) and with the binary (exec); both must leave the
// same files.
func TestImageKptRender(t *testing.T) {
	requireImages(t)
	requireKpt(t)
	pkgs, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "kpt-*"))
	if len(pkgs) == 0 {
		t.Fatal("no examples/kpt-* packages")
	}
	for _, src := range pkgs {
		t.Run(filepath.Base(src), func(t *testing.T) {
			execPkg := filepath.Join(t.TempDir(), filepath.Base(src))
			imagePkg := filepath.Join(t.TempDir(), filepath.Base(src))
			copyDir(t, src, execPkg)
			copyDir(t, src, imagePkg)
			useImageInKptfile(t, imagePkg)
			if r := run(t, "", nil, "kpt", "fn", "render", execPkg, "--allow-exec"); r.code != 0 {
				t.Fatalf("kpt fn render (exec) exited %d:\n%s", r.code, r.stderr)
			}
			env := append(os.Environ(), "KPT_FN_RUNTIME=podman")
			r := run(t, "", env, "kpt", "fn", "render", imagePkg)
			if r.code != 0 {
				t.Fatalf("kpt fn render with image %s exited %d:\n%s", functionRef, r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, functionRef) {
				t.Errorf("kpt's log does not name the image it ran:\n%s", r.stderr)
			}
			// The Kptfiles differ by the one line edited above.
			useImageInKptfile(t, execPkg)
			assertSameTree(t, execPkg, imagePkg)
		})
	}
}

// assertSameTree compares two folders file by file.
func assertSameTree(t *testing.T, want, got string) {
	t.Helper()
	files := func(root string) map[string]string {
		out := map[string]string{}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			out[rel] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	w, g := files(want), files(got)
	for name, text := range w {
		if g[name] != text {
			t.Errorf("%s differs between exec and image mode:\n%s", name, lineDiff(text, g[name]))
		}
	}
	for name := range g {
		if _, ok := w[name]; !ok {
			t.Errorf("%s written in image mode only", name)
		}
	}
}

// dockerIsPodman returns a PATH whose first folder has a `docker` that is
// podman: kustomize runs container functions with `docker run`.
func dockerIsPodman(t *testing.T) string {
	t.Helper()
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(podman, filepath.Join(dir, "docker")); err != nil {
		t.Fatal(err)
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// TestImageKustomizeContainer builds the kustomize samples that have a
// container form with it instead of the exec form: the output must be the
// exec build's golden, byte for byte.
func TestImageKustomizeContainer(t *testing.T) {
	requireImages(t)
	requireKustomize(t)
	path := dockerIsPodman(t)
	containerForms, _ := filepath.Glob(filepath.Join(repoRoot, "kustomization-samples", "*", "*-container.yaml"))
	if len(containerForms) == 0 {
		t.Fatal("no kustomization-samples/*/*-container.yaml")
	}
	for _, form := range containerForms {
		name := filepath.Base(filepath.Dir(form))
		t.Run(name, func(t *testing.T) {
			repo := t.TempDir()
			copyDir(t, filepath.Join(repoRoot, "kustomization-samples"), repo)
			dir := filepath.Join(repo, name)
			execForm := strings.TrimSuffix(filepath.Base(form), "-container.yaml") + ".yaml"
			editFile(t, filepath.Join(dir, "kustomization.yaml"), "- "+execForm+"\n", "- "+filepath.Base(form)+"\n")
			b, err := os.ReadFile(form)
			if err != nil {
				t.Fatal(err)
			}
			image := regexp.MustCompile(`image: (\S+)`).FindStringSubmatch(string(b))
			if image == nil {
				t.Fatalf("%s names no image", form)
			}
			editFile(t, filepath.Join(dir, filepath.Base(form)), "image: "+image[1], "image: "+functionRef)
			env := append(os.Environ(), "PATH="+path)
			r := run(t, dir, env, "kustomize", "build", "--enable-alpha-plugins", ".")
			if r.code != 0 {
				t.Fatalf("kustomize build with the container function exited %d:\n%s", r.code, r.stderr)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "kustomize", name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if r.stdout != string(want) {
				t.Errorf("container-mode output differs from the exec-mode golden:\n%s", lineDiff(string(want), r.stdout))
			}
		})
	}
}

// argoConfigFile is where argocd-cmp-server reads its plugin by default
// (argo-cd v3.2.12, common/common.go, DefaultPluginConfigFilePath, and
// cmd/argocd-cmp-server: --config-dir-path defaults to it).
const argoConfigFile = "/home/argocd/cmp-server/config/plugin.yaml"

// TestImageArgoCDSidecars checks both sidecar images: their plugin.yaml is
// the repository's, where argocd-cmp-server reads it; they run as 999 with
// kustomize v5.8.2 and this meshfed; and the plugin's generate command,
// run inside the image on a sample as the CMP server would (working folder
// = the application's), prints what kustomize prints with meshfed as
// transformer on the host.
func TestImageArgoCDSidecars(t *testing.T) {
	requireImages(t)
	for _, c := range []struct {
		image, plugin, app, golden string
	}{
		{cmpImageRef, "plugin.yaml", "kustomization-samples/east", "east.yaml"},
		{cmpShellRef, "plugin-pipe.yaml", "examples/fleet/render-pipe/alpha", "fleet-alpha.yaml"},
	} {
		t.Run(c.plugin, func(t *testing.T) {
			dir := t.TempDir()
			if r := run(t, "", nil, "podman", "create", "--name", "meshfed-image-test-"+strings.TrimSuffix(c.plugin, ".yaml"), "--entrypoint", "meshfed", c.image); r.code != 0 {
				t.Fatalf("podman create: %s", r.stderr)
			}
			defer run(t, "", nil, "podman", "rm", "meshfed-image-test-"+strings.TrimSuffix(c.plugin, ".yaml"))
			if r := run(t, "", nil, "podman", "cp", "meshfed-image-test-"+strings.TrimSuffix(c.plugin, ".yaml")+":"+argoConfigFile, filepath.Join(dir, "plugin.yaml")); r.code != 0 {
				t.Fatalf("the image has no %s: %s", argoConfigFile, r.stderr)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "plugin.yaml"))
			want, err := os.ReadFile(filepath.Join(repoRoot, "argocd", c.plugin))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s in the image is not argocd/%s", argoConfigFile, c.plugin)
			}
			if u := run(t, "", nil, "podman", "image", "inspect", "--format", "{{.Config.User}}", c.image); strings.TrimSpace(u.stdout) != "999:999" {
				t.Errorf("user %q, want 999:999 (argocd/repo-server-patch.yaml runAsUser)", u.stdout)
			}
			if r := run(t, "", nil, "podman", "run", "--rm", "--entrypoint", "kustomize", c.image, "version"); !strings.Contains(r.stdout, "v5.8.2") {
				t.Errorf("kustomize version in the image: %q %q", r.stdout, r.stderr)
			}
			if r := run(t, "", nil, "podman", "run", "--rm", "--entrypoint", "meshfed", c.image, "--version"); !strings.Contains(r.stdout, imageTag) {
				t.Errorf("meshfed --version in the image: %q %q", r.stdout, r.stderr)
			}

			p := readPluginFile(t, filepath.Join(repoRoot, "argocd", c.plugin))
			repo := filepath.Join(t.TempDir(), "repo")
			for _, top := range []string{"kustomization-samples", "examples"} {
				copyDir(t, filepath.Join(repoRoot, top), filepath.Join(repo, top))
			}
			if err := filepath.WalkDir(repo, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					err = os.Chmod(p, 0o755) // readable by user 999
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			args := []string{"run", "--rm", "--network", "none", "-v", repo + ":/repo:ro", "-w", "/repo/" + c.app, "--entrypoint", p.Spec.Generate.Command[0], c.image}
			args = append(append(args, p.Spec.Generate.Command[1:]...), p.Spec.Generate.Args...)
			r := run(t, "", nil, "podman", args...)
			if r.code != 0 {
				t.Fatalf("the plugin's generate command in the image exited %d:\n%s", r.code, r.stderr)
			}
			golden, err := os.ReadFile(filepath.Join("testdata", "kustomize", c.golden))
			if err != nil {
				t.Fatal(err)
			}
			assertSameObjectSet(t, parseObjects(t, r.stdout), parseObjects(t, string(golden)))
		})
	}
}
