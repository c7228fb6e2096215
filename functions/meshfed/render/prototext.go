package render

import (
	"bytes"
	"sort"
	"strconv"
	"sync"

	"github.com/meshfed/meshfed/fn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// textBuf is reused for rendering specs as text, so that each costs one
// string, not a growing buffer.
var (
	textMu  sync.Mutex
	textBuf bytes.Buffer
)

// renderedSpec returns an Istio spec as a fn.RenderedTag node holding its
// block YAML, or nil when it must be a tree (not an Istio message, empty,
// or a value protoText does not handle).
//
// Why: generated objects are kept until the output is written, and nothing
// is collected after the input is read, so all they allocate adds to the
// peak memory. As text a ServiceEntry's spec is one string instead of a
// tree of a few dozen nodes.
func renderedSpec(spec any) *yaml.Node {
	m, ok := spec.(proto.Message)
	if !ok || !populated(m.ProtoReflect()) {
		return nil
	}
	textMu.Lock()
	defer textMu.Unlock()
	textBuf.Reset()
	if !specText(&textBuf, m) {
		return nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: fn.RenderedTag, Value: textBuf.String()}
}

// protoText writes a message as the block YAML the writer produces for the
// tree protoNode builds (fields in declaration order, only populated ones,
// compact sequences, map keys sorted), with its entries at indent; inline
// puts the first entry on the current line (after "- "). ok is false when
// a value is of a kind or a quoting this does not handle.
func protoText(buf *bytes.Buffer, m protoreflect.Message, indent int, inline bool) bool {
	fields := m.Descriptor().Fields()
	first := true
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		if !first || !inline {
			writeIndent(buf, indent)
		}
		first = false
		if !fn.AppendScalar(buf, yaml.NodeTagString, fd.JSONName()) {
			return false
		}
		buf.WriteByte(':')
		v := m.Get(fd)
		switch {
		case fd.IsList():
			buf.WriteByte('\n')
			l := v.List()
			for j := 0; j < l.Len(); j++ {
				writeIndent(buf, indent)
				buf.WriteString("- ")
				if fd.Kind() == protoreflect.MessageKind {
					em := l.Get(j).Message()
					if !populated(em) || !protoText(buf, em, indent+2, true) {
						return false
					}
					continue
				}
				if !scalarText(buf, fd, l.Get(j)) {
					return false
				}
				buf.WriteByte('\n')
			}
		case fd.IsMap():
			if fd.MapKey().Kind() != protoreflect.StringKind {
				return false
			}
			buf.WriteByte('\n')
			mp := v.Map()
			keys := make([]string, 0, mp.Len())
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k.String())
				return true
			})
			sort.Strings(keys)
			for _, k := range keys {
				writeIndent(buf, indent+2)
				if !fn.AppendScalar(buf, yaml.NodeTagString, k) {
					return false
				}
				buf.WriteString(": ")
				if !scalarText(buf, fd.MapValue(), mp.Get(protoreflect.ValueOfString(k).MapKey())) {
					return false
				}
				buf.WriteByte('\n')
			}
		case fd.Kind() == protoreflect.MessageKind:
			em := v.Message()
			if !populated(em) {
				buf.WriteString(" {}\n")
				continue
			}
			buf.WriteByte('\n')
			if !protoText(buf, em, indent+2, false) {
				return false
			}
		default:
			buf.WriteByte(' ')
			if !scalarText(buf, fd, v) {
				return false
			}
			buf.WriteByte('\n')
		}
	}
	return true
}

// scalarText writes a singular non-message value as protoNode renders it.
func scalarText(buf *bytes.Buffer, fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	var b [20]byte
	switch fd.Kind() {
	case protoreflect.StringKind:
		return fn.AppendScalar(buf, yaml.NodeTagString, v.String())
	case protoreflect.BoolKind:
		return fn.AppendScalar(buf, yaml.NodeTagBool, strconv.FormatBool(v.Bool()))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		buf.Write(strconv.AppendInt(b[:0], v.Int(), 10))
		return true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		buf.Write(strconv.AppendUint(b[:0], v.Uint(), 10))
		return true
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByNumber(v.Enum())
		return ev != nil && fn.AppendScalar(buf, yaml.NodeTagString, string(ev.Name()))
	}
	return false
}

// populated reports whether a message has any field protojson would write.
func populated(m protoreflect.Message) bool {
	found := false
	m.Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool {
		found = true
		return false
	})
	return found
}

func writeIndent(buf *bytes.Buffer, n int) {
	for ; n > 0; n-- {
		buf.WriteByte(' ')
	}
}
