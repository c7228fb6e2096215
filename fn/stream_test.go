package fn

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
)

// helmStream mimics `helm template`: every document starts with --- and
// a `# Source:` comment.
const helmStream = `---
# Source: chart/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: app
spec:
  ports:
  - port: 80 # http
---
# Source: chart/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: app
data:
  a: "1"
`

// generator is a stand-in processor: it adds one ConfigMap per Service,
// with kpt's bookkeeping annotations as meshfed's pipeline sets them, and
// one info result; it fails when an item is named "broken".
func generator(seen *kfn.ResourceList) Processor {
	return ProcessorFunc(func(rl *kfn.ResourceList) {
		if seen != nil {
			*seen = *rl
			seen.Items = append(kfn.KubeObjects(nil), rl.Items...)
		}
		var gen kfn.KubeObjects
		for _, it := range rl.Items {
			if it.GetName() == "broken" {
				rl.Results = append(rl.Results, kfn.ErrorResult(errString("item is broken")))
				return
			}
			if it.GetKind() != "Service" {
				continue
			}
			o := kfn.NewEmptyKubeObject()
			_ = o.SetAPIVersion("v1")
			_ = o.SetKind("ConfigMap")
			_ = o.SetName(it.GetName() + "-generated")
			_ = o.SetNamespace(it.GetNamespace())
			_ = o.SetAnnotation("example.com/generated", "true")
			_ = o.SetAnnotation(PathAnnotation, "generated/x.yaml")
			_ = o.SetAnnotation("internal.config.kubernetes.io/index", "0")
			_ = o.SetAnnotation(LegacyIndexAnnotation, "0")
			gen = append(gen, o)
		}
		rl.Items = append(rl.Items, gen...)
		rl.Results = append(rl.Results, &kfn.Result{Severity: kfn.Info, Message: "generated 1 ConfigMap"})
	})
}

type errString string

func (e errString) Error() string { return string(e) }

func TestStreamKeepsInputAndStripsBookkeeping(t *testing.T) {
	var out, stderr bytes.Buffer
	code := Run(generator(nil), strings.NewReader(helmStream), &out, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, &stderr)
	}
	got := out.String()
	// The input documents come out as they went in, Helm's comments and
	// inline comments included (only the leading --- is not repeated).
	if want := strings.TrimPrefix(helmStream, "---\n"); !strings.HasPrefix(got, want) {
		t.Errorf("input documents changed; want the output to start with:\n%s\ngot:\n%s", want, got)
	}
	if strings.Contains(got, "ResourceList") || strings.Contains(got, "results:") {
		t.Errorf("a stream must come back as a stream, got:\n%s", got)
	}
	for _, a := range []string{PathAnnotation, "internal.config.kubernetes.io/index", LegacyIndexAnnotation} {
		if strings.Contains(got, a) {
			t.Errorf("bookkeeping annotation %s left in the stream:\n%s", a, got)
		}
	}
	if !strings.Contains(got, "name: web-generated") || !strings.Contains(got, "example.com/generated") {
		t.Errorf("generated object or its own annotation missing:\n%s", got)
	}
	if !strings.Contains(stderr.String(), "[info]: generated 1 ConfigMap") {
		t.Errorf("stream mode must print info results to stderr, got %q", stderr.String())
	}
}

func TestStreamErrorWritesNothing(t *testing.T) {
	in := helmStream + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n"
	var out, stderr bytes.Buffer
	if code := Run(generator(nil), strings.NewReader(in), &out, &stderr); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if out.Len() != 0 {
		t.Errorf("stdout must be empty on an error, got:\n%s", &out)
	}
	if !strings.Contains(stderr.String(), "[error]: item is broken") {
		t.Errorf("stderr %q lacks the error", stderr.String())
	}
}

// A ResourceList keeps its wrapper, results and the orchestrator's
// annotations: kpt needs them to write generated objects to files.
func TestResourceListUnchangedBehaviour(t *testing.T) {
	in := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + indent(strings.TrimPrefix(helmStream, "---\n"))
	var out, stderr bytes.Buffer
	if code := Run(generator(nil), strings.NewReader(in), &out, &stderr); code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, &stderr)
	}
	got := out.String()
	for _, want := range []string{"kind: ResourceList", "results:", "message: generated 1 ConfigMap", PathAnnotation + ": generated/x.yaml"} {
		if !strings.Contains(got, want) {
			t.Errorf("ResourceList output lacks %q:\n%s", want, got)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("info results of a ResourceList belong in results only, stderr: %q", stderr.String())
	}
}

// indent turns a multi-document stream into ResourceList items.
func indent(stream string) string {
	var b strings.Builder
	for _, doc := range strings.Split(stream, "---\n") {
		first := true
		for _, line := range strings.Split(strings.TrimRight(doc, "\n"), "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			if first {
				b.WriteString("- " + line + "\n")
				first = false
			} else {
				b.WriteString("  " + line + "\n")
			}
		}
	}
	return b.String()
}

func TestConfigOptionGivesItemsAndRemovesThem(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "cfg.yaml")
	cfg := "apiVersion: example.com/v1\nkind: Settings\nmetadata:\n  name: one\n---\napiVersion: example.com/v1\nkind: Settings\nmetadata:\n  name: two\n  annotations:\n    keep: me\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	docs, err := ReadConfigFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	var seen kfn.ResourceList
	var out, stderr bytes.Buffer
	code := RunWith(generator(&seen), strings.NewReader(helmStream), &out, &stderr, Options{Config: docs, ConfigPath: "cfg.yaml"})
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, &stderr)
	}
	if !seen.FunctionConfig.IsEmpty() {
		t.Errorf("--config replaces the functionConfig; the processor got %s", seen.FunctionConfig.String())
	}
	if len(seen.Items) != 4 || seen.Items[0].GetName() != "one" || seen.Items[1].GetName() != "two" {
		t.Fatalf("the config documents must come first among the items, got %d items", len(seen.Items))
	}
	for _, it := range seen.Items[:2] {
		if !IsLocalConfig(it) || it.GetAnnotation(PathAnnotation) != "cfg.yaml" {
			t.Errorf("config item %s: want local-config and path cfg.yaml, got annotations %v", it.GetName(), it.GetAnnotations())
		}
	}
	if seen.Items[1].GetAnnotation("keep") != "me" {
		t.Error("the config's own annotations must be kept")
	}
	if strings.Contains(out.String(), "kind: Settings") {
		t.Errorf("config documents must not be written out:\n%s", &out)
	}
}

func TestReadConfigFileRejects(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ content, want string }{
		"empty":        {"# nothing\n", "holds no YAML document"},
		"resourcelist": {"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n", "is a ResourceList"},
		"duplicate":    {"apiVersion: a/v1\nkind: K\nmetadata: {name: x}\n---\napiVersion: a/v1\nkind: K\nmetadata: {name: x}\n", "documents 1 and 2 are both K x"},
	}
	for name, c := range cases {
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadConfigFile(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, c.want)
		}
	}
	if _, err := ReadConfigFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file must be an error")
	}
}

// --config also works under kpt or kustomize (a ResourceList): the config
// documents replace the functionConfig and never reach the output.
func TestConfigOptionWithResourceList(t *testing.T) {
	in := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + indent(strings.TrimPrefix(helmStream, "---\n"))
	docs, err := ReadConfigFile(writeTemp(t, "apiVersion: example.com/v1\nkind: Settings\nmetadata:\n  name: one\n"))
	if err != nil {
		t.Fatal(err)
	}
	var seen kfn.ResourceList
	var out, stderr bytes.Buffer
	if code := RunWith(generator(&seen), strings.NewReader(in), &out, &stderr, Options{Config: docs}); code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, &stderr)
	}
	if len(seen.Items) != 3 || !IsLocalConfig(seen.Items[0]) {
		t.Errorf("the processor must see the config as a local-config item first, got %d items", len(seen.Items))
	}
	if got := out.String(); !strings.Contains(got, "kind: ResourceList") || strings.Contains(got, "kind: Settings") {
		t.Errorf("want a ResourceList without the config document:\n%s", got)
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cfg.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
