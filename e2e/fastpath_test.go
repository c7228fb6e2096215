package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/bench/kustomize/layout"
)

// The large-mesh fast path, argocd/plugin-pipe.yaml: `kustomize build`
// without the transformer, piped through `meshfed --config`. Its script
// runs here under busybox sh, the shell of the Dockerfile's
// argocd-cmp-shell image (Debian's dash has no pipefail and would fail at
// the script's first line).

func pipeScript(t *testing.T) (shell []string) {
	t.Helper()
	bash := requireTool(t, "bash", "apt-get install bash")
	p := readPluginFile(t, filepath.Join(repoRoot, "argocd", "plugin-pipe.yaml"))
	if strings.Join(p.Spec.Generate.Command, " ") != "sh -c" || len(p.Spec.Generate.Args) != 1 {
		t.Fatalf("plugin-pipe.yaml: generate is %q %q, want [sh, -c] and one script", p.Spec.Generate.Command, p.Spec.Generate.Args)
	}
	if !strings.Contains(p.Spec.Generate.Args[0], "set -eu -o pipefail") {
		t.Error("plugin-pipe.yaml's script does not set pipefail: a kustomize error would go unnoticed")
	}
	return []string{bash, "-c", p.Spec.Generate.Args[0]}
}

// TestFastPathEqualsTransformer renders a generated exporter of 40
// Services both ways: the same objects must come out.
func TestFastPathEqualsTransformer(t *testing.T) {
	requireKustomize(t)
	sh := pipeScript(t)
	dir := t.TempDir()
	if err := layout.Write(dir, 40); err != nil {
		t.Fatal(err)
	}
	viaTransformer := run(t, filepath.Join(dir, layout.Transformer), nil, "kustomize", kustomizeBuild...)
	if viaTransformer.code != 0 {
		t.Fatalf("transformer build exited %d:\n%s", viaTransformer.code, viaTransformer.stderr)
	}
	viaPipe := run(t, filepath.Join(dir, layout.Pipe), nil, sh[0], sh[1:]...)
	if viaPipe.code != 0 {
		t.Fatalf("fast path exited %d:\n%s", viaPipe.code, viaPipe.stderr)
	}
	got, want := parseObjects(t, viaPipe.stdout), parseObjects(t, viaTransformer.stdout)
	if len(generated(want)) == 0 {
		t.Fatal("the transformer generated nothing; the input is not what this test expects")
	}
	assertSameObjectSet(t, got, want)
	assertNoPeerItems(t, got, "")
}

// TestFastPathFleet renders examples/fleet/render-pipe/alpha: the same
// objects as the transformer render of examples/fleet/render/alpha.
func TestFastPathFleet(t *testing.T) {
	requireKustomize(t)
	sh := pipeScript(t)
	r := run(t, filepath.Join(fleetDir, "render-pipe", "alpha"), nil, sh[0], sh[1:]...)
	if r.code != 0 {
		t.Fatalf("fast path exited %d:\n%s", r.code, r.stderr)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "kustomize", "fleet-alpha.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	assertSameObjectSet(t, parseObjects(t, r.stdout), parseObjects(t, string(want)))
}

// TestFastPathFailures: any failing step fails the script, with the
// failing tool's message on stderr and nothing on stdout that Argo CD
// could sync.
func TestFastPathFailures(t *testing.T) {
	requireKustomize(t)
	sh := pipeScript(t)
	for _, c := range []struct {
		name, file, old, new, wantStderr string
	}{
		{
			name: "meshfed rejects the config",
			file: "meshfed.yaml", old: "network: beta-network", new: "network: network-beta-mesh",
			wantStderr: `spec.peers[0].network: must differ from "network-beta-mesh"`,
		},
		{
			// meshfed would succeed on the empty stream kustomize leaves:
			// only pipefail makes this fail.
			name: "kustomize fails before the pipe's end",
			file: "kustomization.yaml", old: "- ../../clusters/alpha", new: "- ../../clusters/alpha\n- missing.yaml",
			wantStderr: "missing.yaml",
		},
		{
			name: "a peer folder does not build",
			file: "peer-beta-mesh/kustomization.yaml", old: "- ../../../clusters/beta", new: "- ../../../clusters/nonexistent",
			wantStderr: "nonexistent",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			fleet := filepath.Join(t.TempDir(), "fleet")
			copyDir(t, fleetDir, fleet)
			app := filepath.Join(fleet, "render-pipe", "alpha")
			editFile(t, filepath.Join(app, c.file), c.old, c.new)
			r := run(t, app, nil, sh[0], sh[1:]...)
			if r.code == 0 {
				t.Fatalf("the fast path succeeded; Argo CD would sync:\n%s", r.stdout)
			}
			if !strings.Contains(r.stderr, c.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", c.wantStderr, r.stderr)
			}
			if strings.TrimSpace(r.stdout) != "" {
				t.Errorf("the failed fast path printed output:\n%s", r.stdout)
			}
		})
	}
}
