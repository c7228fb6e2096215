package krm

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

type testPort struct {
	Name   String      `yaml:"name"`
	Port   Int32       `yaml:"port"`
	Target IntOrString `yaml:"targetPort"`
}

type testObject struct {
	Spec struct {
		Type     String            `yaml:"type"`
		Selector map[string]string `yaml:"selector"`
		Ports    []testPort        `yaml:"ports"`
		Template *struct {
			Account String `yaml:"serviceAccountName"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func decodeText(t *testing.T, text string) (testObject, string) {
	t.Helper()
	n, err := yaml.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	var out testObject
	var got []string
	for _, e := range DecodeNode(n.YNode(), &out) {
		got = append(got, e.Path+" "+e.Message)
	}
	return out, strings.Join(got, "; ")
}

// Each value of the wrong YAML type is named with its path, list indexes
// included, even when a flow-style list puts them all on one line; the
// other fields still decode.
func TestDecodeNodeNamesEveryField(t *testing.T) {
	for _, tc := range []struct{ name, yaml, errors string }{
		{"fits", "spec: {type: ClusterIP, ports: [{name: http, port: 80, targetPort: 8080}]}", ""},
		{"unknown fields are not read", "kind: Service\nspec: {clusterIP: [1], ports: [{nodePort: x, port: 1}]}", ""},
		{"null is the zero value", "spec: {type: null, ports: [{name: ~, port: null}]}", ""},
		{"a quoted port", `spec: {ports: [{name: http, port: "80"}]}`, "spec.ports[0].port must be an integer"},
		{"a fraction", "spec: {ports: [{port: 80.5}]}", "spec.ports[0].port must be an integer"},
		{"an overflow", "spec: {ports: [{port: 4294967377}]}", "spec.ports[0].port must be an integer from -2147483648 to 2147483647"},
		{"a number as a name", "spec: {ports: [{name: 80, port: 80}]}", "spec.ports[0].name must be a string"},
		{"a boolean as a type", "spec: {type: true}", "spec.type must be a string"},
		{"two in one line", "spec: {ports: [{name: a, port: x}, {name: [b], port: 2}, {port: 3, targetPort: [c]}]}",
			"spec.ports[0].port must be an integer; spec.ports[1].name must be a string; spec.ports[2].targetPort must be an integer or a string"},
		{"not a list", "spec: {ports: 8000}", "spec.ports must be a list of objects"},
		{"an element not an object", "spec: {ports: [8000]}", "spec.ports[0] must be an object"},
		{"not a map", "spec: {selector: [app]}", "spec.selector must be a map of strings"},
		{"a map value not a scalar", "spec: {selector: {app: [x]}}", "spec.selector.app must be a string"},
		{"a pointer's object", "spec: {template: 5}", "spec.template must be an object"},
		{"inside a pointer", "spec: {template: {serviceAccountName: 5}}", "spec.template.serviceAccountName must be a string"},
		{"spec not an object", "spec: [a]", "spec must be an object"},
		{"an empty key", `spec: {selector: {"": [x]}}`, `spec.selector."" must be a string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, got := decodeText(t, tc.yaml); got != tc.errors {
				t.Errorf("errors %q, want %q", got, tc.errors)
			}
		})
	}
}

// Scalars keep their text: an unquoted date in a label map stays as
// written (go-yaml's own decoding into an any would make it a time, and
// JSON then "2024-05-01T00:00:00Z"), a key YAML reads as a number is its
// text, an integer in any YAML notation is its value, and a targetPort
// tells numbers from names by their YAML type.
func TestDecodeNodeKeepsText(t *testing.T) {
	out, errs := decodeText(t, `spec:
  selector: {release: 2024-05-01, 1: one, on: yes}
  ports:
  - {port: 0x1F90, targetPort: 8080}
  - {port: 1_000, targetPort: "8080"}
  - {port: +7, targetPort: http}
`)
	if errs != "" {
		t.Fatal(errs)
	}
	if got := fmt.Sprint(out.Spec.Selector); got != "map[1:one on:yes release:2024-05-01]" {
		t.Errorf("selector %s", got)
	}
	want := []testPort{
		{Port: 8080, Target: IntOrString{Number: 8080}},
		{Port: 1000, Target: IntOrString{Text: "8080", IsText: true}},
		{Port: 7, Target: IntOrString{Text: "http", IsText: true}},
	}
	if got := fmt.Sprint(out.Spec.Ports); got != fmt.Sprint(want) {
		t.Errorf("ports %s, want %s", got, fmt.Sprint(want))
	}
}

// An alias is read as the value it names (the reader expands anchors, but
// DecodeNode must not depend on it), errors inside included.
func TestDecodeNodeFollowsAliases(t *testing.T) {
	out, errs := decodeText(t, "x: &p {name: http, port: 80}\ny: &bad {port: eighty}\nspec: {ports: [*p, *bad]}\n")
	if errs != "spec.ports[1].port must be an integer" {
		t.Errorf("errors %q", errs)
	}
	if len(out.Spec.Ports) != 2 || out.Spec.Ports[0].Name != "http" || out.Spec.Ports[0].Port != 80 {
		t.Errorf("ports %+v", out.Spec.Ports)
	}
}

// Beside keeps a check's problem only outside the fields that did not
// decode.
func TestBeside(t *testing.T) {
	decoded := []FieldError{{Path: "spec.ports[1]"}, {Path: "spec.type"}}
	checked := []FieldError{{Path: "spec.ports[1].port"}, {Path: "spec.ports[10].port"}, {Path: "spec.type"}, {Path: "spec.typeX"}, {Path: "metadata.name"}}
	var got []string
	for _, e := range Beside(decoded, checked) {
		got = append(got, e.Path)
	}
	if strings.Join(got, " ") != "spec.ports[1] spec.type spec.ports[10].port spec.typeX metadata.name" {
		t.Errorf("Beside = %v", got)
	}
	if got := Beside(nil, checked); len(got) != len(checked) {
		t.Errorf("Beside(nil) = %v", got)
	}
}
