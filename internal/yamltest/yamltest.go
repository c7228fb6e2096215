// Package yamltest holds YAML helpers shared by meshfed's tests.
package yamltest

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// StripComments is a ResourceList (or a YAML stream) as kyaml writes it,
// with every comment of its items, functionConfig and results removed. For
// inputs that may not be YAML (fuzz inputs) it returns kyaml's error.
func StripComments(in []byte) (_ []byte, err error) {
	// kyaml's writer panics on metadata.annotations that is not a map (it
	// reads the reader annotations back); such an item is one meshfed must
	// refuse, and the fuzz tests compare it as it is.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kyaml cannot write it back: %v", r)
		}
	}()
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
