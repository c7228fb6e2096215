// Package render builds the Istio and Gateway API objects meshfed
// generates, from the typed API structs of those projects, checks them the
// way istiod and the API server would, and turns them into KRM items.
package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/fn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Object is a generated object before it becomes a KRM item. Spec is an
// istio.io/api proto message or a Gateway API spec struct.
type Object struct {
	APIVersion, Kind string
	Namespace, Name  string
	Labels           map[string]string
	Annotations      map[string]string
	Spec             any
}

// Label and annotation every generated object carries.
const (
	ManagedByLabel        = "app.kubernetes.io/managed-by"
	ManagedByValue        = "meshfed"
	GeneratedByAnnotation = "meshfed.dev/generated-by"
)

// maxNameLength keeps generated names valid DNS-1123 labels, which is also
// what Gateway API needs to derive its Service and Deployment names.
const maxNameLength = 63

// Name turns a hostname or any dotted string into a valid object name:
// dots become dashes, and a name longer than 63 characters is cut and given
// a hash of the whole, so that it stays unique and deterministic.
func Name(s string) string {
	n := strings.ToLower(strings.ReplaceAll(s, ".", "-"))
	if len(n) <= maxNameLength {
		return n
	}
	sum := sha256.Sum256([]byte(s))
	head := strings.TrimRight(n[:maxNameLength-9], "-")
	return head + "-" + hex.EncodeToString(sum[:])[:8]
}

// Node renders o as a YAML node, fields in the order the API types declare
// them.
func (o Object) Node() (*yaml.Node, error) { return o.node() }

func (o Object) node() (*yaml.Node, error) {
	spec, err := specNode(o.Spec)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", o.Kind, o.Namespace, o.Name, err)
	}
	return mapping(
		"apiVersion", scalar(o.APIVersion),
		"kind", scalar(o.Kind),
		"metadata", o.metadataNode(),
		"spec", spec,
	), nil
}

func (o Object) metadataNode() *yaml.Node {
	meta := mapping("name", scalar(o.Name))
	if o.Namespace != "" {
		meta.Content = append(meta.Content, key("namespace"), shared(yaml.NodeTagString, o.Namespace))
	}
	if len(o.Labels) > 0 {
		meta.Content = append(meta.Content, key("labels"), stringMap(o.Labels, sharedValue))
	}
	if len(o.Annotations) > 0 {
		meta.Content = append(meta.Content, key("annotations"), stringMap(o.Annotations, sharedValue))
	}
	return meta
}

// KubeObject renders o as a KRM item, with extra labels and annotations
// (over o's own, which they override). Its metadata and an Istio spec are
// kept as rendered text (fn.RenderedTag), which fn's writers put in place;
// Node gives the same object as a tree. The extra maps are read at once,
// so a caller may reuse them.
//
// Why text: generated objects are kept until the output is written and
// nothing is collected after the input is read, so everything they hold
// adds to the peak memory; as text an object's metadata is one string
// instead of a tree of a dozen nodes and two maps.
func (o Object) KubeObject(extraLabels, extraAnnotations map[string]string) (*kfn.KubeObject, error) {
	var spec *yaml.Node
	if spec = renderedSpec(o.Spec); spec == nil {
		var err error
		if spec, err = specNode(o.Spec); err != nil {
			return nil, fmt.Errorf("%s %s/%s: %w", o.Kind, o.Namespace, o.Name, err)
		}
	}
	meta := renderedMetadata(o, extraLabels, extraAnnotations)
	if meta == nil {
		o.Labels, o.Annotations = merged(o.Labels, extraLabels), merged(o.Annotations, extraAnnotations)
		meta = o.metadataNode()
	}
	n := mapping(
		"apiVersion", shared(yaml.NodeTagString, o.APIVersion),
		"kind", shared(yaml.NodeTagString, o.Kind),
		"metadata", meta,
		"spec", spec,
	)
	return kfn.MoveToKubeObject(yaml.NewRNode(n)), nil
}

// merged is base with extra's entries added or overriding.
func merged(base, extra map[string]string) map[string]string {
	if len(extra) == 0 {
		return base
	}
	out := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// specNode renders a spec: Istio messages directly from their descriptors
// when possible, everything else through its JSON form.
func specNode(spec any) (*yaml.Node, error) {
	if m, ok := spec.(proto.Message); ok {
		if n, ok := protoNode(m.ProtoReflect()); ok {
			return n, nil
		}
	}
	b, err := specJSON(spec)
	if err != nil {
		return nil, err
	}
	return jsonToNode(b)
}

func specJSON(spec any) ([]byte, error) {
	if m, ok := spec.(proto.Message); ok {
		return protojson.Marshal(m)
	}
	return json.Marshal(spec)
}

// interned holds one node per tag and value for the scalars generated
// objects repeat: mapping keys, spec values, label and annotation values,
// namespaces. A fleet's objects repeat the same keys, protocols, ports and
// labels, and a node for each in every object was most of meshfed's memory.
// Shared nodes are never edited in place: the SDK sets a field by replacing
// its value node, removing an entry drops both nodes from the parent, and
// nothing else touches generated objects.
var (
	internMu sync.Mutex
	interned = map[[2]string]*yaml.Node{}
)

// ForgetShared empties the table of shared nodes, so that a long-lived
// process running the function many times does not keep every value it
// ever saw. Nodes already handed out stay valid.
func ForgetShared() {
	internMu.Lock()
	defer internMu.Unlock()
	interned = map[[2]string]*yaml.Node{}
}

func shared(tag, value string) *yaml.Node {
	internMu.Lock()
	defer internMu.Unlock()
	k := [2]string{tag, value}
	n, ok := interned[k]
	if !ok {
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
		interned[k] = n
	}
	return n
}

// key returns the shared node for a mapping key.
func key(s string) *yaml.Node { return shared(yaml.NodeTagString, s) }

func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s}
}

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: make([]*yaml.Node, 0, len(kv)+6)}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, key(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

func stringMap(m map[string]string, value func(key, value string) *yaml.Node) *yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: make([]*yaml.Node, 0, 2*len(keys))}
	for _, k := range keys {
		n.Content = append(n.Content, key(k), value(k, m[k]))
	}
	return n
}

// sharedValue is a label or annotation value node, shared between objects
// (see shared: setting a label or annotation replaces the value node, never
// edits it) unless it is the per-object file index, which repeats nowhere.
func sharedValue(k, v string) *yaml.Node {
	if k == "internal.config.kubernetes.io/index" {
		return scalar(v)
	}
	return shared(yaml.NodeTagString, v)
}

// jsonToNode converts JSON to a block-style YAML node, keeping key order
// (kyaml's own converter goes through a map and sorts the keys).
func jsonToNode(b []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := decodeValue(dec)
	if err != nil {
		return nil, fmt.Errorf("converting generated JSON: %w", err)
	}
	return n, nil
}

func decodeValue(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, scalar(k.(string)), v)
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
	case string:
		return scalar(t), nil
	case json.Number:
		tag := yaml.NodeTagInt
		if strings.ContainsAny(t.String(), ".eE") {
			tag = yaml.NodeTagFloat
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: fmt.Sprint(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}, nil
	}
	return nil, io.ErrUnexpectedEOF
}

// HashedName is Name with a hash of s always appended, for the rare names
// that would otherwise collide (hosts that differ only in dots and dashes).
func HashedName(s string) string {
	sum := sha256.Sum256([]byte(s))
	n := strings.ToLower(strings.ReplaceAll(s, ".", "-"))
	if len(n) > maxNameLength-9 {
		n = n[:maxNameLength-9]
	}
	return strings.TrimRight(n, "-") + "-" + hex.EncodeToString(sum[:])[:8]
}

// ID is the object's identity as orchestrators see it.
func (o Object) ID() fn.ObjectID {
	group, _, _ := strings.Cut(o.APIVersion, "/")
	if !strings.Contains(o.APIVersion, "/") {
		group = ""
	}
	return fn.ObjectID{Group: group, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}
