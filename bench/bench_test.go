// Package bench holds meshfed's benchmarks; `make bench` runs them. The
// core benchmarks here time pipeline.Process (readInput, the federation
// rules, rendering and emit) on an in-memory ResourceList, without the
// YAML reading and writing of the edge; bench/compare times whole
// processes.
package bench

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/bench/gen"
	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/pipeline"
	"sigs.k8s.io/kustomize/kyaml/kio"
)

var sizes = []int{100, 1000, 10000}

// readResourceList parses input as fn.Run does, with the same edge.
func readResourceList(tb testing.TB, input []byte) (kfn.KubeObjects, *kfn.KubeObject) {
	rw := &kio.ByteReadWriter{Reader: bytes.NewReader(input), OmitReaderAnnotations: true, KeepReaderAnnotations: true}
	nodes, err := rw.Read()
	if err != nil {
		tb.Fatal(err)
	}
	rl, release := fn.NewResourceList(nodes, rw.FunctionConfig, 0)
	tb.Cleanup(release)
	return rl.Items, rl.FunctionConfig
}

// process runs meshfed's core on parsed items.
func process(items kfn.KubeObjects, fc *kfn.KubeObject) *kfn.ResourceList {
	rl := &kfn.ResourceList{Items: items, FunctionConfig: fc}
	pipeline.Process(rl)
	return rl
}

// BenchmarkProcess times the core on n Services. Process leaves the input
// items untouched (it returns a new item list), so every iteration reuses
// the parsed items.
//
// Every iteration starts after a garbage collection, outside the timer.
// The benchmark keeps the parsed input alive from iteration to iteration
// (the binary does not: it releases items as it reads them), so a
// collection during an iteration marked the whole input, and at 10,000
// Services that made the time grow with the benchmark's own heap rather
// than with the function's work, which is what the scaling targets are
// about. Allocations are reported as they are; the whole-process
// comparison (bench/compare) measures everything, collections included.
func BenchmarkProcess(b *testing.B) {
	for _, kind := range []gen.Kind{gen.Exporter, gen.Importer} {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/services=%d", kind, n), func(b *testing.B) {
				items, fc := readResourceList(b, gen.ResourceList(kind, n))
				want := -1
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					b.StopTimer()
					runtime.GC()
					b.StartTimer()
					rl := process(items, fc)
					if fn.ReportToStderr(rl.Results, &bytes.Buffer{}) != 0 || len(rl.Items) <= len(items) {
						b.Fatalf("meshfed failed or generated nothing: %v", rl.Results)
					}
					if want >= 0 && len(rl.Items) != want {
						b.Fatalf("%d items out, %d in an earlier iteration", len(rl.Items), want)
					}
					want = len(rl.Items)
				}
			})
		}
	}
}

// BenchmarkRun times the whole function in process, reading and writing
// YAML, for profiling what the edge costs besides the core; it is not part
// of `make bench`. Identity is fn.Run with a processor that does nothing.
func BenchmarkRun(b *testing.B) {
	processors := map[string]fn.Processor{
		"identity": fn.ProcessorFunc(func(*kfn.ResourceList) {}),
		"meshfed":  new(pipeline.Function),
	}
	for _, kind := range []gen.Kind{gen.Exporter, gen.Importer} {
		for _, n := range []int{500, 5000} {
			input := gen.ResourceList(kind, n)
			for _, name := range []string{"identity", "meshfed"} {
				b.Run(fmt.Sprintf("%s/%s/services=%d", name, kind, n), func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(len(input)))
					var out, stderr bytes.Buffer
					for b.Loop() {
						out.Reset()
						if code := fn.Run(processors[name], bytes.NewReader(input), &out, &stderr); code != 0 {
							b.Fatalf("exit %d: %s", code, stderr.String())
						}
					}
				})
			}
		}
	}
}
