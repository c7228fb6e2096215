package fn

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testCommand() Command {
	return Command{
		Name:      "demo",
		Version:   "v1.2.3",
		Usage:     "# demo\n<!--mdtogo:Short-->\nDoes things.\n<!--mdtogo-->\n\nUsage: demo < in\n",
		Processor: generator(nil),
	}
}

func runMain(args []string, stdin string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = testCommand().Main(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMainFlags(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "cfg.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: example.com/v1\nkind: Settings\nmetadata:\n  name: one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring; "" means stdout must be empty
		stderr     string // substring
		noStdinUse bool
	}{
		{name: "help", args: []string{"--help"}, code: 0, stdout: "# demo\nDoes things.\n\nUsage: demo < in\n"},
		{name: "h", args: []string{"-h"}, code: 0, stdout: "Usage: demo"},
		{name: "help wins", args: []string{"--version", "--help"}, code: 0, stdout: "Usage: demo"},
		{name: "version", args: []string{"--version"}, code: 0, stdout: "demo v1.2.3\n"},
		{name: "unknown long flag", args: []string{"--frobnicate"}, code: 2, stderr: "demo: unknown flag --frobnicate\nRun 'demo --help' for usage."},
		{name: "unknown short flag", args: []string{"-x"}, code: 2, stderr: "unknown flag -x"},
		{name: "config without value", args: []string{"--config"}, code: 2, stderr: "--config needs a value"},
		{name: "config empty", args: []string{"--config="}, code: 2, stderr: "--config needs a file name"},
		{name: "positional", args: []string{"input.yaml"}, code: 2, stderr: `unexpected argument "input.yaml": demo reads its input on stdin`},
		{name: "missing config", args: []string{"--config", "does-not-exist.yaml"}, code: 1, stderr: "reading --config"},
		{name: "config", args: []string{"--config", cfg}, code: 0, stdout: "name: web-generated"},
		{name: "config=", args: []string{"--config=" + cfg}, code: 0, stdout: "name: web-generated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runMain(c.args, helmStream)
			if code != c.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, c.code, stderr)
			}
			if c.stdout == "" && stdout != "" {
				t.Errorf("stdout must be empty, got %q", stdout)
			}
			if c.stdout != "" && !strings.Contains(stdout, c.stdout) {
				t.Errorf("stdout %q lacks %q", stdout, c.stdout)
			}
			if c.stderr != "" && !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, c.stderr)
			}
			if c.code == 0 && c.stderr == "" && strings.Contains(stderr, "error") {
				t.Errorf("unexpected stderr %q", stderr)
			}
		})
	}
}

func TestHelpTextDropsMarkers(t *testing.T) {
	got := HelpText("\n<!--mdtogo:Long-->\ntext\n  <!-- note -->\nmore\n\n\n")
	if got != "text\nmore\n" {
		t.Errorf("got %q", got)
	}
}

func TestReadConfigFileDuplicates(t *testing.T) {
	set := func(peer string) string {
		ann := ""
		if peer != "" {
			ann = "  annotations:\n    meshfed.dev/peer: " + peer + "\n"
		}
		return "apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata:\n  name: alpha-mesh\n  namespace: istio-system\n" + ann
	}
	for _, c := range []struct {
		name, docs, err string
	}{
		{name: "one object twice", docs: set("") + "---\n" + set(""), err: "documents 1 and 2 are both ExportedServiceSet alpha-mesh"},
		{name: "one peer's object twice", docs: set("beta-mesh") + "---\n" + set("beta-mesh"), err: "documents 1 and 2 are both"},
		{name: "two peers' objects with one ID", docs: set("beta-mesh") + "---\n" + set("gamma-mesh")},
		{name: "this mesh's and a peer's", docs: set("") + "---\n" + set("gamma-mesh")},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(file, []byte(c.docs), 0o644); err != nil {
				t.Fatal(err)
			}
			docs, err := ReadConfigFile(file)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.err == "" && len(docs) != 2:
				t.Fatalf("read %d documents, want 2", len(docs))
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}
