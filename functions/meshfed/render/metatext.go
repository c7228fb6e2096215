package render

import (
	"bytes"
	"sort"

	"github.com/meshfed/meshfed/fn"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// renderedMetadata returns o's metadata, with the extra labels and
// annotations merged in, as a fn.RenderedTag node holding the block YAML
// the writer would produce for metadataNode's tree (name, namespace,
// labels and annotations, keys sorted); nil when a value needs quoting
// that fn.AppendScalar is not sure of, and the caller builds the tree.
func renderedMetadata(o Object, extraLabels, extraAnnotations map[string]string) *yaml.Node {
	textMu.Lock()
	defer textMu.Unlock()
	buf := &textBuf
	buf.Reset()
	buf.WriteString("name: ")
	ok := scalarLine(buf, o.Name)
	if o.Namespace != "" {
		buf.WriteString("namespace: ")
		ok = ok && scalarLine(buf, o.Namespace)
	}
	ok = ok && mergedMapText(buf, "labels:\n", o.Labels, extraLabels) &&
		mergedMapText(buf, "annotations:\n", o.Annotations, extraAnnotations)
	if !ok {
		return nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: fn.RenderedTag, Value: buf.String()}
}

// mergedMapText writes header and the entries of base and extra (extra
// winning on a shared key), keys sorted and indented by 2; nothing when
// both are empty.
func mergedMapText(buf *bytes.Buffer, header string, base, extra map[string]string) bool {
	if len(base)+len(extra) == 0 {
		return true
	}
	var room [16]string
	keys := room[:0]
	for k := range base {
		if _, over := extra[k]; !over {
			keys = append(keys, k)
		}
	}
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	buf.WriteString(header)
	for _, k := range keys {
		v, ok := extra[k]
		if !ok {
			v = base[k]
		}
		buf.WriteString("  ")
		if !fn.AppendScalar(buf, yaml.NodeTagString, k) {
			return false
		}
		buf.WriteString(": ")
		if !scalarLine(buf, v) {
			return false
		}
	}
	return true
}
