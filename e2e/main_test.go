// Package e2e runs meshfed through the real orchestrators: kustomize
// (kustomization-samples/), kpt (examples/kpt-*) and the Argo CD config
// management plugin (argocd/plugin.yaml). It builds meshfed itself, so
// `go test ./...` works without `make build`; kustomize and kpt must be on
// PATH (or in $(go env GOPATH)/bin). Without them the tests skip, except
// under CI (CI set), where a missing tool is a failure.
package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the repository root, relative to this package's directory
// (go test runs in it).
const repoRoot = ".."

// updateGolden rewrites golden files instead of comparing with them.
var updateGolden = os.Getenv("UPDATE_GOLDEN") != ""

// meshfedDir is the folder holding the freshly built meshfed binary; it is
// first on PATH for every command the tests run.
var meshfedDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "meshfed-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		build := exec.Command("go", "build", "-ldflags=-s -w", "-o", filepath.Join(dir, "meshfed"), "./functions/meshfed")
		build.Dir = repoRoot
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: building meshfed: %v\n%s", err, out)
			return 1
		}
		meshfedDir = dir
		path := dir + string(os.PathListSeparator) + os.Getenv("PATH")
		if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			// CI installs kustomize with `go install`.
			path += string(os.PathListSeparator) + filepath.Join(strings.TrimSpace(string(gopath)), "bin")
		}
		os.Setenv("PATH", path)
		return m.Run()
	}()
	os.Exit(code)
}

// requireTool returns the path of a command-line tool, skipping the test
// when it is missing (failing it under CI, which installs it).
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not on PATH (%s); this end-to-end test needs it", name, install)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func requireKustomize(t *testing.T) string {
	return requireTool(t, "kustomize", "install it with: go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2")
}

func requireKpt(t *testing.T) string {
	return requireTool(t, "kpt", "install kpt 1.0.0-beta.56 or later from https://github.com/kptdev/kpt/releases")
}

// result is what a command did.
type result struct {
	stdout, stderr string
	code           int
}

// run runs a command in dir with the given environment (nil: this
// process's) and returns what it printed and its exit code.
func run(t *testing.T, dir string, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s %s: %v", name, strings.Join(args, " "), err)
	}
	return r
}

// copyDir copies a folder tree, keeping file modes.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

// compareGolden compares got with a golden file, or rewrites the file
// when UPDATE_GOLDEN is set.
func compareGolden(t *testing.T, file, got string) {
	t.Helper()
	if updateGolden {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it, then review it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (UPDATE_GOLDEN=1 rewrites it; review the diff):\n%s", file, lineDiff(string(want), got))
	}
}

// lineDiff is a small line-by-line report of where two texts differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %q\n  got:  %q\n", i+1, wl, gl)
			if shown++; shown == 10 {
				b.WriteString("  ...\n")
				break
			}
		}
	}
	return b.String()
}
