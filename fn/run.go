// Package fn is meshfed's thin edge over the kpt functions SDK. It owns every
// piece of I/O: reading the ResourceList, writing it back, mirroring results
// to stderr and choosing the exit code. Domain code never touches stdin,
// stdout or os.Exit.
package fn

import (
	"fmt"
	"io"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Processor transforms a ResourceList in place and appends results to it.
// Problems are reported as results, never as a returned error: the SDK turns
// a returned error into an opaque "function failure" and drops the results.
type Processor interface {
	Process(rl *kfn.ResourceList)
}

// ProcessorFunc adapts a function to Processor.
type ProcessorFunc func(rl *kfn.ResourceList)

// Process implements Processor.
func (f ProcessorFunc) Process(rl *kfn.ResourceList) { f(rl) }

// ItemsProcessor is a Processor that can also return its output as Items,
// whose generated objects stay JSON until written: Run writes them one at
// a time, so only one generated object's YAML tree is alive at once (see
// Item). Its output must be what Process puts into rl.Items.
type ItemsProcessor interface {
	Processor
	// ProcessItems processes rl (results are appended to rl.Results)
	// and returns the output items, rl.Items as they are if it changes
	// nothing.
	ProcessItems(rl *kfn.ResourceList) Items
}

// ItemsFunc adapts a function that returns the output items to
// ItemsProcessor.
type ItemsFunc func(rl *kfn.ResourceList) Items

// ProcessItems implements ItemsProcessor.
func (f ItemsFunc) ProcessItems(rl *kfn.ResourceList) Items { return f(rl) }

// Process implements Processor: the output, converted, becomes rl.Items.
func (f ItemsFunc) Process(rl *kfn.ResourceList) {
	objs, err := f(rl).Objects()
	if err != nil {
		rl.Results = append(rl.Results, &kfn.Result{Severity: kfn.Error, Message: fmt.Sprintf("%v; this is a bug, please report it with your input", err)})
		return
	}
	rl.Items = objs
}

// processItems runs p on rl and returns the output items.
func processItems(p Processor, rl *kfn.ResourceList) Items {
	if ip, ok := p.(ItemsProcessor); ok {
		return ip.ProcessItems(rl)
	}
	p.Process(rl)
	return ItemsOf(rl.Items)
}

// Run reads a ResourceList from in, runs p and writes the ResourceList to
// out. Every error and warning result is also printed to stderr, because
// kustomize and Argo CD never show `results`. The returned exit code is 1 if
// and only if there is an error-severity result or the input could not be
// read; the orchestrators rely on it to stop a pipeline.
//
// It reads as kyaml's ByteReadWriter reads (read.go: kustomize's and kpt's
// reader, aliases resolved, duplicate keys refused), keeps the
// orchestrator's annotations and the item order, and accepts a
// ResourceList without a functionConfig, since meshfed's configs may be
// items.
func Run(p Processor, in io.Reader, out, stderr io.Writer) int {
	return RunWith(p, in, out, stderr, Options{})
}

// RunWith is Run with options. A ResourceList on in is handled exactly as
// Run describes; a plain multi-document stream is handled as stream.go
// describes.
func RunWith(p Processor, in io.Reader, out, stderr io.Writer, opts Options) int {
	b, err := io.ReadAll(in)
	if err != nil {
		fmt.Fprintf(stderr, "meshfed: reading stdin: %v\n", err)
		return 1
	}
	input, err := readInput(b)
	b = nil // let the input's bytes go
	if err != nil {
		fmt.Fprintf(stderr, "meshfed: reading stdin (a ResourceList or a YAML stream): %v\n", strings.TrimSpace(err.Error()))
		return 1
	}
	rw := input.rw
	rw.Writer = out
	if results := notObjects(input.items, rw.FunctionConfig); len(results) > 0 {
		return refuse(results, stderr)
	}
	rl := NewResourceList(input.items, rw.FunctionConfig, len(opts.Config))
	if len(input.problems) > 0 {
		// The processor never sees input that other tools would read
		// differently: the items go back as they came, with the problems.
		rl.Results = input.problems
		if rw.WrappingKind != kio.ResourceListKind {
			return reportStream(rl.Results, stderr)
		}
		if err := write(rw, rl); err != nil {
			fmt.Fprintf(stderr, "meshfed: writing the ResourceList to stdout: %v\n", err)
		}
		return ReportToStderr(rl.Results, stderr)
	}
	if rw.WrappingKind != kio.ResourceListKind {
		return runStream(p, rw, rl, stderr, opts)
	}
	added := opts.addConfig(rl)
	input = nil // the items are rl's now
	items := processItems(p, rl).without(added)
	// The writer drops each item once it is written (see writeItems), so
	// nothing else may hold them.
	rl.Items = nil
	if opts.OwnProcess {
		defer collectLessWhileWriting()()
	}
	if err := writeOutput(rw, rl.Results, items); err != nil {
		fmt.Fprintf(stderr, "meshfed: writing the ResourceList to stdout: %v\n", err)
		return 1
	}
	return ReportToStderr(rl.Results, stderr)
}

func write(rw *kio.ByteReadWriter, rl *kfn.ResourceList) error {
	return writeOutput(rw, rl.Results, ItemsOf(rl.Items))
}

// writeOutput writes items and results as a ResourceList with rw's
// wrapping and functionConfig. It consumes items: each is dropped once
// written.
func writeOutput(rw *kio.ByteReadWriter, results kfn.Results, items Items) error {
	if len(results) > 0 {
		b, err := yaml.Marshal(results)
		if err != nil {
			return err
		}
		if rw.Results, err = yaml.Parse(string(b)); err != nil {
			return err
		}
	}
	return writeItems(rw, items) // see writer.go: rw.Write, byte for byte, but cheaper
}

// ReportToStderr prints error and warning results, one per line, and
// returns the exit code they call for.
func ReportToStderr(results kfn.Results, stderr io.Writer) int {
	code := 0
	for _, r := range results {
		if r == nil {
			continue
		}
		switch r.Severity {
		case kfn.Error:
			code = 1
		case kfn.Warning:
		default:
			continue
		}
		fmt.Fprintln(stderr, r.String())
	}
	return code
}

// notObjects reports items (and a functionConfig) that are not YAML
// mappings. They cannot be Kubernetes objects, and the SDK's object
// accessors end the process (log.Fatalf) on some of them, e.g. a list as an
// item. Found by FuzzRun.
func notObjects(nodes []*yaml.RNode, functionConfig *yaml.RNode) kfn.Results {
	var results kfn.Results
	refuse := func(field, what string, n *yaml.Node) {
		results = append(results, &kfn.Result{
			Severity: kfn.Error,
			Field:    &kfn.Field{Path: field},
			Message:  fmt.Sprintf("%s is a YAML %s, not an object: every item must be a Kubernetes object (a mapping with apiVersion, kind and metadata); fix it or remove it", what, kindName(n)),
		})
	}
	for i, n := range nodes {
		if n.YNode().Kind != yaml.MappingNode {
			refuse(fmt.Sprintf("items[%d]", i), fmt.Sprintf("item %d (counting from 0)", i), n.YNode())
		}
	}
	if functionConfig != nil && functionConfig.YNode().Kind != yaml.MappingNode && !functionConfig.IsNilOrEmpty() {
		refuse("functionConfig", "the functionConfig", functionConfig.YNode())
	}
	return results
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// refuse reports items that are not objects on stderr and writes nothing:
// such input is not a ResourceList of KRM objects, like input that does not
// parse (kyaml itself cannot write a list as an item).
func refuse(results kfn.Results, stderr io.Writer) int {
	ReportToStderr(results, stderr)
	return 1
}

// NewResourceList wraps the nodes read from a ResourceList as KubeObjects
// without copying them; extra is room for items the caller will add.
func NewResourceList(nodes []*yaml.RNode, functionConfig *yaml.RNode, extra int) *kfn.ResourceList {
	rl := &kfn.ResourceList{Items: make(kfn.KubeObjects, 0, len(nodes)+extra), FunctionConfig: kfn.NewEmptyKubeObject()}
	for _, n := range nodes {
		rl.Items = append(rl.Items, kfn.MoveToKubeObject(n))
	}
	if functionConfig != nil {
		// Copied, not moved: the writer echoes the original back.
		rl.FunctionConfig = kfn.CopyToKubeObject(functionConfig)
	}
	return rl
}
