package krm

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// FuzzDecodeNode: on any YAML, DecodeNode returns no error exactly when
// go-yaml decodes the value, and every error names a field (a path, or "."
// for the whole value only when no field alone fails).
func FuzzDecodeNode(f *testing.F) {
	for _, s := range []string{
		"spec: {ports: [{name: http, port: 80, targetPort: 8080}]}",
		"spec: {ports: [{name: a, port: x}, {name: [b], port: 2}, {port: 3, targetPort: [c]}]}",
		"spec: {selector: {app: [x]}, template: {serviceAccountName: 5}}",
		"x: &p {port: eighty}\nspec: {ports: [*p, *p]}",
		"spec: [a]",
		"spec: {type: !!binary aGVsbG8=, ports: [{port: 0x10, targetPort: 1_0}]}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := yaml.Parse(s)
		if err != nil || n.YNode().Kind != yaml.MappingNode {
			return
		}
		var out, plain testObject
		errs := DecodeNode(n.YNode(), &out)
		if ok := n.YNode().Decode(&plain) == nil; ok != (len(errs) == 0) {
			t.Fatalf("go-yaml decodes: %v, but DecodeNode reports %v", ok, errs)
		}
		for _, e := range errs {
			if e.Path == "" || e.Message == "" {
				t.Fatalf("an error without a path or message: %#v", e)
			}
		}
	})
}
