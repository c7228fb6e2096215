package fn

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// appendItem appends item, as the YAML encoder writes it as an element of
// the ResourceList's `items:` (2-space indent, compact sequences), to buf
// and reports true; or reports false, having appended nothing usable, when
// the item has anything it does not handle exactly like the encoder:
// comments, explicit styles, anchors, floats, multi-line strings, or a
// string whose quoting it is not sure of. The caller then uses the encoder.
//
// Why: objects the function generates are built in memory with plain
// styles and simple strings, and encoding them was most of what meshfed
// added to a run. Emitting them directly is several times faster, and
// TestAppendItemMatchesEncoder plus every golden output check that the
// bytes are the encoder's.
func appendItem(buf *bytes.Buffer, item *yaml.Node) bool {
	if item.Kind != yaml.MappingNode || len(item.Content) == 0 {
		return false
	}
	buf.WriteString("- ")
	return appendMapping(buf, item, 2, true)
}

// appendMapping writes a block mapping whose keys are at indent; the first
// key continues the current line when inline is set (after "- ").
func appendMapping(buf *bytes.Buffer, m *yaml.Node, indent int, inline bool) bool {
	if !plainNode(m) {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode || !plainNode(k) || !plainNode(v) {
			return false
		}
		if i > 0 || !inline {
			writeIndent(buf, indent)
		}
		if !appendScalar(buf, k) {
			return false
		}
		buf.WriteByte(':')
		if isRendered(v) {
			buf.WriteByte('\n')
			appendIndented(buf, v.Value, indent+2)
			continue
		}
		switch v.Kind {
		case yaml.ScalarNode:
			buf.WriteByte(' ')
			if !appendScalar(buf, v) {
				return false
			}
			buf.WriteByte('\n')
		case yaml.MappingNode:
			if len(v.Content) == 0 {
				buf.WriteString(" {}\n")
				continue
			}
			buf.WriteByte('\n')
			if !appendMapping(buf, v, indent+2, false) {
				return false
			}
		case yaml.SequenceNode:
			if len(v.Content) == 0 {
				buf.WriteString(" []\n")
				continue
			}
			buf.WriteByte('\n')
			if !appendSequence(buf, v, indent) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// appendSequence writes a compact block sequence: "- " at the parent key's
// indent.
func appendSequence(buf *bytes.Buffer, s *yaml.Node, indent int) bool {
	if !plainNode(s) {
		return false
	}
	for _, e := range s.Content {
		if !plainNode(e) {
			return false
		}
		writeIndent(buf, indent)
		buf.WriteString("- ")
		switch e.Kind {
		case yaml.ScalarNode:
			if !appendScalar(buf, e) {
				return false
			}
			buf.WriteByte('\n')
		case yaml.MappingNode:
			if len(e.Content) == 0 || !appendMapping(buf, e, indent+2, true) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func writeIndent(buf *bytes.Buffer, n int) {
	for ; n > 0; n-- {
		buf.WriteByte(' ')
	}
}

// plainNode: no comments, anchors or explicit style.
func plainNode(n *yaml.Node) bool {
	return n.Style == 0 && n.Anchor == "" && n.HeadComment == "" && n.LineComment == "" && n.FootComment == ""
}

// appendScalar writes a scalar as the encoder does, or reports false.
func appendScalar(buf *bytes.Buffer, n *yaml.Node) bool {
	return AppendScalar(buf, n.Tag, n.Value)
}

// AppendScalar writes a plain-style scalar of that tag and value exactly as
// the YAML encoder would, or reports false (having written nothing) when it
// is not sure of the encoder's quoting.
func AppendScalar(buf *bytes.Buffer, tag, s string) bool {
	switch tag {
	case "", yaml.NodeTagString:
	case yaml.NodeTagInt:
		if !isDigits(strings.TrimPrefix(s, "-")) {
			return false
		}
		buf.WriteString(s)
		return true
	case yaml.NodeTagBool:
		if s != "true" && s != "false" {
			return false
		}
		buf.WriteString(s)
		return true
	default:
		return false
	}
	switch {
	case s == ".":
		buf.WriteString(".") // exportTo's "this namespace"
	case s == "*":
		// An alias indicator cannot start a plain scalar.
		buf.WriteString("'*'")
	case isDigits(s):
		// Would read back as a number: the encoder double-quotes it.
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
	case safePlain(s):
		buf.WriteString(s)
	default:
		return false
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// safePlain accepts strings the encoder certainly writes unquoted: names,
// hostnames, label keys, enum values, IPv4 addresses and URIs without
// spaces. Anything else takes the encoder's path.
func safePlain(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	c := s[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return isIPv4(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_', c == '/':
		case c == ':':
			// ": " or a trailing ':' would start a mapping value.
			if i+1 >= len(s) || s[i+1] == ' ' {
				return false
			}
		default:
			return false
		}
	}
	if len(s) <= 5 {
		for _, word := range yaml11Words {
			if strings.EqualFold(s, word) {
				return false // read back as booleans or null by YAML 1.1 readers
			}
		}
	}
	return true
}

var yaml11Words = [...]string{"y", "yes", "n", "no", "on", "off", "true", "false", "null"}

func isIPv4(s string) bool {
	for part := 0; part < 4; part++ {
		p := s
		if i := strings.IndexByte(s, '.'); i >= 0 && part < 3 {
			p, s = s[:i], s[i+1:]
		} else if part < 3 {
			return false
		}
		if !isDigits(p) || len(p) > 3 {
			return false
		}
	}
	return true
}

// RenderedTag marks a scalar node that stands for a block mapping already
// rendered as YAML text by AppendScalar's rules (one entry per line,
// indented from column 0). The function's generated objects carry their
// spec this way: as text it takes a fraction of the memory and allocation
// of a tree of nodes. The writers put the text in place (appendItem), or
// parse it back (ExpandRendered) before handing an item to the encoder.
const RenderedTag = "!meshfed.dev/rendered"

// isRendered reports whether n stands for rendered text.
func isRendered(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == RenderedTag
}

// appendIndented writes text with every line indented by n.
func appendIndented(buf *bytes.Buffer, text string, n int) {
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i+1], text[i+1:]
		} else {
			text = ""
		}
		writeIndent(buf, n)
		buf.WriteString(line)
	}
}

// ExpandRendered replaces every rendered scalar under n by the nodes its
// text stands for, for writers that work on trees.
func ExpandRendered(n *yaml.Node) error {
	for i, c := range n.Content {
		if isRendered(c) {
			if err := expandAt(n, i); err != nil {
				return err
			}
			continue
		}
		if err := ExpandRendered(c); err != nil {
			return err
		}
	}
	return nil
}

// expandAt replaces the rendered text at n.Content[i] by its tree.
func expandAt(n *yaml.Node, i int) error {
	rn, err := yaml.Parse(n.Content[i].Value)
	if err != nil {
		return fmt.Errorf("internal error: rendered text does not parse back: %w", err)
	}
	n.Content[i] = rn.YNode()
	return nil
}
