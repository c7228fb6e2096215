package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Dockerfile cannot be built here (no Docker engine), so these tests
// check what can be checked without one: its structure, by parsing it,
// and the builder stage's go build, run on exactly the files the
// Dockerfile copies into it.

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

// copyFrom returns the destination of `COPY --from=<from> <src> <dst>`.
func copyFrom(s stage, from, src string) (string, bool) {
	for _, c := range s.all("COPY") {
		f := strings.Fields(c.args)
		if len(f) == 3 && f[0] == "--from="+from && f[1] == src {
			return f[2], true
		}
	}
	return "", false
}

// argDefault returns the default of `ARG name=value` in a stage.
func argDefault(s stage, name string) string {
	for _, a := range s.all("ARG") {
		if k, v, ok := strings.Cut(a.args, "="); ok && k == name {
			return v
		}
	}
	return ""
}

func declaresArg(s stage, name string) bool {
	for _, a := range s.all("ARG") {
		if k, _, _ := strings.Cut(a.args, "="); k == name {
			return true
		}
	}
	return false
}

const distrolessNonroot = "gcr.io/distroless/static-debian12:nonroot"

func TestDockerfileFunctionImage(t *testing.T) {
	args, stages, ordered := readDockerfile(t)

	// Builder: runs on the build platform and cross-compiles a static,
	// path-free binary with the version stamped in.
	b, ok := stages["builder"]
	if !ok {
		t.Fatal("no stage named builder")
	}
	if b.platform != "$BUILDPLATFORM" {
		t.Errorf("builder must be FROM --platform=$BUILDPLATFORM, got %q", b.platform)
	}
	goMod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	if b.image != "golang:${GO_VERSION}" || args["GO_VERSION"] != string(goVersion[1]) {
		t.Errorf("builder image %q with GO_VERSION=%q; want golang:${GO_VERSION} with GO_VERSION = go.mod's %s", b.image, args["GO_VERSION"], goVersion[1])
	}
	for _, a := range []string{"TARGETOS", "TARGETARCH", "VERSION"} {
		if !declaresArg(b, a) {
			t.Errorf("builder does not declare ARG %s", a)
		}
	}
	build := ""
	for _, r := range b.all("RUN") {
		if strings.Contains(r.args, "go build") {
			build = r.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH", "-trimpath", "-X main.version=${VERSION}", "-o /out/meshfed ./functions/meshfed"} {
		if !strings.Contains(build, want) {
			t.Errorf("builder's go build lacks %q: %s", want, build)
		}
	}

	// Final stage (the default target): distroless nonroot, the entrypoint
	// is where the binary was copied.
	final := ordered[len(ordered)-1]
	if final.image != distrolessNonroot {
		t.Errorf("the default (last) stage must be FROM %s, got %s", distrolessNonroot, final.image)
	}
	dst, ok := copyFrom(final, "builder", "/out/meshfed")
	if !ok {
		t.Fatal("the final stage does not COPY --from=builder /out/meshfed")
	}
	eps := final.all("ENTRYPOINT")
	if len(eps) != 1 {
		t.Fatalf("want one ENTRYPOINT in the final stage, got %d", len(eps))
	}
	var ep []string
	if err := json.Unmarshal([]byte(eps[0].args), &ep); err != nil || len(ep) == 0 {
		t.Fatalf("ENTRYPOINT must be the exec (JSON) form, got %s", eps[0].args)
	}
	if ep[0] != dst {
		t.Errorf("ENTRYPOINT %q is not where the binary is copied (%q)", ep[0], dst)
	}
	assertNonrootUser(t, final)
	if len(final.all("RUN")) != 0 {
		t.Error("the final stage must not RUN anything: distroless has no shell")
	}
}

func assertNonrootUser(t *testing.T, s stage) {
	t.Helper()
	users := s.all("USER")
	if len(users) == 0 {
		return // distroless :nonroot already runs as 65532
	}
	u, _, _ := strings.Cut(users[len(users)-1].args, ":")
	if u == "root" || u == "0" {
		t.Errorf("stage %s runs as root", s.name)
	}
}

func TestDockerfileArgoCDSidecar(t *testing.T) {
	_, stages, _ := readDockerfile(t)
	s, ok := stages["argocd-cmp"]
	if !ok {
		t.Fatal("no stage named argocd-cmp")
	}
	if kz, ok := copyFrom(s, "kustomize", "/out/kustomize"); !ok || kz != "/usr/local/bin/kustomize" {
		t.Errorf("argocd-cmp must COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize, got %q", kz)
	}
	if mf, ok := copyFrom(s, "builder", "/out/meshfed"); !ok || mf != "/usr/local/bin/meshfed" {
		t.Errorf("argocd-cmp must COPY --from=builder /out/meshfed /usr/local/bin/meshfed, got %q", mf)
	}
	plugin := false
	for _, c := range s.all("COPY") {
		if c.args == "argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml" {
			plugin = true
		}
	}
	if !plugin {
		t.Error("argocd-cmp must COPY argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml")
	}
	users := s.all("USER")
	if len(users) == 0 || !strings.HasPrefix(users[len(users)-1].args, "999") {
		t.Errorf("argocd-cmp must run as user 999 (Argo CD's runAsUser), got %v", users)
	}
	// The base has no shell, so the plugin must not need one.
	if b, err := os.ReadFile(filepath.Join(repoRoot, "argocd", "plugin.yaml")); err == nil {
		if regexp.MustCompile(`command:\s*\[\s*(sh|bash|/bin/sh|/bin/bash)\b`).Match(b) && strings.HasPrefix(s.image, "gcr.io/distroless/static") {
			t.Error("argocd/plugin.yaml runs a shell, but the argocd-cmp stage's base has none")
		}
	}

	k, ok := stages["kustomize"]
	if !ok {
		t.Fatal("no stage named kustomize")
	}
	if k.platform != "$BUILDPLATFORM" {
		t.Errorf("kustomize stage must be FROM --platform=$BUILDPLATFORM, got %q", k.platform)
	}
	if v := argDefault(k, "KUSTOMIZE_VERSION"); v != "v5.8.2" {
		t.Errorf("KUSTOMIZE_VERSION=%q, want v5.8.2 (the version the project verifies against)", v)
	}
	install := ""
	for _, r := range k.all("RUN") {
		install += r.args
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH", "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}", "/out/kustomize"} {
		if !strings.Contains(install, want) {
			t.Errorf("kustomize stage lacks %q: %s", want, install)
		}
	}
}

// TestDockerfileBuilderBuilds copies into a temporary folder exactly the
// build-context files that the builder stage COPYs and .dockerignore lets
// through, and runs the stage's go build there for linux/arm64: a missing
// COPY (a new package outside fn/, internal/ or functions/) fails here
// rather than in the first real image build.
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

// TestMakeImage runs `make image` with a stand-in docker: without an
// engine it must say so and succeed; with one it must build both targets
// for both platforms with buildx.
func TestMakeImage(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	for _, engine := range []bool{false, true} {
		dir := t.TempDir()
		log := filepath.Join(dir, "docker.log")
		infoRC := "1"
		if engine {
			infoRC = "0"
		}
		script := "#!/bin/sh\necho \"$*\" >> '" + log + "'\nif [ \"$1\" = info ]; then exit " + infoRC + "; fi\nexit 0\n"
		if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("make", "--no-print-directory", "-C", repoRoot, "image", "VERSION=v0.0.0-test")
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("engine=%v: make image failed: %v\n%s", engine, err, out)
		}
		calls, _ := os.ReadFile(log)
		if !engine {
			if !strings.Contains(string(out), "no Docker engine") || strings.Contains(string(calls), "buildx") {
				t.Errorf("without an engine: want a clear message and no build, got output %q, docker calls %q", out, calls)
			}
			continue
		}
		for _, want := range []string{
			"buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v0.0.0-test -t ghcr.io/meshfed/meshfed:v0.0.0-test",
			"buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v0.0.0-test --target argocd-cmp -t ghcr.io/meshfed/meshfed-argocd-cmp:v0.0.0-test",
		} {
			if !strings.Contains(string(calls), want) {
				t.Errorf("with an engine: docker was not run as %q; calls:\n%s", want, calls)
			}
		}
	}
}
