package fn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/krm"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Annotations through which kpt and kustomize track where an item came from.
const (
	PathAnnotation         = "internal.config.kubernetes.io/path"
	LegacyPathAnnotation   = "config.kubernetes.io/path"
	LegacyIndexAnnotation  = "config.kubernetes.io/index"
	LocalConfigAnnotation  = "config.kubernetes.io/local-config"
	internalAnnotationsPfx = "internal.config.kubernetes.io/"
)

// trackingAnnotation reports whether an annotation belongs to the
// orchestrator's bookkeeping (file, index, id) rather than to the object.
func trackingAnnotation(key string) bool {
	switch key {
	case LegacyPathAnnotation, LegacyIndexAnnotation, "config.k8s.io/id", "kustomize.config.k8s.io/id":
		return true
	}
	return strings.HasPrefix(key, internalAnnotationsPfx)
}

// ObjectID identifies an object the way orchestrators do: group, kind,
// namespace and name (the version may change between runs).
type ObjectID struct {
	Group, Kind, Namespace, Name string
}

// IDOf returns the ObjectID of o.
func IDOf(o *kfn.KubeObject) ObjectID {
	m := krm.MetaOf(o)
	return ObjectID{Group: m.Group(), Kind: m.Kind, Namespace: m.Namespace, Name: m.Name}
}

// IsLocalConfig reports whether o is marked as never to be applied.
func IsLocalConfig(o *kfn.KubeObject) bool {
	return o.GetAnnotation(LocalConfigAnnotation) == "true"
}

// Generated is an object a function generates, with its ID (known to the
// generator, so it need not be read back from the object): either the
// object itself or, as a generator emits it, the JSON it was rendered as
// (ObjectFromJSON's input), which becomes a YAML tree only when the item
// is written (see Item).
type Generated struct {
	Object *kfn.KubeObject
	JSON   []byte
	ID     ObjectID
}

// Item is one item of a function's output: an object the function holds
// (an input item, or a generated object already converted), or a
// generated object still held as its JSON.
//
// Performance: a generated object's YAML tree (go-yaml nodes, about 160
// bytes per key and per value) takes ten or more times the memory of its
// JSON. Converting every generated object at emit kept all their trees
// alive until the last one was written: on the importer benchmark input
// of 5,000 Services 82 MB of the 177 MB heap after processing, against a
// few MB of JSON. The writer (writer.go) converts each generated item just
// before writing it and drops it right after, so at most one such tree is
// alive; the bytes are those of the same object converted at emit (the
// conversion is ObjectFromJSON either way).
type Item struct {
	object    *kfn.KubeObject
	generated *Generated
}

// ItemOf is an item held as an object.
func ItemOf(o *kfn.KubeObject) Item { return Item{object: o} }

// Object returns the item as a KubeObject, converting a generated object
// from its JSON (a new object on every call: convert once).
func (it Item) Object() (*kfn.KubeObject, error) {
	if it.object != nil || it.generated == nil {
		return it.object, nil
	}
	return it.generated.object()
}

// Is reports whether the item is o itself.
func (it Item) Is(o *kfn.KubeObject) bool { return it.object == o && o != nil }

func (g *Generated) object() (*kfn.KubeObject, error) {
	if g.Object != nil {
		return g.Object, nil
	}
	o, err := ObjectFromJSON(g.JSON)
	if err != nil {
		return nil, fmt.Errorf("generated %s %s/%s: %w", g.ID.Kind, g.ID.Namespace, g.ID.Name, err)
	}
	return o, nil
}

// Items is a function's output, in order.
type Items []Item

// ItemsOf is objs as items.
func ItemsOf(objs kfn.KubeObjects) Items {
	out := make(Items, len(objs))
	for i, o := range objs {
		out[i] = ItemOf(o)
	}
	return out
}

// Objects converts every item to a KubeObject.
func (items Items) Objects() (kfn.KubeObjects, error) {
	out := make(kfn.KubeObjects, 0, len(items))
	for _, it := range items {
		o, err := it.Object()
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// without returns items minus the objects in drop.
func (items Items) without(drop map[*kfn.KubeObject]bool) Items {
	if len(drop) == 0 {
		return items
	}
	out := make(Items, 0, len(items))
	for _, it := range items {
		if it.object == nil || !drop[it.object] {
			out = append(out, it)
		}
	}
	return out
}

// ReplaceOwned returns items with every object for which owned is true
// replaced by generated. A generated object whose ID matches a replaced one
// takes that object's position and its tracking annotations, so that kpt
// keeps writing it to the file the user chose and a second run changes
// nothing (such an object is converted here, to take the annotations);
// other generated objects are appended in the given order, as they came
// (JSON stays JSON until written). This is what the SDK's Upsert does not
// do: it drops the path annotation.
func ReplaceOwned(items kfn.KubeObjects, owned func(*kfn.KubeObject) bool, generated []Generated) (Items, error) {
	// The index of generated objects is built at the first owned item: a
	// first run (no earlier output among the items) needs none.
	var byID map[ObjectID]int
	var placed []bool
	out := make(Items, 0, len(items)+len(generated))
	for _, it := range items {
		if !owned(it) {
			out = append(out, ItemOf(it))
			continue
		}
		if byID == nil {
			byID = make(map[ObjectID]int, len(generated))
			placed = make([]bool, len(generated))
			for i, g := range generated {
				byID[g.ID] = i
			}
		}
		i, ok := byID[IDOf(it)]
		if !ok || placed[i] {
			continue // stale: no longer generated
		}
		g, err := generated[i].object()
		if err != nil {
			return nil, err
		}
		if err := inheritTracking(g, it); err != nil {
			return nil, err
		}
		placed[i] = true
		out = append(out, ItemOf(g))
	}
	for i := range generated {
		if placed == nil || !placed[i] {
			out = append(out, Item{generated: &generated[i]})
		}
	}
	return out, nil
}

// inheritTracking makes g's bookkeeping annotations those of old, so g
// stays in old's file. Unchanged values are left in place: rewriting them
// would reorder the annotations and make a second run differ from the first.
func inheritTracking(g, old *kfn.KubeObject) error {
	oldAnn, newAnn := old.GetAnnotations(), g.GetAnnotations()
	hasPath := oldAnn[PathAnnotation] != "" || oldAnn[LegacyPathAnnotation] != ""
	for k := range newAnn {
		if _, kept := oldAnn[k]; hasPath && trackingAnnotation(k) && !kept {
			_ = g.RemoveAnnotation(k)
		}
	}
	// Sorted, so that annotations g lacks are appended in the same order on
	// every run.
	keys := make([]string, 0, len(oldAnn))
	for k := range oldAnn {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if cur, ok := newAnn[k]; trackingAnnotation(k) && (!ok || cur != oldAnn[k]) {
			_ = g.SetAnnotation(k, oldAnn[k])
		}
	}
	return nil
}

// ObjectFromJSON turns a generated object, rendered as JSON (protojson and
// encoding/json, in render), into a KRM item: encoding/json's tokenizer
// reads the JSON and each token becomes the YAML node of the same value,
// in the same order, in block style; go-yaml's encoder then writes it as it
// writes any item. This is the one place where generated objects become
// YAML nodes.
//
// Why not go-yaml's parser (JSON is YAML): on a fleet's ten thousand
// generated objects it took more time than reading the whole input, and
// gave flow style and quotes that had to be cleared again.
func ObjectFromJSON(b []byte) (*kfn.KubeObject, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := jsonNode(dec)
	if err != nil {
		return nil, fmt.Errorf("converting a generated object from JSON: %w", err)
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("a generated object is not a JSON object: %.40q", b)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("a generated object is more than one JSON value: %.40q", b)
	}
	return kfn.MoveToKubeObject(yaml.NewRNode(n)), nil
}

// jsonNode reads one JSON value from dec as a YAML node.
func jsonNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
		if t == '[' {
			n.Kind, n.Tag = yaml.SequenceNode, yaml.NodeTagSeq
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token() // always a string
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: k.(string)})
			}
			v, err := jsonNode(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		_, err := dec.Token() // the closing delimiter
		return n, err
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: t}, nil
	case json.Number:
		tag := yaml.NodeTagInt
		if strings.ContainsAny(t.String(), ".eE") {
			tag = yaml.NodeTagFloat
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: strconv.FormatBool(t)}, nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}, nil
}
