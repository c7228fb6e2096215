package render

import (
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// protoNode renders a message as protojson would (field JSON names in
// declaration order, only populated fields, enums by name, map keys
// sorted), straight into YAML nodes. ok is false for anything protojson
// renders specially (64-bit integers as strings, floats, bytes, well-known
// types); the caller then goes through protojson.
//
// Why: rendering every generated object through JSON text and back was
// the largest part of meshfed's own work on large fleets.
func protoNode(m protoreflect.Message) (*yaml.Node, bool) {
	md := m.Descriptor()
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil, false
	}
	fields := md.Fields()
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: make([]*yaml.Node, 0, 2*fields.Len())}
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		v, ok := fieldNode(fd, m.Get(fd))
		if !ok {
			return nil, false
		}
		n.Content = append(n.Content, key(fd.JSONName()), v)
	}
	return n, true
}

func fieldNode(fd protoreflect.FieldDescriptor, v protoreflect.Value) (*yaml.Node, bool) {
	switch {
	case fd.IsList():
		l := v.List()
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq, Content: make([]*yaml.Node, 0, l.Len())}
		for i := 0; i < l.Len(); i++ {
			e, ok := singularNode(fd, l.Get(i))
			if !ok {
				return nil, false
			}
			n.Content = append(n.Content, e)
		}
		return n, true
	case fd.IsMap():
		if fd.MapKey().Kind() != protoreflect.StringKind {
			return nil, false
		}
		mp := v.Map()
		keys := make([]string, 0, mp.Len())
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k.String())
			return true
		})
		sort.Strings(keys)
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: make([]*yaml.Node, 0, 2*len(keys))}
		for _, k := range keys {
			e, ok := singularNode(fd.MapValue(), mp.Get(protoreflect.ValueOfString(k).MapKey()))
			if !ok {
				return nil, false
			}
			n.Content = append(n.Content, key(k), e)
		}
		return n, true
	}
	return singularNode(fd, v)
}

func singularNode(fd protoreflect.FieldDescriptor, v protoreflect.Value) (*yaml.Node, bool) {
	switch fd.Kind() {
	// Spec values are shared like keys (see shared): nothing edits a
	// generated spec in place.
	case protoreflect.StringKind:
		return shared(yaml.NodeTagString, v.String()), true
	case protoreflect.BoolKind:
		return shared(yaml.NodeTagBool, strconv.FormatBool(v.Bool())), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return shared(yaml.NodeTagInt, strconv.FormatInt(v.Int(), 10)), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return shared(yaml.NodeTagInt, strconv.FormatUint(v.Uint(), 10)), true
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByNumber(v.Enum())
		if ev == nil {
			return nil, false // protojson would print the number
		}
		return shared(yaml.NodeTagString, string(ev.Name())), true
	case protoreflect.MessageKind:
		return protoNode(v.Message())
	}
	return nil, false
}
