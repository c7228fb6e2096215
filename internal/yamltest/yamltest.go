// Package yamltest holds YAML helpers shared by meshfed's tests.
package yamltest

import (
	"bytes"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// WithoutComments is a ResourceList (or a YAML stream) as kyaml writes it,
// with every comment of its items, functionConfig and results removed: the
// form kustomize and kpt send most often, which the edge reads item by
// item. The test fails when kyaml cannot read or write it.
func WithoutComments(tb testing.TB, in []byte) []byte {
	tb.Helper()
	out, err := StripComments(in)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// StripComments is WithoutComments for inputs that may not be YAML (fuzz
// inputs): it returns kyaml's error instead of failing the test.
func StripComments(in []byte) ([]byte, error) {
	var out bytes.Buffer
	rw := &kio.ByteReadWriter{Reader: bytes.NewReader(in), Writer: &out, OmitReaderAnnotations: true, KeepReaderAnnotations: true}
	nodes, err := rw.Read()
	if err != nil {
		return nil, err
	}
	for _, n := range append(nodes, rw.FunctionConfig, rw.Results) {
		if n != nil {
			clearComments(n.YNode())
		}
	}
	if err := rw.Write(nodes); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func clearComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		clearComments(c)
	}
}
