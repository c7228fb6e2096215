package krm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	sigsyaml "sigs.k8s.io/yaml"
)

// FieldError is a problem with one field of a decoded object.
type FieldError struct {
	Path    string // e.g. spec.peers[0].gateway.port
	Message string
}

func (e FieldError) Error() string { return fmt.Sprintf("`%s`: %s", e.Path, e.Message) }

// DecodeStrict decodes obj into out (a pointer to a struct with json tags)
// and returns one FieldError per field that out's type does not know, and
// per value of the wrong type. The SDK's own As() silently ignores unknown
// fields, which turns a typo such as `netwrok` into a default value.
// Fields listed in skip (top-level json names such as "metadata") are not
// checked for unknown sub-fields.
func DecodeStrict(obj *kfn.SubObject, out any, skip ...string) []FieldError {
	var raw map[string]any
	if err := AsJSON(obj, &raw); err != nil {
		return []FieldError{{Path: ".", Message: err.Error()}}
	}
	return DecodeMapStrict(raw, out, skip...)
}

// AsJSON decodes obj into out (encoding/json, by json tags) from the JSON
// kubectl sends to the API server for it: sigs.k8s.io/yaml's conversion,
// which keeps an unquoted date as the text it is. The SDK's own As goes
// through go-yaml v3's decoding into an any, which makes it a time that
// JSON writes as "2024-05-01T00:00:00Z": a matchLabels value that the
// cluster reads as 2024-05-01 would then match nothing. Numbers are kept
// as written (json.Number) until out's types decode them.
func AsJSON(obj *kfn.SubObject, out any) error {
	j, err := sigsyaml.YAMLToJSON(obj.Bytes())
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	return d.Decode(out)
}

// DecodeMapStrict is DecodeStrict for an already decoded JSON-like map.
func DecodeMapStrict(raw map[string]any, out any, skip ...string) []FieldError {
	var errs []FieldError
	t := reflect.TypeOf(out)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	unknownFields(raw, t, "", skipped, &errs)
	b, err := json.Marshal(raw)
	if err != nil {
		return append(errs, FieldError{Path: ".", Message: err.Error()})
	}
	if err := json.Unmarshal(b, out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			want := jsonTypeName(te.Type)
			msg := fmt.Sprintf("must be of type %s, not %s", want, te.Value)
			if hint, ok := typeHints[want]; ok {
				msg += ": " + hint
			}
			if want == "integer" && isWholeNumber(te.Value) {
				msg = fmt.Sprintf("%s is out of range: write a smaller number", strings.TrimPrefix(te.Value, "number "))
			}
			path := te.Field
			if p, ok := locateTypeError(raw, strings.Split(te.Field, "."), te.Type); ok {
				path = strings.TrimPrefix(p, ".")
			}
			errs = append(errs, FieldError{Path: path, Message: msg})
		} else {
			errs = append(errs, FieldError{Path: ".", Message: err.Error()})
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
	return errs
}

// isWholeNumber reports whether a json.UnmarshalTypeError's value ("number
// 4294982739") is an integer, so the field's type is right but its range
// is not.
func isWholeNumber(value string) bool {
	n, ok := strings.CutPrefix(value, "number ")
	return ok && n != "" && strings.Trim(n, "-0123456789") == ""
}

// locateTypeError finds the value that failed to decode into target, for
// a path with list indexes (spec.peers[0].gateway.port): encoding/json
// names the field without them (spec.peers.gateway.port). It follows the
// field names through maps and tries each element of a list.
func locateTypeError(v any, fields []string, target reflect.Type) (string, bool) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			if p, ok := locateTypeError(e, fields, target); ok {
				return fmt.Sprintf("[%d]%s", i, p), true
			}
		}
		return "", false
	case map[string]any:
		if len(fields) > 0 {
			child, found := v[fields[0]]
			if !found {
				return "", false
			}
			p, ok := locateTypeError(child, fields[1:], target)
			return "." + fields[0] + p, ok
		}
	}
	if len(fields) > 0 {
		return "", false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return "", json.Unmarshal(b, reflect.New(target).Interface()) != nil
}

// typeHints say how to write a value of each type in YAML: the fix for a
// value of the wrong type.
var typeHints = map[string]string{
	"string":  `write text, in quotes if YAML would read it as something else (e.g. "8080", "true")`,
	"integer": "write a number without quotes, e.g. 15443",
	"boolean": "write true or false, without quotes",
	"list":    "write a YAML list, one `- ` entry a line (or [a, b])",
	"object":  "write a mapping of fields, `key: value` on indented lines below it",
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// unknownFields walks v alongside t and records keys that t has no field for.
func unknownFields(v any, t reflect.Type, path string, skip map[string]bool, errs *[]FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch val := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			fields := jsonFields(t)
			keys := make([]string, 0, len(val))
			for k := range val {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := JoinPath(path, k)
				ft, ok := fields[k]
				if !ok {
					*errs = append(*errs, FieldError{Path: p, Message: unknownFieldMessage(k, fields)})
					continue
				}
				if path == "" && skip[k] {
					continue
				}
				unknownFields(val[k], ft, p, skip, errs)
			}
		case reflect.Map:
			for k, e := range val {
				unknownFields(e, t.Elem(), JoinPath(path, k), skip, errs)
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, e := range val {
				unknownFields(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), skip, errs)
			}
		}
	}
}

// JoinPath appends a key to a field path (a.b), quoting an empty key.
func JoinPath(path, key string) string {
	if key == "" {
		// An empty key (`"": x` in YAML) is still a field the user wrote;
		// quote it so the result names it instead of naming no field.
		key = `""`
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFields maps the json names of t's exported fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	return taggedFields(t, "json", func(name string) string { return name })
}

// taggedFields maps the names that the tag key (json, yaml) gives t's
// exported fields to their types; a field without one is named by
// untagged(its Go name), as that decoder names it.
func taggedFields(t reflect.Type, key string, untagged func(string) string) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := untagged(f.Name)
		if tag, ok := f.Tag.Lookup(key); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		out[name] = f.Type
	}
	return out
}

func unknownFieldMessage(key string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field; did you mean `%s`?", best)
	}
	return fmt.Sprintf("unknown field; known fields here: %s", strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance, used only to suggest a fix for
// a misspelt field name.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
