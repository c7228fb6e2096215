package fn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// tokenJSON is the reference conversion: one JSON value, nothing after it.
func tokenJSON(b []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := tokenNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return n, nil
}

// tokenNode reads one JSON value from dec as a YAML node, with
// encoding/json's tokenizer: how ObjectFromJSON converted JSON before
// jsonToNode, kept as the reference for FuzzJSONToNode.
func tokenNode(dec *json.Decoder) (*yaml.Node, error) {
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
			v, err := tokenNode(dec)
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

// sameNodes reports where two node trees differ, "" if nowhere.
func sameNodes(a, b *yaml.Node, path string) string {
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Style != b.Style || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s: %v %q %q (%d) vs %v %q %q (%d)", path, a.Kind, a.Tag, a.Value, len(a.Content), b.Kind, b.Tag, b.Value, len(b.Content))
	}
	for i := range a.Content {
		if d := sameNodes(a.Content[i], b.Content[i], path+"/"+strconv.Itoa(i)); d != "" {
			return d
		}
	}
	return ""
}

func checkJSONToNode(t *testing.T, b []byte) {
	t.Helper()
	want, wantErr := tokenJSON(b)
	got, err := jsonToNode(b)
	if (wantErr != nil) != (err != nil) {
		t.Fatalf("%q: tokenizer error %v, jsonToNode error %v", b, wantErr, err)
	}
	if err != nil {
		return
	}
	if d := sameNodes(want, got, ""); d != "" {
		t.Fatalf("%q: nodes differ at %s", b, d)
	}
}

var jsonSeeds = []string{
	`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"g","annotations":{"a/b":"0","z":"true"}},"spec":{"hosts":["*","h.example"],"ports":[{"number":80,"name":"http"}],"on":false,"empty":{},"none":[],"note":"a: b\nc <>&"}}`,
	` { "a" : [ 1 , -2.5e+3 , 0.1 , 1E2 , true , null , "\u00e9\ud83d\ude00\u003c" ] , "b":{} } `,
	`{"lone":"\ud800", "pair":"\ud800\udc00", "esc":"\"\\\/\b\f\n\r\t"}`, `{"bad escape":"\xff"}`,
	"{\"raw\":\"caf\xc3\xa9 \xff\"}",
	`[1]`, `"s"`, `{`, `{}{}`, `{} x`, `{"a":1,}`, `{"a":01}`, `{"a":"\u12"}`, ``, `  `, `{"a":1}  `, `{"a":"b","a":"c"}`,
	"{\"ctl\":\"a\x01\"}", `[[],[{}],[[1]]]`, `-0`, `1.5`, `{"k":-}`,
}

// TestJSONToNode: jsonToNode gives the tokenizer's nodes, on the seeds and
// on every generated object of the goldens (as JSON: their items that
// meshfed generated, turned back into JSON).
func TestJSONToNode(t *testing.T) {
	for _, s := range jsonSeeds {
		checkJSONToNode(t, []byte(s))
	}
	golden, _ := filepath.Glob("../functions/meshfed/testdata/*/_expected.yaml")
	n := 0
	for _, file := range golden {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rl, err := yaml.Parse(string(b))
		if err != nil {
			continue
		}
		items, err := rl.Pipe(yaml.Lookup("items"))
		if err != nil || items == nil {
			continue
		}
		for _, it := range items.Content() {
			s, _ := yaml.NewRNode(it).String()
			if !strings.Contains(s, "meshfed.dev/generated-by") {
				continue
			}
			js, err := yaml.NewRNode(it).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			checkJSONToNode(t, js)
			n++
		}
	}
	if n < 10 {
		t.Errorf("only %d generated objects found in the goldens", n)
	}
}

// FuzzJSONToNode is the differential test of jsonToNode against
// encoding/json's tokenizer: the same nodes, or an error from both.
func FuzzJSONToNode(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkJSONToNode(t, b)
	})
}
