package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/krm"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/resid"
	k8syaml "sigs.k8s.io/yaml"
)

// The schemas in krmfunctiondefinition.yaml must describe exactly the Go
// types in api/v1alpha1 and agree with their Validate and Default.

// kindCase is one config kind: its Go type, a config that sets every
// field, and how to decode, default and validate it as meshfed does.
type kindCase struct {
	kind     string
	goType   reflect.Type
	maximal  string
	validate func(raw map[string]any) []krm.FieldError
	defaults func(raw map[string]any) (map[string]any, error)
	// Go fields the schema leaves out on purpose, each with the reason
	// (checked: Validate must reject them).
	notInSchema map[string]string
}

var kindCases = []kindCase{
	{
		kind:   v1alpha1.KindMeshExport,
		goType: reflect.TypeOf(v1alpha1.MeshExport{}),
		maximal: `
apiVersion: meshfed.dev/v1alpha1
kind: MeshExport
metadata: {name: west, namespace: config, labels: {a: b}, annotations: {c: d}}
spec:
  network: west-network
  gateway: {name: eastwestgateway, namespace: istio-system, port: 15443}
  phase: Cutover
  peers:
  - {name: east-mesh, remoteName: west-mesh, clusterDomain: east.local}
  services:
  - name: httpbin
    namespace: a
    hosts: [httpbin.a.svc.west-mesh-imports.local]
    ports: [{number: 8000, name: http, protocol: HTTP, targetPort: 8080}]
    workloadSelector: {app: httpbin}
`,
		validate: func(raw map[string]any) []krm.FieldError {
			var c v1alpha1.MeshExport
			if errs := krm.DecodeMapStrict(raw, &c, "metadata"); len(errs) > 0 {
				return errs
			}
			c.Default()
			return c.Validate()
		},
		defaults: func(raw map[string]any) (map[string]any, error) {
			var c v1alpha1.MeshExport
			if errs := krm.DecodeMapStrict(raw, &c, "metadata"); len(errs) > 0 {
				return nil, fmt.Errorf("%v", errs)
			}
			c.Default()
			return toMap(c)
		},
	},
	{
		kind:   v1alpha1.KindMeshImport,
		goType: reflect.TypeOf(v1alpha1.MeshImport{}),
		maximal: `
apiVersion: meshfed.dev/v1alpha1
kind: MeshImport
metadata: {name: east, namespace: config, labels: {a: b}, annotations: {c: d}}
spec:
  network: network-east-mesh
  namespace: federation-imports
  exportTo: [client]
  phase: Cutover
  peers:
  - name: west-mesh
    network: west-network
    gateway: {address: 203.0.113.10, addresses: [gw.west.example.com], port: 443}
    trustDomain: west.local
    remoteName: east-mesh
    clusterDomain: east.local
    services:
    - host: httpbin.b.svc.cluster.local
      ports: [{number: 8000, name: http, protocol: HTTP}]
      serviceAccount: b/httpbin
`,
		validate: func(raw map[string]any) []krm.FieldError {
			var c v1alpha1.MeshImport
			if errs := krm.DecodeMapStrict(raw, &c, "metadata"); len(errs) > 0 {
				return errs
			}
			c.Default()
			return c.Validate()
		},
		defaults: func(raw map[string]any) (map[string]any, error) {
			var c v1alpha1.MeshImport
			if errs := krm.DecodeMapStrict(raw, &c, "metadata"); len(errs) > 0 {
				return nil, fmt.Errorf("%v", errs)
			}
			c.Default()
			return toMap(c)
		},
		notInSchema: map[string]string{
			"spec.peers[].services[].ports[].targetPort": "is not used on the importing side",
		},
	},
}

func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// loadSchemas reads krmfunctiondefinition.yaml the way kyaml's framework
// does, one definition per kind.
func loadSchemas(t *testing.T) map[string]*spec.Schema {
	t.Helper()
	b, err := os.ReadFile("krmfunctiondefinition.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := (&kio.ByteReader{Reader: strings.NewReader(string(b)), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*spec.Schema{}
	for _, d := range docs {
		if d.GetApiVersion() != framework.FunctionDefinitionGroupVersion || d.GetKind() != framework.FunctionDefinitionKind {
			t.Fatalf("%s %s: want %s %s", d.GetApiVersion(), d.GetKind(), framework.FunctionDefinitionGroupVersion, framework.FunctionDefinitionKind)
		}
		kind, err := d.GetString("spec.names.kind")
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.String()
		if err != nil {
			t.Fatal(err)
		}
		schema, err := framework.SchemaFromFunctionDefinition(resid.NewGvk(v1alpha1.Group, v1alpha1.Version, kind), s)
		if err != nil {
			t.Fatalf("kyaml cannot load the %s schema: %v", kind, err)
		}
		out[kind] = schema
	}
	for _, c := range kindCases {
		if out[c.kind] == nil {
			t.Fatalf("krmfunctiondefinition.yaml has no definition for %s", c.kind)
		}
	}
	return out
}

func schemaType(s *spec.Schema) string {
	if len(s.Type) == 1 {
		return s.Type[0]
	}
	return strings.Join(s.Type, "|")
}

// goSchemaType is the OpenAPI type of a Go type as encoding/json writes it.
func goSchemaType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Bool:
		return "boolean"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Pointer:
		return goSchemaType(t.Elem())
	}
	return t.String()
}

func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag, ok := f.Tag.Lookup("json")
	if !ok {
		return f.Name, true
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return "", false
	}
	if name == "" {
		name = f.Name
	}
	return name, true
}

// compareType walks a Go type and its schema together.
func compareType(t *testing.T, c kindCase, path string, gt reflect.Type, s *spec.Schema) {
	t.Helper()
	for gt.Kind() == reflect.Pointer {
		gt = gt.Elem()
	}
	if got, want := schemaType(s), goSchemaType(gt); got != want {
		t.Errorf("%s %s: schema type %q, Go type %s is %q", c.kind, path, got, gt, want)
		return
	}
	switch gt.Kind() {
	case reflect.Struct:
		goFields := map[string]reflect.Type{}
		for i := 0; i < gt.NumField(); i++ {
			if name, ok := jsonName(gt.Field(i)); ok {
				goFields[name] = gt.Field(i).Type
			}
		}
		for name, ft := range goFields {
			p := joinPath(path, name)
			ps, ok := s.Properties[name]
			if !ok {
				if _, excused := c.notInSchema[p]; !excused {
					t.Errorf("%s: Go field %s is missing from the schema", c.kind, p)
				}
				continue
			}
			compareType(t, c, p, ft, &ps)
		}
		for name := range s.Properties {
			if _, ok := goFields[name]; !ok {
				t.Errorf("%s: schema property %s has no Go field", c.kind, joinPath(path, name))
			}
		}
	case reflect.Map:
		if s.AdditionalProperties == nil || s.AdditionalProperties.Schema == nil {
			t.Errorf("%s %s: a Go map needs additionalProperties with a schema", c.kind, path)
			return
		}
		compareType(t, c, path+"{}", gt.Elem(), s.AdditionalProperties.Schema)
	case reflect.Slice, reflect.Array:
		if s.Items == nil || s.Items.Schema == nil {
			t.Errorf("%s %s: an array needs items", c.kind, path)
			return
		}
		compareType(t, c, path+"[]", gt.Elem(), s.Items.Schema)
	}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func TestSchemaMatchesGoTypes(t *testing.T) {
	schemas := loadSchemas(t)
	for _, c := range kindCases {
		compareType(t, c, "", c.goType, schemas[c.kind])
	}
}

// deletion is one field removed from the maximal config.
type deletion struct {
	path     string // e.g. spec.peers[].gateway.port
	required bool
	def      any // the schema default, or nil
	apply    func(root map[string]any)
}

// deletions lists, for every object in the config, the removal of each of
// its keys, with what the schema says about that key.
func deletions(doc any, s *spec.Schema, path string, at func(root map[string]any) any) []deletion {
	var out []deletion
	switch v := doc.(type) {
	case map[string]any:
		if len(s.Properties) == 0 {
			return nil // a free-form map such as labels
		}
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			k := k
			ps := s.Properties[k]
			out = append(out, deletion{
				path: joinPath(path, k), required: required[k], def: ps.Default,
				apply: func(root map[string]any) { delete(at(root).(map[string]any), k) },
			})
			child := func(root map[string]any) any { return at(root).(map[string]any)[k] }
			out = append(out, deletions(v[k], &ps, joinPath(path, k), child)...)
		}
	case []any:
		if len(v) > 0 && s.Items != nil && s.Items.Schema != nil {
			first := func(root map[string]any) any { return at(root).([]any)[0] }
			out = append(out, deletions(v[0], s.Items.Schema, path+"[]", first)...)
		}
	}
	return out
}

func parseConfig(t *testing.T, text string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := k8syaml.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// lookup follows a path such as spec.peers[].gateway.port (first element
// of each list) in a decoded config.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		name, isList := strings.CutSuffix(part, "[]")
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[name]; !ok {
			return nil, false
		}
		if isList {
			l, ok := cur.([]any)
			if !ok || len(l) == 0 {
				return nil, false
			}
			cur = l[0]
		}
	}
	return cur, true
}

// pipelineChecked are required by the schema but checked by meshfed's
// pipeline when it reads a config, not by Validate.
var pipelineChecked = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "metadata.name": true}

// TestSchemaRequiredAndDefaultsMatchValidate removes each field of a
// config that sets every field, one at a time: the schema and Validate
// must agree on whether the result is valid, the schema's required
// fields must be exactly those whose removal Validate rejects, and where
// the schema gives a default, Default() must fill in that value.
func TestSchemaRequiredAndDefaultsMatchValidate(t *testing.T) {
	schemas := loadSchemas(t)
	for _, c := range kindCases {
		schema := schemas[c.kind]
		maximal := parseConfig(t, c.maximal)
		if err := validate.AgainstSchema(schema, maximal, strfmt.Default); err != nil {
			t.Fatalf("%s: the full test config does not pass the schema: %v", c.kind, err)
		}
		if errs := c.validate(maximal); len(errs) > 0 {
			t.Fatalf("%s: the full test config does not pass Validate: %v", c.kind, errs)
		}
		for _, d := range deletions(maximal, schema, "", func(root map[string]any) any { return root }) {
			cfg := parseConfig(t, c.maximal)
			d.apply(cfg)
			schemaErr := validate.AgainstSchema(schema, cfg, strfmt.Default)
			goErrs := c.validate(cfg)
			if d.required != (schemaErr != nil) {
				t.Errorf("%s without %s: schema required=%v but schema validation error = %v", c.kind, d.path, d.required, schemaErr)
			}
			if pipelineChecked[d.path] {
				continue
			}
			if (schemaErr == nil) != (len(goErrs) == 0) {
				t.Errorf("%s without %s: the schema says valid=%v (%v), Validate says valid=%v (%v)", c.kind, d.path, schemaErr == nil, schemaErr, len(goErrs) == 0, goErrs)
			}
			if d.def == nil || d.required {
				continue
			}
			defaulted, err := c.defaults(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := lookup(defaulted, d.path)
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(d.def)
			if !ok || string(gotJSON) != string(wantJSON) {
				t.Errorf("%s %s: schema default %s, Default() gives %s", c.kind, d.path, wantJSON, gotJSON)
			}
		}
		// Fields that only Validate knows about are rejected by it.
		for p, why := range c.notInSchema {
			if !strings.HasSuffix(p, "ports[].targetPort") {
				t.Fatalf("no check for %s", p)
			}
			cfg := parseConfig(t, c.maximal)
			port, _ := lookup(cfg, strings.TrimSuffix(p, ".targetPort"))
			port.(map[string]any)["targetPort"] = int64(8080)
			if errs := c.validate(cfg); len(errs) == 0 {
				t.Errorf("%s: %s is left out of the schema because it %s, but Validate accepts it", c.kind, p, why)
			}
			if validate.AgainstSchema(schema, cfg, strfmt.Default) == nil {
				t.Errorf("%s: the schema accepts %s", c.kind, p)
			}
		}
	}
}

// TestSchemaEdgeCases covers what one-field removals cannot: a MeshImport
// peer needs address or addresses, and at least one peer; unknown fields
// and wrong types are rejected by both the schema and the decoder.
func TestSchemaEdgeCases(t *testing.T) {
	schemas := loadSchemas(t)
	imp := kindCases[1]
	cases := []struct {
		name  string
		c     kindCase
		edit  func(m map[string]any)
		valid bool
	}{
		{"MeshImport gateway without address and addresses", imp, func(m map[string]any) {
			gw, _ := lookup(m, "spec.peers[].gateway")
			delete(gw.(map[string]any), "address")
			delete(gw.(map[string]any), "addresses")
		}, false},
		{"MeshImport gateway with addresses only", imp, func(m map[string]any) {
			gw, _ := lookup(m, "spec.peers[].gateway")
			delete(gw.(map[string]any), "address")
		}, true},
		{"MeshImport with no peers", imp, func(m map[string]any) {
			m["spec"].(map[string]any)["peers"] = []any{}
		}, false},
		{"MeshExport with a misspelt field", kindCases[0], func(m map[string]any) {
			m["spec"].(map[string]any)["netwrok"] = "x"
		}, false},
		{"MeshExport port as a string", kindCases[0], func(m map[string]any) {
			m["spec"].(map[string]any)["gateway"].(map[string]any)["port"] = "15443"
		}, false},
		{"MeshExport unknown phase", kindCases[0], func(m map[string]any) {
			m["spec"].(map[string]any)["phase"] = "Later"
		}, false},
		{"MeshImport bad service account", imp, func(m map[string]any) {
			svc, _ := lookup(m, "spec.peers[].services[]")
			svc.(map[string]any)["serviceAccount"] = "httpbin"
		}, false},
	}
	for _, tc := range cases {
		cfg := parseConfig(t, tc.c.maximal)
		tc.edit(cfg)
		schemaErr := validate.AgainstSchema(schemas[tc.c.kind], cfg, strfmt.Default)
		goErrs := tc.c.validate(cfg)
		if (schemaErr == nil) != tc.valid || (len(goErrs) == 0) != tc.valid {
			t.Errorf("%s: want valid=%v; schema error %v; Validate errors %v", tc.name, tc.valid, schemaErr, goErrs)
		}
	}
}

// TestExampleConfigsMatchSchema validates every MeshExport and MeshImport
// in the examples and kustomization samples against the schema.
func TestExampleConfigsMatchSchema(t *testing.T) {
	schemas := loadSchemas(t)
	var files []string
	for _, pattern := range []string{"../../examples/*/*.yaml", "../../examples/*/*/*.yaml", "../../kustomization-samples/*/*.yaml", "../../kustomization-samples/*/*/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := (&kio.ByteReader{Reader: strings.NewReader(string(b)), OmitReaderAnnotations: true}).Read()
		if err != nil {
			continue // not KRM (e.g. a kustomization with odd content)
		}
		for _, d := range docs {
			schema := schemas[d.GetKind()]
			if schema == nil || d.GetApiVersion() != v1alpha1.APIVersion {
				continue
			}
			var m map[string]any
			if err := d.YNode().Decode(&m); err != nil {
				t.Fatal(err)
			}
			if err := validate.AgainstSchema(schema, m, strfmt.Default); err != nil {
				t.Errorf("%s: %s %s does not match the schema: %v", f, d.GetKind(), d.GetName(), err)
			}
			checked++
		}
	}
	if checked < 2 {
		t.Errorf("only %d example configs found: the guide's meshexport.yaml and meshimport.yaml should be among them", checked)
	}
}
