package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/pipeline"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestBinary builds the real binary (with the version stamped the way the
// Makefile does) and runs it as kpt fn doc, a user and Helm would.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "meshfed")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version=v9.8.7-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(t *testing.T, stdin []byte, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				t.Fatal(err)
			}
		}
		return o.String(), e.String(), cmd.ProcessState.ExitCode()
	}

	t.Run("help", func(t *testing.T) {
		readme, err := os.ReadFile("README.md")
		if err != nil {
			t.Fatal(err)
		}
		// kpt fn doc may also send an empty ResourceList on stdin.
		emptyRL := []byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n")
		for _, args := range [][]string{{"--help"}, {"-h"}} {
			stdout, stderr, code := run(t, emptyRL, args...)
			if code != 0 || stderr != "" {
				t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
			}
			if stdout != fn.HelpText(string(readme)) {
				t.Errorf("%v: output is not README.md without its markers:\n%s", args, stdout)
			}
			for _, want := range []string{"--config FILE", "--version", "--help", "meshfed < resourcelist.yaml", "helm template"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("%v: help lacks %q", args, want)
				}
			}
		}
	})

	t.Run("version", func(t *testing.T) {
		stdout, stderr, code := run(t, nil, "--version")
		if code != 0 || stdout != "meshfed v9.8.7-test\n" || stderr != "" {
			t.Errorf("exit %d, stdout %q, stderr %q; want meshfed v9.8.7-test", code, stdout, stderr)
		}
		if version != "dev" {
			t.Errorf("the version of an unstamped build is %q, want dev", version)
		}
	})

	t.Run("unknown flag", func(t *testing.T) {
		for _, args := range [][]string{{"--nope"}, {"-n"}, {"--config"}, {"stray"}} {
			stdout, stderr, code := run(t, nil, args...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, "Run 'meshfed --help' for usage.") {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and a pointer to --help", args, code, stdout, stderr)
			}
		}
		_, stderr, _ := run(t, nil, "--nope")
		if !strings.HasPrefix(stderr, "meshfed: unknown flag --nope\n") {
			t.Errorf("stderr %q", stderr)
		}
	})

	t.Run("helm post-renderer", func(t *testing.T) {
		template := readFile(t, "testdata/helm-west-template.yaml")
		stdout, stderr, code := run(t, template, "--config", "testdata/helm-west-config.yaml")
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		// The chart's documents come out first, exactly as Helm rendered
		// them, `# Source:` comments included.
		if want := strings.TrimPrefix(string(template), "---\n"); !strings.HasPrefix(stdout, want) {
			t.Errorf("the rendered chart did not come through unchanged; output:\n%s", stdout)
		}
		for _, unwanted := range []string{"kind: ResourceList", "results:", "config.kubernetes.io/", "kind: MeshExport", "kind: ImportedServiceSet"} {
			if strings.Contains(stdout, unwanted) {
				t.Errorf("output contains %q:\n%s", unwanted, stdout)
			}
		}
		if !strings.Contains(stderr, "MeshExport/west generated") || !strings.Contains(stderr, "testdata/helm-west-config.yaml: [info]") {
			t.Errorf("stderr lacks the summary, located in the config file:\n%s", stderr)
		}
		// What is generated is what the KRM function generates for the
		// guide's West cluster, minus kpt's file bookkeeping.
		want := generatedFromResourceList(t, filepath.Join("..", "..", "examples", "guide", "west"))
		if got := generatedIn(t, stdout); strings.Join(got, "---\n") != strings.Join(want, "---\n") {
			t.Errorf("post-rendered objects differ from the KRM function's:\n%s", diffLines(strings.Join(want, "---\n"), strings.Join(got, "---\n")))
		}
		if len(want) == 0 {
			t.Error("nothing generated")
		}
		// Post-rendering the output again changes nothing.
		again, stderr2, code2 := run(t, []byte(stdout), "--config", "testdata/helm-west-config.yaml")
		if code2 != 0 || again != stdout {
			t.Errorf("second post-render: exit %d, stderr %s\n%s", code2, stderr2, diffLines(stdout, again))
		}
	})

	t.Run("helm 4 post-renderer stream", func(t *testing.T) {
		// Helm 4 sends bare documents, each annotated with its template
		// file, and files the output by that annotation.
		const fileAnnotation = "postrenderer.helm.sh/postrender-filename"
		nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(readFile(t, "testdata/helm-west-template.yaml")), OmitReaderAnnotations: true}).Read()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			text, err := n.String()
			if err != nil {
				t.Fatal(err)
			}
			_, src, _ := strings.Cut(strings.SplitN(text, "\n", 2)[0], "# Source: ")
			if src == "" {
				t.Fatalf("no # Source: comment on\n%s", text)
			}
			n.YNode().HeadComment = ""
			if len(n.YNode().Content) > 0 {
				n.YNode().Content[0].HeadComment = ""
			}
			if err := n.PipeE(yaml.SetAnnotation(fileAnnotation, src)); err != nil {
				t.Fatal(err)
			}
		}
		stream, err := kio.StringAll(nodes)
		if err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := run(t, []byte(stream), "--config", "testdata/helm-west-config.yaml")
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		out, err := kio.ParseAll(stdout) // what Helm 4 does with the output
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stdout, stream) {
			t.Errorf("the annotated documents did not come through unchanged:\n%s", stdout)
		}
		annotated := 0
		for _, n := range out {
			if n.GetAnnotations()[fileAnnotation] != "" {
				annotated++
			}
		}
		if annotated != len(nodes) || len(out) <= len(nodes) {
			t.Errorf("%d of %d output documents carry %s; want exactly the %d input documents, and generated ones after them", annotated, len(out), fileAnnotation, len(nodes))
		}
	})

	t.Run("helm post-renderer error", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "bad.yaml")
		writeFile(t, cfg, "apiVersion: meshfed.dev/v1alpha1\nkind: MeshExport\nmetadata:\n  name: west\nspec:\n  netwrok: west-network\n")
		stdout, stderr, code := run(t, readFile(t, "testdata/helm-west-template.yaml"), "--config", cfg)
		if code != 1 || stdout != "" {
			t.Errorf("exit %d, stdout %q: want exit 1 and nothing on stdout", code, stdout)
		}
		if !strings.Contains(stderr, cfg+": [error]") || !strings.Contains(stderr, "netwrok") {
			t.Errorf("stderr does not name the file and the field:\n%s", stderr)
		}
	})

	t.Run("stream with configs among the items", func(t *testing.T) {
		// What `make demo` does: a plain stream with a local-config MeshImport.
		stream := streamOf(t, filepath.Join("..", "..", "examples", "guide", "east"))
		stdout, stderr, code := run(t, stream)
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		if !strings.Contains(stderr, "[info] meshfed.dev/v1alpha1/MeshImport/east: MeshImport/east generated") {
			t.Errorf("the summary must be printed to stderr for a stream:\n%s", stderr)
		}
		if strings.Contains(stdout, "internal.config.kubernetes.io") || strings.Contains(stdout, "kind: ResourceList") {
			t.Errorf("a stream must come back as a plain stream without bookkeeping:\n%s", stdout)
		}
		if !strings.Contains(stdout, "kind: MeshImport") || len(generatedIn(t, stdout)) == 0 {
			t.Errorf("want the input (config included) and the generated objects:\n%s", stdout)
		}
	})
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// streamOf concatenates a folder's YAML files (subfolders included) into
// one stream, the way `make demo` does.
func streamOf(t *testing.T, dir string) []byte {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var buf bytes.Buffer
	for _, f := range files {
		buf.WriteString("---\n")
		buf.Write(readFile(t, f))
	}
	return buf.Bytes()
}

// generatedIn returns the generated documents of a plain stream, sorted.
func generatedIn(t *testing.T, stream string) []string {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: strings.NewReader(stream), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("the output does not parse: %v", err)
	}
	var docs []string
	for _, n := range nodes {
		if n.GetAnnotations()["meshfed.dev/generated-by"] == "" {
			continue
		}
		s, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, s)
	}
	sort.Strings(docs)
	return docs
}

// generatedFromResourceList runs the function on a package as kpt would
// and returns the generated objects without kpt's bookkeeping annotations.
func generatedFromResourceList(t *testing.T, dir string) []string {
	t.Helper()
	nodes, err := (&kio.LocalPackageReader{PackagePath: dir, IncludeSubpackages: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	if err := (kio.ByteWriter{Writer: &in, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion, KeepReaderAnnotations: true}).Write(nodes); err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	if code := fn.Run(fn.ItemsFunc(pipeline.ProcessItems), &in, &out, &stderr); code != 0 {
		t.Fatalf("the KRM function failed on %s: %s", dir, &stderr)
	}
	items, err := (&kio.ByteReader{Reader: &out, OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, n := range items {
		if n.GetAnnotations()["meshfed.dev/generated-by"] == "" {
			continue
		}
		for k := range n.GetAnnotations() {
			if strings.HasPrefix(k, "internal.config.kubernetes.io/") || strings.HasPrefix(k, "config.kubernetes.io/") {
				if err := n.PipeE(yaml.ClearAnnotation(k)); err != nil {
					t.Fatal(err)
				}
			}
		}
		s, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, s)
	}
	sort.Strings(docs)
	return docs
}
