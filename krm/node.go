package krm

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// DecodeNode decodes an item's YAML node into out, a pointer to a struct
// whose yaml tags name the fields to read; the rest of the item is not
// looked at. The decoder is kyaml's YAML library (go-yaml v3), which keeps
// a scalar's text as written (an unquoted date stays "2024-05-01", where a
// detour through JSON would turn it into a timestamp).
//
// Every value that does not fit its field is a FieldError with the field's
// path (spec.ports[1].port): go-yaml names only a line, which a flow-style
// list shares among all its elements. Fields that fit are decoded even when
// others do not, so that a caller can check them too.
//
// Use String, Int32 and IntOrString for scalars that must be of one YAML
// type, as the API server reads them: go-yaml itself writes any scalar into
// a string field (a port name 80 would become "80") and truncates 80.5 into
// an integer field.
func DecodeNode(n *yaml.Node, out any) []FieldError {
	if err := n.Decode(out); err == nil {
		return nil
	}
	var errs []FieldError
	locate(n, reflect.TypeOf(out), "", &errs)
	if len(errs) == 0 {
		// go-yaml failed but no field alone fails: cannot happen with the
		// types above, but an error must never be lost.
		err := n.Decode(reflect.New(reflect.TypeOf(out).Elem()).Interface())
		errs = append(errs, FieldError{Path: ".", Message: fmt.Sprint(err)})
	}
	return errs
}

// locate finds the values under n that do not decode into t: it descends
// while the value as a whole fails and reports the innermost failing
// values. It runs only after a failed decode.
func locate(n *yaml.Node, t reflect.Type, path string, errs *[]FieldError) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	leaf := reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]())
	switch {
	case !leaf && t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if ft, ok := fields[n.Content[i].Value]; ok {
				locate(n.Content[i+1], ft, JoinPath(path, n.Content[i].Value), errs)
			}
		}
	case !leaf && t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			locate(n.Content[i+1], t.Elem(), JoinPath(path, n.Content[i].Value), errs)
		}
	case !leaf && t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, e := range n.Content {
			locate(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	default:
		*errs = append(*errs, FieldError{Path: path, Message: mismatch(t, err)})
	}
}

// mismatch is the message for a value that does not decode into t: the
// leaf types say what is wrong themselves.
func mismatch(t reflect.Type, err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) == 1 && strings.HasPrefix(te.Errors[0], "must ") {
		return te.Errors[0]
	}
	return "must be " + yamlTypeName(t)
}

// yamlTypeName names what a field of type t holds, as the messages of
// meshfed's readers always have: jsonTypeName's words, with lists and maps
// of what they hold.
func yamlTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		if e := t.Elem(); e.Kind() == reflect.Struct || e.Kind() == reflect.Pointer && e.Elem().Kind() == reflect.Struct {
			return "a list of objects"
		}
		return "a list"
	case reflect.Map:
		if t.Elem().Kind() == reflect.String {
			return "a map of strings"
		}
		return "a map"
	}
	name := jsonTypeName(t)
	if name == "integer" || name == "object" {
		return "an " + name
	}
	return "a " + name
}

// yamlFields maps the yaml names of t's exported fields to their types
// (go-yaml names an untagged field in lower case).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	return taggedFields(t, "yaml", strings.ToLower)
}

// String is a string field that, as for the API server, must be written as
// text: a YAML number, boolean, list or mapping there is an error.
type String string

func (s *String) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != yaml.NodeTagString {
		return typeError("must be a string")
	}
	*s = String(n.Value)
	return nil
}

// Int32 is an integer field: a YAML integer that fits in 32 bits. A
// quoted number, a fraction or anything else there is an error.
type Int32 int32

func (i *Int32) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != yaml.NodeTagInt {
		return typeError("must be an integer")
	}
	var v int32
	if err := n.Decode(&v); err != nil {
		return typeError(fmt.Sprintf("must be an integer from %d to %d", int32(-1<<31), int32(1<<31-1)))
	}
	*i = Int32(v)
	return nil
}

// IntOrString is a Kubernetes int-or-string field (a Service's
// targetPort): a YAML integer is a number, text is a name.
type IntOrString struct {
	Number int32
	Text   string
	IsText bool
}

func (v *IntOrString) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == yaml.NodeTagInt {
		var i Int32
		err := i.UnmarshalYAML(n)
		*v = IntOrString{Number: int32(i)}
		return err
	}
	var s String
	if err := s.UnmarshalYAML(n); err != nil {
		return typeError("must be an integer or a string")
	}
	*v = IntOrString{Text: string(s), IsText: true}
	return nil
}

func typeError(message string) error { return &yaml.TypeError{Errors: []string{message}} }

// Beside returns decoded, the problems found decoding an item, followed by
// checked, the problems found checking what was decoded, except those in
// a field that did not decode: its value there is a zero, and the decoding
// problem already names the field.
func Beside(decoded, checked []FieldError) []FieldError {
	if len(decoded) == 0 {
		return checked
	}
	out := decoded
	for _, c := range checked {
		if !within(c.Path, decoded) {
			out = append(out, c)
		}
	}
	return out
}

// within reports whether path is one of errs' paths or inside one.
func within(path string, errs []FieldError) bool {
	for _, e := range errs {
		if rest, ok := strings.CutPrefix(path, e.Path); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return true
		}
	}
	return false
}
