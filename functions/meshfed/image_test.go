package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The images are built from the Dockerfile and run by `make test-image`
// (e2e/image_test.go: buildah, podman, kpt and kustomize container
// functions, both Argo CD sidecars). These cheap checks keep what that
// single-platform build on this machine's Go toolchain cannot show, or
// show only in that slow suite: that the builder's Go is go.mod's, that
// the build stages cross-compile for linux/arm64 instead of emulating it,
// that the files the builder copies build, and how `make image` picks its
// builder.

const repoRoot = "../.."

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

// stage is one FROM and the instructions after it.
type stage struct {
	name, image, platform string
	body                  []instruction
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// parseDockerfile splits a Dockerfile into its global ARGs and stages.
func parseDockerfile(t *testing.T, text string) (args map[string]string, stages []stage) {
	t.Helper()
	args = map[string]string{}
	var joined []string
	cur := ""
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == "") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		joined = append(joined, cur+trimmed)
		cur = ""
	}
	for _, l := range joined {
		if l == "" {
			continue
		}
		cmd, rest, _ := strings.Cut(l, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(rest)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			s := stage{}
			if strings.HasPrefix(f[0], "--platform=") {
				s.platform = strings.TrimPrefix(f[0], "--platform=")
				f = f[1:]
			}
			s.image = f[0]
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			if in.cmd == "ARG" {
				k, v, _ := strings.Cut(in.args, "=")
				args[k] = v
			}
			continue
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	return args, stages
}

func readDockerfile(t *testing.T) (map[string]string, map[string]stage, []stage) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	args, stages := parseDockerfile(t, string(b))
	byName := map[string]stage{}
	for _, s := range stages {
		byName[s.name] = s
	}
	return args, byName, stages
}

func declaresArg(s stage, name string) bool {
	for _, a := range s.all("ARG") {
		if k, _, _ := strings.Cut(a.args, "="); k == name {
			return true
		}
	}
	return false
}

func TestDockerfileGoVersionIsGoMod(t *testing.T) {
	args, stages, _ := readDockerfile(t)
	goMod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	if args["GO_VERSION"] != string(goVersion[1]) {
		t.Errorf("Dockerfile GO_VERSION=%q, want go.mod's %s", args["GO_VERSION"], goVersion[1])
	}
	for _, name := range []string{"builder", "kustomize"} {
		if s := stages[name]; s.image != "golang:${GO_VERSION}" {
			t.Errorf("stage %s is FROM %q, want golang:${GO_VERSION}", name, s.image)
		}
	}
}

// TestDockerfileCrossCompiles: the stages that run Go run on the build
// platform and compile for the target one, so the arm64 images need no
// emulation (the final stages only COPY).
func TestDockerfileCrossCompiles(t *testing.T) {
	_, stages, ordered := readDockerfile(t)
	for _, name := range []string{"builder", "kustomize"} {
		s, ok := stages[name]
		if !ok {
			t.Fatalf("no stage named %s", name)
		}
		if s.platform != "$BUILDPLATFORM" {
			t.Errorf("stage %s must be FROM --platform=$BUILDPLATFORM, got %q", name, s.platform)
		}
		run := ""
		for _, r := range s.all("RUN") {
			run += r.args
		}
		for _, want := range []string{"CGO_ENABLED=0", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH"} {
			if !strings.Contains(run, want) {
				t.Errorf("stage %s's go command lacks %s", name, want)
			}
		}
		for _, a := range []string{"TARGETOS", "TARGETARCH"} {
			if !declaresArg(s, a) {
				t.Errorf("stage %s does not declare ARG %s", name, a)
			}
		}
	}
	for _, s := range ordered {
		if s.platform == "" && len(s.all("RUN")) != 0 {
			t.Errorf("stage %s runs commands on the target platform: an arm64 build would need emulation", s.name)
		}
	}
}

// TestDockerfileBuilderBuilds copies into a temporary folder exactly the
// build-context files that the builder stage COPYs and .dockerignore lets
// through, and runs the stage's go build there for linux/arm64: a missing
// COPY (a new top-level package) fails here, in make test, rather than
// only in make test-image's real build (which is linux/amd64 only).
func TestDockerfileBuilderBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	_, _, ordered := readDockerfile(t)
	ignore := readDockerignore(t)
	ctx := t.TempDir()
	var sources []string
	for _, s := range ordered {
		for _, c := range s.all("COPY") {
			f := strings.Fields(c.args)
			if strings.HasPrefix(f[0], "--from=") {
				continue
			}
			sources = append(sources, f[:len(f)-1]...)
		}
	}
	for _, src := range sources {
		src = strings.TrimSuffix(src, "/")
		if ignored(ignore, src) {
			t.Errorf("COPY %s: excluded by .dockerignore", src)
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
			t.Errorf("COPY %s: %v", src, err)
			continue
		}
		copyTree(t, src, ctx, ignore)
	}
	if t.Failed() {
		return
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=docker-test", "-o", filepath.Join(t.TempDir(), "meshfed"), "./functions/meshfed")
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOFLAGS=-mod=readonly", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the builder stage's go build fails on the Docker build context: %v\n%s", err, out)
	}
}

func readDockerignore(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var pats []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			if strings.HasPrefix(l, "!") {
				t.Fatalf(".dockerignore exception %q: this test's matcher does not handle exceptions; extend it", l)
			}
			pats = append(pats, strings.TrimPrefix(l, "/"))
		}
	}
	return pats
}

// ignored reports whether a slash-separated context path, or a folder
// above it, matches a .dockerignore pattern (** matches any folders).
func ignored(pats []string, p string) bool {
	parts := strings.Split(p, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		for _, pat := range pats {
			if rest, ok := strings.CutPrefix(pat, "**/"); ok {
				if m, _ := path.Match(rest, parts[i-1]); m {
					return true
				}
				continue
			}
			if m, _ := path.Match(pat, prefix); m {
				return true
			}
		}
	}
	return false
}

func copyTree(t *testing.T, src, dst string, ignore []string) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(repoRoot, src), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			return err
		}
		if ignored(ignore, filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDockerignoreMatcher(t *testing.T) {
	pats := []string{".git", "**/testdata", "**/*_test.go", "bin"}
	for p, want := range map[string]bool{
		".git":                            true,
		"bin/meshfed":                     true,
		"functions/meshfed/testdata/x":    true,
		"functions/meshfed/main_test.go":  true,
		"functions/meshfed/main.go":       false,
		"fn/run.go":                       false,
		"functions/meshfed/binary/x.yaml": false,
	} {
		if got := ignored(pats, p); got != want {
			t.Errorf("ignored(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestMakeImage runs `make image` with a stand-in docker whose engine
// answers: it must build the three targets for both platforms with buildx.
// Without an engine, make image uses buildah, which `make test-image` runs
// for real; with neither it must fail and say what to install.
func TestMakeImage(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "docker.log")
	script := "#!/bin/sh\necho \"$*\" >> '" + log + "'\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "-C", repoRoot, "image", "VERSION=v0.0.0-test")
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make image with an engine failed: %v\n%s", err, out)
	}
	calls, _ := os.ReadFile(log)
	for _, want := range []string{
		"buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v0.0.0-test -t ghcr.io/meshfed/meshfed:v0.0.0-test",
		"buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v0.0.0-test --target argocd-cmp -t ghcr.io/meshfed/meshfed-argocd-cmp:v0.0.0-test",
		"buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v0.0.0-test --target argocd-cmp-shell -t ghcr.io/meshfed/meshfed-argocd-cmp-shell:v0.0.0-test",
	} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("docker was not run as %q; calls:\n%s", want, calls)
		}
	}

	// Neither: a PATH with make's shell tools but no docker and no buildah.
	bare := t.TempDir()
	for _, tool := range []string{"sh", "echo", "git"} {
		if p, err := exec.LookPath(tool); err == nil {
			if err := os.Symlink(p, filepath.Join(bare, tool)); err != nil {
				t.Fatal(err)
			}
		}
	}
	makePath, _ := exec.LookPath("make")
	cmd = exec.Command(makePath, "--no-print-directory", "-C", repoRoot, "image", "VERSION=v0.0.0-test")
	cmd.Env = []string{"PATH=" + bare, "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "neither a Docker engine") || !strings.Contains(string(out), "buildah") {
		t.Errorf("make image with neither docker nor buildah: err %v, output %q; want a failure naming what to install", err, out)
	}
}
