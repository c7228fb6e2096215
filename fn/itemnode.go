package fn

import (
	"iter"
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
	itemNodes   = map[*kfn.KubeObject]itemEntry{}
)

// itemEntry is the node behind an item and what the run will do with it.
type itemEntry struct {
	node *yaml.Node
	// prewrite: the run writes its ResourceList item by item, so Release
	// may turn the item into the bytes it will be written as.
	prewrite bool
}

func registerItems(items kfn.KubeObjects, nodes []*yaml.Node, prewrite bool) {
	itemNodesMu.Lock()
	defer itemNodesMu.Unlock()
	for i, o := range items {
		itemNodes[o] = itemEntry{node: nodes[i], prewrite: prewrite}
	}
}

// registerItem is registerItems for one item, as the item-by-item reader
// registers them.
func registerItem(o *kfn.KubeObject, n *yaml.Node, prewrite bool) {
	itemNodesMu.Lock()
	defer itemNodesMu.Unlock()
	itemNodes[o] = itemEntry{node: n, prewrite: prewrite}
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
	e, ok := itemNodes[o]
	itemNodesMu.Unlock()
	if ok {
		return e.node
	}
	rn := o.MoveToResourceNode()
	n := rn.YNode()
	*o = *kfn.MoveToKubeObject(rn)
	return n
}

// Release tells the edge that the processor has read all it needs of o,
// an item it read, and will neither read nor change it again: o is to be
// written exactly as it is. The edge may then keep only the bytes it will
// write for o (computed now, by the writer's own code) and let the tree go.
// Afterwards o reads as an empty object (MetaOf gives no kind or name) and
// must not be passed to the SDK's accessors.
//
// Why: the trees of the items a function only reads are most of its memory
// (about 20 times their YAML text); a function that reads most items
// without changing them, as meshfed does with Services and workloads,
// would otherwise keep all of them until the output is written. Once
// released they are garbage, so the next garbage collection frees them and
// has only the live rest to mark. It changes nothing in the output: the
// bytes are those the writer would produce from the unchanged tree.
func Release(o *kfn.KubeObject) {
	itemNodesMu.Lock()
	defer itemNodesMu.Unlock()
	e, ok := itemNodes[o]
	if !ok || !e.prewrite || isPrewritten(e.node) {
		return
	}
	b, err := releaseEncoder.item(e.node)
	if err != nil {
		return // stays a tree: the writer reports it
	}
	*e.node = yaml.Node{Kind: yaml.ScalarNode, Tag: prewrittenTag, Value: string(b)}
}

// releaseEncoder's buffers are reused across Release calls (guarded by
// itemNodesMu).
var releaseEncoder itemEncoder

// prewrittenTag marks a released item: its Value is the item's bytes as
// the ResourceList writer writes them.
const prewrittenTag = "!meshfed.dev/prewritten"

func isPrewritten(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == prewrittenTag
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
	if md := child(n, "metadata"); md != nil {
		m.Name, m.Namespace = scalarAt(md, "name"), scalarAt(md, "namespace")
		m.labels, m.annotations = child(md, "labels"), child(md, "annotations")
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
