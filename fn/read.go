package fn

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/krm"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// input is what readInput found: the ResourceList's wrapping (or none, for
// a plain stream of documents), its items and functionConfig, and the
// problems that stop a run before the processor sees the items.
type input struct {
	rw       *kio.ByteReadWriter // wrapping, functionConfig and results, as kyaml's ByteReadWriter reads them
	items    []*yaml.RNode
	problems kfn.Results
	anchored map[*yaml.RNode]bool // objects with anchors, aliases or merge keys
}

// readInput parses a ResourceList, or a plain stream of YAML documents, the
// way kustomize and kpt read YAML: with kyaml's ByteReader, which decodes
// each document with go-yaml, and then with kyaml's own resolution of
// anchors, aliases and merge keys (RNode.DeAnchor, what kio.FromBytes and
// kustomize's resource reader apply: kustomize v5.8.2 builds a file with
// `annotations: &a`, `labels: *a` and `<<: *d` into plain, expanded
// mappings). So every item holds its own copy of what an alias stands for:
// a ResourceList written by PyYAML, which shares one annotations mapping
// between items (`&id001` / `*id001`), reads as each item with those
// annotations, and is written back expanded, as kustomize would write it.
//
// A key given twice in one mapping is a problem (go-yaml keeps both in the
// tree; kyaml looks a field up by its first occurrence but reads
// annotations and labels into a map, where the last wins, so the item means
// different things to different readers), and so are two `items`,
// `functionConfig` or `results` keys in the ResourceList (kyaml reads the
// first and drops the second). They are
// checked before aliases are expanded, so a mapping is looked at once
// however often it is aliased.
//
// A ResourceList is recognised as kyaml recognises one: a single document
// of kind ResourceList (or List) with items or a functionConfig.
func readInput(b []byte) (*input, error) {
	r := &kio.ByteReader{
		Reader: bytes.NewReader(b),
		// The orchestrator owns the id annotations: neither add nor strip them.
		OmitReaderAnnotations: true,
		// Unwrapped below, once the wrapper's own keys are checked.
		DisableUnwrapping: true,
	}
	docs, err := r.Read()
	if err != nil {
		return nil, err
	}
	in := &input{rw: &kio.ByteReadWriter{OmitReaderAnnotations: true, KeepReaderAnnotations: true}, anchored: map[*yaml.RNode]bool{}}
	if len(docs) == 1 && isWrapper(docs[0]) {
		if err := itemsIsList(docs[0]); err != nil {
			return nil, err
		}
		in.unwrap(docs[0])
	} else {
		in.items = docs
		for i, d := range docs {
			in.duplicateKeys(d.YNode(), "", fmt.Sprintf("document %d (counting from 0)", i), d)
		}
	}
	if len(in.problems) > 0 {
		return in, nil
	}
	for _, n := range in.items {
		if !in.anchored[n] {
			continue
		}
		// Named before DeAnchor, which can leave a node it fails on
		// empty (a merge key without a value, found by FuzzReadInput).
		name := describe(n)
		if err := n.DeAnchor(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if fc := in.rw.FunctionConfig; fc != nil && in.anchored[fc] {
		if err := in.rw.FunctionConfig.DeAnchor(); err != nil {
			return nil, fmt.Errorf("functionConfig: %v", err)
		}
	}
	return in, nil
}

// isWrapper is kyaml's test for a ResourceList (kio.ByteReader.Read).
func isWrapper(n *yaml.RNode) bool {
	meta, err := n.GetMeta()
	if err != nil && err != yaml.ErrMissingMetadata {
		return false
	}
	return (meta.Kind == kio.ResourceListKind || meta.Kind == "List") &&
		(n.Field("items") != nil || n.Field("functionConfig") != nil)
}

// itemsIsList refuses a ResourceList whose `items` is neither a list nor
// empty: kyaml's reader would take a mapping's keys and values as items,
// so what it means depends on the reader. Found by FuzzRun.
func itemsIsList(list *yaml.RNode) error {
	items := list.Field("items")
	if items == nil || items.Value.YNode().Kind == yaml.SequenceNode || yaml.IsYNodeEmptyMap(items.Value.YNode()) || items.Value.YNode().Tag == yaml.NodeTagNull {
		return nil
	}
	return fmt.Errorf("the ResourceList's `items` (line %d) is not a list: write each object as a list entry (`items:` then `- apiVersion: ...`)", items.Key.YNode().Line)
}

// unwrap takes the items, functionConfig and results out of a ResourceList.
func (in *input) unwrap(list *yaml.RNode) {
	meta, _ := list.GetMeta()
	in.rw.WrappingKind, in.rw.WrappingAPIVersion = meta.Kind, meta.APIVersion
	seen := map[string]bool{}
	content := list.YNode().Content
	for i := 0; i+1 < len(content); i += 2 {
		k, v := content[i].Value, content[i+1]
		switch k {
		case "apiVersion", "kind", "items", "functionConfig", "results":
			if seen[k] {
				in.problem(nil, k, fmt.Sprintf("the %s has two `%s` keys: kyaml's reader (kustomize, kpt) reads only the first and drops the second without a word; write one `%s:`", meta.Kind, k, k))
				continue
			}
			seen[k] = true
		}
		switch k {
		case "items":
			if v.Kind == yaml.SequenceNode {
				for j, it := range v.Content {
					rn := yaml.NewRNode(it)
					in.items = append(in.items, rn)
					in.duplicateKeys(it, "", fmt.Sprintf("items[%d]", j), rn)
				}
			}
		case "functionConfig":
			in.rw.FunctionConfig = yaml.NewRNode(v)
			in.duplicateKeys(v, "", "functionConfig", in.rw.FunctionConfig)
		case "results":
			in.rw.Results = yaml.NewRNode(v)
		}
	}
}

// duplicateKeys reports every key given twice in a mapping under n; where
// says where the object is (items[3]) and obj is the object, to name it.
//
// It also notes the objects with an anchor, an alias or a merge key, the
// only ones DeAnchor changes: kyaml's DeAnchor copies and rebuilds every
// mapping of an object, which would cost more than reading it.
func (in *input) duplicateKeys(n *yaml.Node, path, where string, obj *yaml.RNode) {
	if n.Anchor != "" || n.Kind == yaml.AliasNode || n.Tag == yaml.MergeTag {
		in.anchored[obj] = true
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			in.duplicateKeys(c, path, where, obj)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			in.duplicateKeys(c, path+"["+strconv.Itoa(i)+"]", where, obj)
		}
	case yaml.MappingNode:
		var seen map[string]*yaml.Node // only for large mappings
		if len(n.Content) > 32 {
			seen = make(map[string]*yaml.Node, len(n.Content)/2)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Tag == yaml.MergeTag || k.Anchor != "" || k.Kind == yaml.AliasNode {
				// Keys count too: a merge key whose value is a mapping
				// written in place, an anchor or alias on a key (both
				// found by FuzzReadInput).
				in.anchored[obj] = true
			}
			var prev *yaml.Node
			if seen != nil {
				prev = seen[k.Value]
				seen[k.Value] = k
			} else {
				for j := 0; j < i; j += 2 {
					if n.Content[j].Value == k.Value {
						prev = n.Content[j]
						break
					}
				}
			}
			if prev != nil {
				at := "the top level"
				if path != "" {
					at = "`" + path + "`"
				}
				in.problem(obj, krm.JoinPath(path, k.Value), fmt.Sprintf("%s (%s): the key %q is given twice in %s (lines %d and %d); tools disagree on which value counts (kyaml looks a field up by its first occurrence but reads annotations and labels into a map, where the last wins), so the object would mean different things to different tools: remove one of them", describe(obj), where, k.Value, at, prev.Line, k.Line))
			}
			in.duplicateKeys(n.Content[i+1], krm.JoinPath(path, k.Value), where, obj)
		}
	}
}

// problem records an error about obj (nil: the ResourceList itself).
func (in *input) problem(obj *yaml.RNode, field, msg string) {
	r := &kfn.Result{Severity: kfn.Error, Message: msg}
	if field != "" {
		r.Field = &kfn.Field{Path: field}
	}
	if obj != nil {
		if meta, err := obj.GetMeta(); err == nil {
			r.ResourceRef = &kfn.ResourceRef{APIVersion: meta.APIVersion, Kind: meta.Kind, Name: meta.Name, Namespace: meta.Namespace}
		}
	}
	in.problems = append(in.problems, r)
}

// describe names a document for a message: its kind, namespace and name
// as far as they can be read.
func describe(n *yaml.RNode) string {
	if n == nil || n.YNode().Kind != yaml.MappingNode {
		return "a document that is not an object"
	}
	var kind, name, namespace string
	if f := n.Field("kind"); f != nil {
		kind = f.Value.YNode().Value
	}
	if md := n.Field("metadata"); md != nil && md.Value.YNode().Kind == yaml.MappingNode {
		if f := md.Value.Field("name"); f != nil {
			name = f.Value.YNode().Value
		}
		if f := md.Value.Field("namespace"); f != nil {
			namespace = f.Value.YNode().Value
		}
	}
	if namespace != "" {
		name = namespace + "/" + name
	}
	return strings.TrimSpace(kind + " " + name)
}
