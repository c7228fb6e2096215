package fn

import (
	"encoding/json"
	"errors"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// jsonToNode reads one JSON value as YAML nodes: an object as a block
// mapping (keys in their order), an array as a block sequence, strings,
// numbers (the literal, !!int or !!float), booleans and null as plain
// scalars of their tag.
//
// Performance, and why it is written by hand: this converted generated
// objects with encoding/json's tokenizer (Decoder.Token), which decodes
// every string and number through reflection into an interface and
// allocates an error value at the end of every number; on the importer
// benchmark input of 5,000 Services (10,001 generated objects) that was
// 13 % of meshfed's CPU time and some 55 MB of allocations. Here
// encoding/json still decides what is valid JSON (json.Valid, before
// anything is read) and decodes every string that has an escape or
// invalid UTF-8 (json.Unmarshal of the quoted string); what is done by
// hand is only walking the structure of JSON already known to be valid,
// and taking an unescaped, valid UTF-8 string as it is (which is what
// encoding/json does with it). FuzzJSONToNode checks it, differentially,
// against the tokenizer version (tokenNode in jsonnode_test.go): the same
// nodes for every input, or an error from both.
func jsonToNode(b []byte) (*yaml.Node, error) {
	if !json.Valid(b) {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err // encoding/json's account of what is wrong
		}
		return nil, errors.New("invalid JSON")
	}
	s := jsonScanner{b: b}
	return s.value()
}

// jsonScanner walks valid JSON.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) value() (*yaml.Node, error) {
	s.space()
	switch s.b[s.i] {
	case '{':
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
		s.i++
		s.space()
		if s.b[s.i] == '}' {
			s.i++
			return n, nil
		}
		for {
			s.space()
			k, err := s.str()
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: k})
			s.space()
			s.i++ // ':'
			v, err := s.value()
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
			if s.end('}') {
				return n, nil
			}
		}
	case '[':
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		s.i++
		s.space()
		if s.b[s.i] == ']' {
			s.i++
			return n, nil
		}
		for {
			v, err := s.value()
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
			if s.end(']') {
				return n, nil
			}
		}
	case '"':
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: v}, nil
	case 't':
		s.i += len("true")
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: "true"}, nil
	case 'f':
		s.i += len("false")
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: "false"}, nil
	case 'n':
		s.i += len("null")
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}, nil
	}
	start, tag := s.i, yaml.NodeTagInt
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+':
		case c == '.', c == 'e', c == 'E':
			tag = yaml.NodeTagFloat
		default:
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(s.b[start:s.i])}, nil
		}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(s.b[start:s.i])}, nil
}

// end reads the ',' after an element (false) or the closing delimiter
// (true).
func (s *jsonScanner) end(closing byte) bool {
	s.space()
	c := s.b[s.i]
	s.i++
	return c == closing
}

// str reads a string; s.b[s.i] is its opening quote.
func (s *jsonScanner) str() (string, error) {
	start := s.i
	escaped := false
	for s.i++; s.b[s.i] != '"'; s.i++ {
		if s.b[s.i] == '\\' {
			escaped = true
			s.i++ // the escaped character: never the closing quote
		}
	}
	s.i++
	raw := s.b[start:s.i]
	if content := raw[1 : len(raw)-1]; !escaped && utf8.Valid(content) {
		return string(content), nil
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}
