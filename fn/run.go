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

// Run reads a ResourceList from in, runs p and writes the ResourceList to
// out. Every error and warning result is also printed to stderr, because
// kustomize and Argo CD never show `results`. The returned exit code is 1 if
// and only if there is an error-severity result or the input could not be
// read; the orchestrators rely on it to stop a pipeline.
func Run(p Processor, in io.Reader, out, stderr io.Writer) int {
	var results kfn.Results
	err := kfn.Execute(kfn.ResourceListProcessorFunc(func(rl *kfn.ResourceList) (bool, error) {
		p.Process(rl)
		results = rl.Results
		// The exit code is decided below from the results, so the SDK must
		// not replace them with its own generic failure.
		return true, nil
	}), in, out)
	if err != nil {
		fmt.Fprintf(stderr, "meshfed: %v\n", strings.TrimSpace(err.Error()))
		return 1
	}
	return ReportToStderr(results, stderr)
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
