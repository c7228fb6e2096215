package fn

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Options changes how RunWith treats its input.
type Options struct {
	// Config holds configuration documents given outside the input, such
	// as the contents of a --config file. When set, they replace the
	// functionConfig: each is handed to the processor as an item marked
	// config.kubernetes.io/local-config (so the user need not write the
	// annotation) and is removed from the output again.
	Config []*yaml.RNode
	// ConfigPath names where Config came from; results about a config
	// document point at it.
	ConfigPath string
	// OwnProcess says that the process runs nothing but this function
	// (the binary's main), so RunWith may change the garbage collector's
	// pacing while it writes a ResourceList (gc.go says why).
	OwnProcess bool
}

// addConfig puts opts.Config in front of the items (configs there win over
// configs of the same kind and name among the input items) and returns
// the objects it added.
func (opts Options) addConfig(rl *kfn.ResourceList) map[*kfn.KubeObject]bool {
	if len(opts.Config) == 0 {
		return nil
	}
	rl.FunctionConfig = kfn.NewEmptyKubeObject()
	added := make(map[*kfn.KubeObject]bool, len(opts.Config))
	items := make(kfn.KubeObjects, 0, len(opts.Config)+len(rl.Items))
	for i, n := range opts.Config {
		o := kfn.CopyToKubeObject(n)
		_ = o.SetAnnotation(LocalConfigAnnotation, "true")
		if opts.ConfigPath != "" {
			_ = o.SetAnnotation(PathAnnotation, opts.ConfigPath)
			_ = o.SetAnnotation("internal.config.kubernetes.io/index", strconv.Itoa(i))
		}
		added[o] = true
		items = append(items, o)
	}
	rl.Items = append(items, rl.Items...)
	return added
}

// without returns items minus the objects in drop.
func without(items kfn.KubeObjects, drop map[*kfn.KubeObject]bool) kfn.KubeObjects {
	if len(drop) == 0 {
		return items
	}
	out := make(kfn.KubeObjects, 0, len(items))
	for _, it := range items {
		if !drop[it] {
			out = append(out, it)
		}
	}
	return out
}

// runStream handles a plain multi-document YAML stream, such as a Helm
// post-renderer receives or `make demo` pipes in. A stream has no results
// field and goes straight to kubectl or helm, so it differs from a
// ResourceList in three ways:
//   - every result, info included, is printed to stderr;
//   - on an error nothing at all is written to out (a pipe into kubectl
//     apply must not apply the input without what should be generated);
//   - objects the processor added carry no orchestrator bookkeeping
//     annotations (internal.config.kubernetes.io/path, index, ...): there
//     is no package for them to place objects in.
//
// Input documents that the processor leaves alone come out as they came
// in, comments (such as Helm's `# Source:` lines) included.
func runStream(p Processor, rw *kio.ByteReadWriter, rl *kfn.ResourceList, stderr io.Writer, opts Options) int {
	original := make(map[*kfn.KubeObject]bool, len(rl.Items))
	for _, it := range rl.Items {
		original[it] = true
	}
	added := opts.addConfig(rl)
	p.Process(rl)
	rl.Items = without(rl.Items, added)
	code := reportStream(rl.Results, stderr)
	if code != 0 {
		return code
	}
	nodes := make([]*yaml.RNode, 0, len(rl.Items))
	for _, it := range rl.Items {
		if !original[it] {
			stripTracking(it)
		}
		nodes = append(nodes, it.MoveToResourceNode())
	}
	var buf bytes.Buffer
	out := rw.Writer
	rw.Writer = &buf
	rw.Results = nil
	if err := rw.Write(nodes); err != nil {
		fmt.Fprintf(stderr, "meshfed: writing the YAML stream to stdout: %v\n", err)
		return 1
	}
	if _, err := buf.WriteTo(out); err != nil {
		fmt.Fprintf(stderr, "meshfed: writing the YAML stream to stdout: %v\n", err)
		return 1
	}
	return 0
}

// stripTracking removes the annotations through which kpt and kustomize
// place an object in a package.
func stripTracking(o *kfn.KubeObject) {
	for k := range o.GetAnnotations() {
		if trackingAnnotation(k) {
			_ = o.RemoveAnnotation(k)
		}
	}
	if len(o.GetAnnotations()) == 0 {
		_, _ = o.RemoveNestedField("metadata", "annotations")
	}
}

// reportStream prints every result, one per line, prefixed with the file
// it concerns when known, and returns the exit code they call for.
func reportStream(results kfn.Results, stderr io.Writer) int {
	code := 0
	for _, r := range results {
		if r == nil {
			continue
		}
		if r.Severity == kfn.Error {
			code = 1
		}
		line := r.String()
		if r.File != nil && r.File.Path != "" {
			line = r.File.Path + ": " + line
		}
		fmt.Fprintln(stderr, line)
	}
	return code
}
