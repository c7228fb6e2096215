package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// kpt packages are tested the way kpt's own e2e runner
// (github.com/kptdev/kpt/pkg/test/runner) tests them, from the same
// .expected/ files: copy the package to a temporary folder, commit it to a
// fresh git repository, run `kpt fn render` twice, and after each run
// compare `git diff <first commit> HEAD` with .expected/diff.patch. On top
// of that, the second render must leave the files exactly as the first
// left them.
//
// The runner package itself cannot be imported here: it pulls in kpt's
// internal/fnruntime and, through it, k8s.io/kubectl and cli-utils
// versions that need packages our k8s.io/api pin no longer has
// (k8s.io/api/scheduling/v1alpha1), so `go get` cannot resolve it without
// moving every Kubernetes dependency. This harness is the subset of it
// that render tests use; its config fields are the runner's, and unknown
// fields are rejected rather than ignored.

// kptCaseConfig is .expected/config.yaml.
type kptCaseConfig struct {
	TestType    string `yaml:"testType"` // only "render" (the default)
	ExitCode    int    `yaml:"exitCode"`
	Skip        bool   `yaml:"skip"`
	AllowExec   bool   `yaml:"allowExec"`
	StdOut      string `yaml:"stdOut"`
	StdErr      string `yaml:"stdErr"`
	StdErrRegEx string `yaml:"stdErrRegEx"`
}

// kptPackages are the packages under test: the examples users read, and
// failure cases that only make sense as tests.
func kptPackages(t *testing.T) []string {
	var pkgs []string
	for _, glob := range []string{filepath.Join(repoRoot, "examples", "*"), filepath.Join("testdata", "kpt", "*")} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			if _, err := os.Stat(filepath.Join(p, ".expected", "config.yaml")); err == nil {
				pkgs = append(pkgs, p)
			}
		}
	}
	if len(pkgs) == 0 {
		t.Fatal("no kpt packages with .expected/config.yaml found")
	}
	return pkgs
}

func TestKptRender(t *testing.T) {
	requireKpt(t)
	for _, pkg := range kptPackages(t) {
		t.Run(filepath.Base(pkg), func(t *testing.T) {
			t.Parallel()
			renderKptPackage(t, pkg)
		})
	}
}

func readKptCaseConfig(t *testing.T, pkg string) kptCaseConfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pkg, ".expected", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c kptCaseConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s/.expected/config.yaml: %v (this harness supports the runner's render fields: %s)", pkg, err, "exitCode, skip, allowExec, stdOut, stdErr, stdErrRegEx")
	}
	if c.TestType != "" && c.TestType != "render" {
		t.Fatalf("%s: testType %q is not supported by this harness, only render", pkg, c.TestType)
	}
	return c
}

func renderKptPackage(t *testing.T, src string) {
	cfg := readKptCaseConfig(t, src)
	if cfg.Skip {
		t.Skip("skip: true in .expected/config.yaml")
	}
	pkg := filepath.Join(t.TempDir(), filepath.Base(src))
	copyDir(t, src, pkg)
	git(t, pkg, "init", "-q")
	git(t, pkg, "add", "--all")
	commit(t, pkg, "first")
	initial := strings.TrimSpace(git(t, pkg, "rev-parse", "HEAD"))

	args := []string{"fn", "render", pkg}
	if cfg.AllowExec {
		args = append(args, "--allow-exec")
	}
	diffFile := filepath.Join(src, ".expected", "diff.patch")
	var firstTree string
	for i := 0; i < 2; i++ {
		// Like kpt's runner, run from this test's folder, not the package:
		// the Kptfile's bare `exec: meshfed` must be found on PATH.
		r := run(t, "", nil, "kpt", args...)
		if r.code != cfg.ExitCode {
			t.Fatalf("render %d: kpt exited %d, want %d\nstdout:\n%s\nstderr:\n%s", i+1, r.code, cfg.ExitCode, r.stdout, r.stderr)
		}
		if i == 0 {
			if !strings.Contains(r.stderr, cfg.StdErr) {
				t.Errorf("stderr does not contain %q:\n%s", cfg.StdErr, r.stderr)
			}
			if cfg.StdErrRegEx != "" && !regexp.MustCompile(cfg.StdErrRegEx).MatchString(r.stderr) {
				t.Errorf("stderr does not match %q:\n%s", cfg.StdErrRegEx, r.stderr)
			}
			if !strings.Contains(r.stdout, cfg.StdOut) {
				t.Errorf("stdout does not contain %q:\n%s", cfg.StdOut, r.stdout)
			}
		}
		if i == 1 && cfg.ExitCode == 0 {
			if status := git(t, pkg, "status", "--porcelain"); status != "" {
				t.Errorf("the second render changed the package:\n%s%s", status, git(t, pkg, "diff"))
			}
		}
		git(t, pkg, "add", "--all")
		commit(t, pkg, "second")
		got := strings.TrimSpace(git(t, pkg, "diff", initial, "HEAD"))
		if os.Getenv("KPT_E2E_UPDATE_EXPECTED") == "true" && i == 0 {
			if got != "" {
				if err := os.WriteFile(diffFile, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				os.Remove(diffFile)
			}
		}
		want := ""
		if b, err := os.ReadFile(diffFile); err == nil {
			want = strings.TrimSpace(string(b))
		}
		if got != want {
			t.Fatalf("render %d: package diff does not match %s (KPT_E2E_UPDATE_EXPECTED=true rewrites it; review the diff):\n%s", i+1, diffFile, lineDiff(want, got))
		}
		if i == 0 {
			firstTree = git(t, pkg, "rev-parse", "HEAD^{tree}")
		} else if tree := git(t, pkg, "rev-parse", "HEAD^{tree}"); tree != firstTree {
			t.Errorf("the second render left different files than the first")
		}
		if cfg.ExitCode != 0 {
			break // like the runner: a failing render is run once
		}
	}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	r := run(t, dir, nil, "git", args...)
	if r.code != 0 {
		t.Fatalf("git %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

func commit(t *testing.T, dir, msg string) {
	t.Helper()
	git(t, dir, "-c", "user.name=none", "-c", "user.email=none", "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", msg)
}
