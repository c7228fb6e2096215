package fn

import (
	"bufio"
	"bytes"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// writeResourceList writes nodes as rw.Write would for a ResourceList, byte
// for byte, but one item at a time.
//
// Performance: kyaml's ByteWriter deep-copies every item and then encodes
// the whole ResourceList as one YAML document. go-yaml's emitter keeps every
// event of a document in one slice until the document ends, so for a
// ResourceList of a few MiB that slice (and its regrowth copies) dominated
// both the time and the peak memory of writing, more than all of meshfed's
// own work. Here each item is encoded on its own as the only item of
// `items:` in a document of the same shape, so it is emitted in exactly the
// context, indentation and style it has in the whole document, and the
// output is the concatenation of those pieces. Nothing is copied: the
// nodes are consumed (empty annotations are cleared in place, as the
// ByteWriter does on its copies). TestWriteResourceListMatchesKyaml checks
// the equivalence; anything but a plain ResourceList goes to rw.Write.
func writeResourceList(rw *kio.ByteReadWriter, nodes []*yaml.RNode) error {
	if rw.NoWrap || rw.WrappingKind != kio.ResourceListKind || rw.Style != 0 || len(nodes) == 0 {
		for _, n := range nodes {
			if err := ExpandRendered(n.YNode()); err != nil {
				return err
			}
		}
		return rw.Write(nodes)
	}
	out := bufio.NewWriterSize(rw.Writer, 64<<10)
	var buf bytes.Buffer
	// encode writes the document {key: value} (or, without a value, the
	// header) into buf; apiVersion and kind keep their place in front.
	encode := func(kv ...*yaml.Node) error {
		buf.Reset()
		doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Content: kv}}}
		e := yaml.NewEncoder(&buf)
		if err := e.Encode(doc); err != nil {
			return err
		}
		return e.Close()
	}
	key := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

	if err := encode(key("apiVersion"), key(rw.WrappingAPIVersion), key("kind"), key(rw.WrappingKind)); err != nil {
		return err
	}
	out.Write(buf.Bytes())
	out.WriteString("items:\n")
	const itemsPrefix = "items:\n"
	var fast bytes.Buffer
	for _, n := range nodes {
		// Rendered metadata never has an empty annotations mapping.
		if !isRendered(child(n.YNode(), "metadata")) {
			if err := yaml.ClearEmptyAnnotations(n); err != nil {
				return err
			}
		}
		fast.Reset()
		if appendItem(&fast, n.YNode()) {
			out.Write(fast.Bytes())
			continue
		}
		if err := ExpandRendered(n.YNode()); err != nil {
			return err
		}
		if err := encode(key("items"), &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{n.YNode()}}); err != nil {
			return err
		}
		b := buf.Bytes()
		if !bytes.HasPrefix(b, []byte(itemsPrefix)) {
			return fmt.Errorf("internal error: an item encoded as %.40q", b)
		}
		out.Write(b[len(itemsPrefix):])
	}
	for _, f := range []struct {
		name string
		node *yaml.RNode
	}{{"functionConfig", rw.FunctionConfig}, {"results", rw.Results}} {
		if f.node == nil {
			continue
		}
		if err := encode(key(f.name), f.node.YNode()); err != nil {
			return err
		}
		out.Write(buf.Bytes())
	}
	return out.Flush()
}
