package bench

import (
	"bytes"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/bench/gen"
	"github.com/meshfed/meshfed/fn"
	"sigs.k8s.io/kustomize/kyaml/kio"
)

// TestIdentityIsKyamlRoundTrip checks that the baseline of the
// whole-process benchmark is fair: on the synthetic inputs, fn.Run with a
// processor that does nothing writes exactly what kyaml's own reader and
// writer write, and the inputs are valid for meshfed.
func TestIdentityIsKyamlRoundTrip(t *testing.T) {
	for _, kind := range []gen.Kind{gen.Exporter, gen.Importer} {
		input := gen.ResourceList(kind, 120)
		var want bytes.Buffer
		rw := &kio.ByteReadWriter{Reader: bytes.NewReader(input), Writer: &want, OmitReaderAnnotations: true, KeepReaderAnnotations: true}
		nodes, err := rw.Read()
		if err != nil {
			t.Fatal(err)
		}
		if err := rw.Write(nodes); err != nil {
			t.Fatal(err)
		}
		var got, stderr bytes.Buffer
		if code := fn.Run(fn.ProcessorFunc(func(*kfn.ResourceList) {}), bytes.NewReader(input), &got, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", kind, code, stderr.String())
		}
		if got.String() != want.String() {
			t.Errorf("%s: identity output differs from kyaml's round trip", kind)
		}
		items, fc := readResourceList(t, input)
		if rl := process(items, fc); fn.ReportToStderr(rl.Results, &stderr) != 0 || len(rl.Items) <= len(items) {
			t.Errorf("%s: meshfed fails or generates nothing on the input: %s", kind, stderr.String())
		}
	}
}
