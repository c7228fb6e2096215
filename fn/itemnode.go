package fn

import (
	"strings"
	"sync"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The SDK's KubeObject hides the YAML node it wraps, and each of its
// accessors allocates a wrapper per level of the path. Run records the node
// behind every item it reads, so that code reading many fields of many
// items (meshfed reads every Service and workload) can read the node
// directly; ItemNode falls back to moving the node out and back for objects
// made elsewhere.
var (
	itemNodesMu sync.Mutex
	itemNodes   = map[*kfn.KubeObject]*yaml.Node{}
)

func registerItems(items kfn.KubeObjects, nodes []*yaml.Node) {
	itemNodesMu.Lock()
	defer itemNodesMu.Unlock()
	for i, o := range items {
		itemNodes[o] = nodes[i]
	}
}

func unregisterItems(items kfn.KubeObjects) {
	itemNodesMu.Lock()
	defer itemNodesMu.Unlock()
	for _, o := range items {
		delete(itemNodes, o)
	}
}

// ItemNode returns the YAML node behind o, to read (not to restructure:
// the KubeObject shares it).
func ItemNode(o *kfn.KubeObject) *yaml.Node {
	itemNodesMu.Lock()
	n, ok := itemNodes[o]
	itemNodesMu.Unlock()
	if ok {
		return n
	}
	rn := o.MoveToResourceNode()
	n = rn.YNode()
	*o = *kfn.MoveToKubeObject(rn)
	return n
}

// Meta is an item's identity and metadata, read from its node.
type Meta struct {
	APIVersion, Kind, Name, Namespace string
	labels, annotations               *yaml.Node
}

// MetaOf reads o's identity and metadata without allocating per field.
func MetaOf(o *kfn.KubeObject) Meta {
	n := ItemNode(o)
	m := Meta{APIVersion: scalarAt(n, "apiVersion"), Kind: scalarAt(n, "kind")}
	if md := child(n, "metadata"); md != nil {
		m.Name, m.Namespace = scalarAt(md, "name"), scalarAt(md, "namespace")
		m.labels, m.annotations = child(md, "labels"), child(md, "annotations")
	}
	return m
}

// Group is the API group of the item's apiVersion ("" for the core group).
func (m Meta) Group() string {
	if g, _, ok := strings.Cut(m.APIVersion, "/"); ok {
		return g
	}
	return ""
}

// Annotation returns one annotation, "" when absent.
func (m Meta) Annotation(key string) string { return scalarAt(m.annotations, key) }

// Labels returns the labels as a map (nil when there are none).
func (m Meta) Labels() map[string]string {
	if m.labels == nil || m.labels.Kind != yaml.MappingNode || len(m.labels.Content) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.labels.Content)/2)
	for i := 0; i+1 < len(m.labels.Content); i += 2 {
		out[m.labels.Content[i].Value] = m.labels.Content[i+1].Value
	}
	return out
}

// child returns the value of key in a mapping node, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
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
	v := child(n, key)
	if v == nil || v.Kind != yaml.ScalarNode || (v.Tag != "" && v.Tag != yaml.NodeTagString) {
		return ""
	}
	return v.Value
}
