// Package krm reads KRM objects: an item's identity and metadata (Meta),
// and strict decoding of its fields into typed Go structs (DecodeStrict),
// with field paths and fixes in every error. It does no I/O; the edge (fn)
// reads and writes the objects.
package krm

import (
	"fmt"
	"iter"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ItemNode returns the YAML node behind o, to read (not to restructure:
// the KubeObject shares it). The SDK's KubeObject hides its node, and each
// of its accessors allocates a wrapper per level of the path; code that
// reads many fields of many items (meshfed reads every Service and
// workload) reads the node instead.
func ItemNode(o *kfn.KubeObject) *yaml.Node {
	rn := o.MoveToResourceNode()
	n := rn.YNode()
	*o = *kfn.MoveToKubeObject(rn)
	return n
}

// Meta is an item's identity and metadata, read from its node.
type Meta struct {
	APIVersion, Kind, Name, Namespace string
	labels, annotations               *yaml.Node
	node                              *yaml.Node
}

// MetaOf reads o's identity and metadata without allocating per field.
func MetaOf(o *kfn.KubeObject) Meta {
	n := ItemNode(o)
	m := Meta{APIVersion: scalarAt(n, "apiVersion"), Kind: scalarAt(n, "kind"), node: n}
	if md := Child(n, "metadata"); md != nil {
		m.Name, m.Namespace = scalarAt(md, "name"), scalarAt(md, "namespace")
		m.labels, m.annotations = Child(md, "labels"), Child(md, "annotations")
	}
	return m
}

// Node is the whole item's node (ItemNode), to read further fields
// without looking the item up again.
func (m Meta) Node() *yaml.Node { return m.node }

// Group is the API group of the item's apiVersion ("" for the core group).
func (m Meta) Group() string {
	if g, _, ok := strings.Cut(m.APIVersion, "/"); ok {
		return g
	}
	return ""
}

// Annotation returns one annotation, "" when absent.
func (m Meta) Annotation(key string) string { return scalarAt(m.annotations, key) }

// AllLabels yields the labels in the order they are written (a key written
// twice comes twice; a map keeps its last value).
func (m Meta) AllLabels() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if m.labels == nil || m.labels.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(m.labels.Content); i += 2 {
			if !yield(m.labels.Content[i].Value, m.labels.Content[i+1].Value) {
				return
			}
		}
	}
}

// NumLabels is how many labels AllLabels yields.
func (m Meta) NumLabels() int {
	if m.labels == nil || m.labels.Kind != yaml.MappingNode {
		return 0
	}
	return len(m.labels.Content) / 2
}

// MapProblems reports metadata.labels and metadata.annotations written as
// anything but a map (or null): kustomize and kpt read them as maps, and
// a reader that does not would see no label or annotation at all.
func (m Meta) MapProblems() []FieldError {
	var errs []FieldError
	for _, f := range []struct {
		name string
		node *yaml.Node
	}{{"labels", m.labels}, {"annotations", m.annotations}} {
		if f.node != nil && f.node.Kind != yaml.MappingNode && !isNull(f.node) {
			errs = append(errs, FieldError{Path: "metadata." + f.name, Message: fmt.Sprintf("must be a map of strings (key: \"value\" lines), not %s", valueKind(f.node))})
		}
	}
	return errs
}

// AnnotationKind names the YAML type of an annotation's value as
// valueKind does ("a string", "a number", "a list", ...), "" when the
// annotation is absent (or metadata.annotations is not a map).
func (m Meta) AnnotationKind(key string) string {
	if m.annotations == nil || m.annotations.Kind != yaml.MappingNode {
		return ""
	}
	if v := Child(m.annotations, key); v != nil {
		return valueKind(v)
	}
	return ""
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == yaml.NodeTagNull }

// valueKind names a YAML value's type for a message.
func valueKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a map"
	}
	switch n.Tag {
	case "", yaml.NodeTagString:
		return "a string"
	case yaml.NodeTagInt, yaml.NodeTagFloat:
		return "a number"
	case yaml.NodeTagBool:
		return "a boolean"
	case yaml.NodeTagNull:
		return "null"
	case "!!timestamp":
		return "a date"
	}
	return "a value tagged " + n.Tag
}

// Child returns the value of key in a mapping node, nil when it is
// absent or n is not a mapping.
func Child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalarAt returns the string value of key in a mapping node, "" when it
// is absent or not a string scalar (as the SDK's accessors read it).
func scalarAt(n *yaml.Node, key string) string {
	v := Child(n, key)
	if v == nil || v.Kind != yaml.ScalarNode || (v.Tag != "" && v.Tag != yaml.NodeTagString) {
		return ""
	}
	return v.Value
}
