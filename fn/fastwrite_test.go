package fn

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// encoderItem is what the YAML encoder writes for n as an element of
// `items:`, the reference appendItem must match.
func encoderItem(t *testing.T, n *yaml.Node) string {
	t.Helper()
	var buf bytes.Buffer
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "items"}, {Kind: yaml.SequenceNode, Content: []*yaml.Node{n}},
	}}}}
	e := yaml.NewEncoder(&buf)
	if err := e.Encode(doc); err != nil {
		t.Fatal(err)
	}
	_ = e.Close()
	return strings.TrimPrefix(buf.String(), "items:\n")
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s}
}

func mapOf(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: kv}
}

func seqOf(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq, Content: items}
}

func TestAppendItemMatchesEncoder(t *testing.T) {
	generated := mapOf(
		str("apiVersion"), str("networking.istio.io/v1"),
		str("kind"), str("ServiceEntry"),
		str("metadata"), mapOf(str("name"), str("x-a-svc-p-imports-local"), str("namespace"), str("a"),
			str("annotations"), mapOf(str("internal.config.kubernetes.io/index"), str("12"), str("meshfed.dev/generated-by"), str("MeshImport/east"))),
		str("spec"), mapOf(
			str("hosts"), seqOf(str("x.a.svc.p-imports.local")),
			str("ports"), seqOf(mapOf(str("number"), &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: "8000"}, str("name"), str("http"), str("protocol"), str("HTTP"))),
			str("exportTo"), seqOf(str("*"), str(".")),
			str("subjectAltNames"), seqOf(str("spiffe://west.local/ns/a/sa/x")),
			str("addresses"), seqOf(mapOf(str("type"), str("IPAddress"), str("value"), str("203.0.113.10"))),
			str("empty"), mapOf(),
			str("none"), seqOf(),
			str("flag"), &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: "false"},
		),
	)
	var buf bytes.Buffer
	if !appendItem(&buf, generated) {
		t.Fatal("a generated-style object took the slow path")
	}
	if want := encoderItem(t, generated); buf.String() != want {
		t.Errorf("appendItem:\n%s\nencoder:\n%s", buf.String(), want)
	}

	// Strings whose quoting appendItem leaves to the encoder, and strings it
	// handles itself: either way the result must be the encoder's.
	for _, s := range []string{"yes", "No", "on", "true", "null", "1.5", "0x10", "-x", ".inf", "a: b", "a:", "a #b",
		"with space", "multi\nline", "é", "1.2.3.4", "1.2.3", "007", "", "~", "a'b", "key:value", "UPPER_CASE", "x/y.z",
		"YES", "Off", "NuLL", "FALSE", "Y", "yess", "nulls", "1.2.3.4.5", "10.0.0.256", "1..2.3", "1.2.3.", "1234.1.1.1", "10.0.0.1"} {
		item := mapOf(str("k"), str(s))
		buf.Reset()
		if appendItem(&buf, item) {
			if want := encoderItem(t, item); buf.String() != want {
				t.Errorf("%q: appendItem wrote %q, the encoder %q", s, buf.String(), want)
			}
		}
	}
	commented := mapOf(str("k"), str("v"))
	commented.Content[1].LineComment = "# note"
	if appendItem(&buf, commented) {
		t.Error("a commented node must take the encoder's path")
	}
}
