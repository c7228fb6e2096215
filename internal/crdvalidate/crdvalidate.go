// Package crdvalidate checks Kubernetes objects offline roughly the way a
// cluster would on create, so tests can catch manifests that look fine as
// YAML but that kube-apiserver (or Istio) would reject or silently change.
//
// Each object goes through these layers; every failure is a Problem naming
// its layer:
//
//   - protojson: the spec of an Istio object is decoded strictly into its
//     istio.io/api message. istio.io/api's own UnmarshalJSON tolerates
//     unknown fields, so protojson is called directly with unknown fields
//     rejected.
//   - typed: a Gateway API object is decoded into its
//     sigs.k8s.io/gateway-api Go type with unknown fields rejected.
//   - pruning: fields the CRD schema does not know. The apiserver drops them
//     silently (or rejects them with fieldValidation=Strict); either way the
//     field never reaches the controller, so it is an error here.
//   - metadata: name, labels and annotations as ObjectMeta validation sees
//     them.
//   - defaulting: fields the CRD schema's defaults add. The apiserver
//     stores the object with them, so it differs from the manifest and a
//     GitOps tool comparing the two shows drift that never goes away;
//     generated output writes the defaults out.
//   - crd: OpenAPI schema validation after structural defaulting.
//     Defaulting runs first because the apiserver does so, and a default
//     can turn a valid-looking object invalid (a Gateway API address
//     without type becomes IPAddress, which then rejects a hostname).
//   - listtype: x-kubernetes-list-type set/map uniqueness.
//   - cel: x-kubernetes-validations rules, with the apiserver's cost budget.
//
// Objects whose kind has no loaded CRD (core kinds, meshfed's own config
// kinds, other operators' kinds) skip the CRD layers; Unchecked lists them.
//
// In another package's test, the usual call is
//
//	crdvalidate.AssertValidYAML(t, "case1/_expected.yaml", output)
//
// which checks against the CRDs of every Istio version in IstioVersions plus
// the Gateway API standard CRDs. For finer control, ForIstio returns the
// cached Validator of one Istio version.
//
// What is not covered: Istio's own validating webhook (istiod), Gateway API
// conformance rules enforced only by controllers, and the
// ValidatingAdmissionPolicy that ships with the Gateway API CRDs.
package crdvalidate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// Layer names used in Problem.Layer.
const (
	LayerProtojson  = "protojson"
	LayerTyped      = "typed"
	LayerPruning    = "pruning"
	LayerMetadata   = "metadata"
	LayerDefaulting = "defaulting"
	LayerCRD        = "crd"
	LayerListType   = "listtype"
	LayerCEL        = "cel"
)

// Problem is one reason an object would be rejected or altered.
type Problem struct {
	Object  string // "Kind namespace/name", or "Kind name" without namespace
	Layer   string // one of the Layer* constants
	Message string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s [%s] %s", p.Object, p.Layer, p.Message)
}

// Validator holds the schemas of a set of CRDs. It is safe for concurrent
// use; per-version compiled validators are built on first use because
// compiling every CEL rule of every CRD up front costs seconds.
type Validator struct {
	crds map[schema.GroupKind]*crdInfo
}

type crdInfo struct {
	name       string
	namespaced bool
	versions   map[string]*versionInfo
}

type versionInfo struct {
	served     bool
	hasStatus  bool
	props      *apiextensions.JSONSchemaProps
	structural *structuralschema.Structural

	once      sync.Once
	schemaVal apiservervalidation.SchemaValidator
	celVal    *cel.Validator // nil when the schema has no CEL rules
	buildErr  error
}

// Load reads CustomResourceDefinitions (apiextensions.k8s.io/v1) from the
// given YAML files. Other documents in those files (for example the
// ValidatingAdmissionPolicy that ships next to the Gateway API CRDs) are
// ignored, but a file without any CRD is an error, since that is almost
// certainly a wrong path.
func Load(crdYAMLFiles ...string) (*Validator, error) {
	v := &Validator{crds: map[schema.GroupKind]*crdInfo{}}
	for _, file := range crdYAMLFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		n, err := v.addCRDs(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: no CustomResourceDefinition found", file)
		}
	}
	return v, nil
}

func (v *Validator) addCRDs(data []byte) (int, error) {
	count := 0
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := dec.Decode(&crd); err != nil {
			if err == io.EOF {
				return count, nil
			}
			return count, err
		}
		if crd.Kind != "CustomResourceDefinition" || crd.APIVersion != apiextensionsv1.SchemeGroupVersion.String() {
			continue
		}
		info := &crdInfo{
			name:       crd.Name,
			namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
			versions:   map[string]*versionInfo{},
		}
		for i := range crd.Spec.Versions {
			ver := &crd.Spec.Versions[i]
			vi := &versionInfo{
				served:    ver.Served,
				hasStatus: ver.Subresources != nil && ver.Subresources.Status != nil,
			}
			if ver.Schema != nil && ver.Schema.OpenAPIV3Schema != nil {
				internal := &apiextensions.CustomResourceValidation{}
				if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(ver.Schema, internal, nil); err != nil {
					return count, fmt.Errorf("CRD %s version %s: %w", crd.Name, ver.Name, err)
				}
				s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
				if err != nil {
					return count, fmt.Errorf("CRD %s version %s: schema is not structural: %w", crd.Name, ver.Name, err)
				}
				// The apiserver strips defaults nested under pruned
				// fields before using them; do the same.
				if err := structuraldefaulting.PruneDefaults(s); err != nil {
					return count, fmt.Errorf("CRD %s version %s: %w", crd.Name, ver.Name, err)
				}
				vi.props = internal.OpenAPIV3Schema
				vi.structural = s
			}
			info.versions[ver.Name] = vi
		}
		v.crds[schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}] = info
		count++
	}
}

func (vi *versionInfo) build() error {
	vi.once.Do(func() {
		vi.schemaVal, _, vi.buildErr = apiservervalidation.NewSchemaValidator(vi.props)
		if vi.buildErr == nil {
			vi.celVal = cel.NewValidator(vi.structural, true, celconfig.PerCallLimit)
		}
	})
	return vi.buildErr
}

// HasCRD reports whether a CRD for the object's group and kind is loaded
// (whatever its version), i.e. whether the CRD layers check it.
func (v *Validator) HasCRD(gvk schema.GroupVersionKind) bool {
	_, ok := v.crds[gvk.GroupKind()]
	return ok
}

// Kinds lists the group kinds with a loaded CRD, sorted.
func (v *Validator) Kinds() []schema.GroupKind {
	out := make([]schema.GroupKind, 0, len(v.crds))
	for gk := range v.crds {
		out = append(out, gk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Unchecked returns the ObjectID of each object that the CRD layers skip
// because no CRD for its kind is loaded. Callers use it to assert that the
// objects they care about were really validated.
func (v *Validator) Unchecked(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, u := range objs {
		if !v.HasCRD(u.GroupVersionKind()) {
			out = append(out, ObjectID(u)+" ("+u.GetAPIVersion()+")")
		}
	}
	return out
}

// ObjectID names an object in problems: "Kind namespace/name".
func ObjectID(u *unstructured.Unstructured) string {
	if ns := u.GetNamespace(); ns != "" {
		return u.GetKind() + " " + ns + "/" + u.GetName()
	}
	return u.GetKind() + " " + u.GetName()
}

// ValidateObject runs every applicable layer on u and returns all problems
// found; none means a cluster with these CRDs would accept u unchanged. u is
// not modified.
func (v *Validator) ValidateObject(u *unstructured.Unstructured) []Problem {
	id := ObjectID(u)
	var problems []Problem
	add := func(layer string, errs field.ErrorList) {
		for _, e := range errs {
			problems = append(problems, Problem{Object: id, Layer: layer, Message: e.Error()})
		}
	}
	addMsg := func(layer, msg string) {
		problems = append(problems, Problem{Object: id, Layer: layer, Message: msg})
	}

	for _, msg := range strictDecode(u) {
		addMsg(msg.layer, msg.text)
	}

	gvk := u.GroupVersionKind()
	info, ok := v.crds[gvk.GroupKind()]
	if !ok {
		return problems
	}
	vi, ok := info.versions[gvk.Version]
	if !ok || !vi.served {
		addMsg(LayerCRD, fmt.Sprintf("version %q is not served by CRD %s", gvk.Version, info.name))
		return problems
	}
	if vi.structural == nil {
		return problems // no schema: the apiserver accepts anything
	}
	if err := vi.build(); err != nil {
		addMsg(LayerCRD, fmt.Sprintf("CRD %s version %s: %v", info.name, gvk.Version, err))
		return problems
	}

	// Work on a copy: pruning and defaulting mutate.
	obj := runtime.DeepCopyJSON(u.Object)

	// Decode stage of the apiserver: prune unknown fields, then default.
	pruned := pruning.PruneWithOptions(obj, vi.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, p := range pruned {
		addMsg(LayerPruning, fmt.Sprintf("unknown field %q (the apiserver would drop it)", p))
	}
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, vi.structural)
	undefaulted := runtime.DeepCopyJSON(obj)
	structuraldefaulting.Default(obj, vi.structural)

	// Create cannot set status when the status subresource is enabled.
	if vi.hasStatus {
		delete(obj, "status")
		delete(undefaulted, "status")
	}
	for _, p := range addedFields(undefaulted, obj, "") {
		addMsg(LayerDefaulting, fmt.Sprintf("the apiserver adds %s by defaulting; write it out, or the stored object differs from the manifest (GitOps drift)", p))
	}

	// ObjectMeta is decoded apart from the schema, as the apiserver does;
	// unknown fields in it are dropped like any other.
	meta, found, unknownMeta, err := schemaobjectmeta.GetObjectMetaWithOptions(obj,
		schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	for _, p := range unknownMeta {
		addMsg(LayerPruning, fmt.Sprintf("unknown field %q (the apiserver would drop it)", p))
	}
	switch {
	case err != nil:
		addMsg(LayerMetadata, err.Error())
	case !found:
		addMsg(LayerMetadata, "metadata is missing")
	default:
		if info.namespaced && meta.Namespace == "" {
			// KRM output often leaves the namespace to the applier.
			meta.Namespace = "default"
		}
		add(LayerMetadata, metavalidation.ValidateObjectMetaAccessor(meta, info.namespaced,
			metavalidation.NameIsDNSSubdomain, field.NewPath("metadata")))
	}

	schemaErrs := apiservervalidation.ValidateCustomResource(nil, obj, vi.schemaVal)
	add(LayerCRD, schemaErrs)
	add(LayerListType, listtype.ValidateListSetsAndMaps(nil, vi.structural, obj))

	if vi.celVal != nil {
		if blockingErr(schemaErrs) {
			// The apiserver skips CEL here too: rules would see wrong types.
			addMsg(LayerCEL, "CEL rules not evaluated because schema validation failed")
		} else {
			errs, _ := vi.celVal.Validate(context.Background(), nil, vi.structural, obj, nil, celconfig.RuntimeCELCostBudget)
			add(LayerCEL, errs)
		}
	}
	return problems
}

// addedFields lists the paths, with their values, of the fields in after
// that are not in before (the two differ only by defaulting).
func addedFields(before, after any, path string) []string {
	switch a := after.(type) {
	case map[string]any:
		b, _ := before.(map[string]any)
		keys := make([]string, 0, len(a))
		for k := range a {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			p := path + "." + k
			if path == "" {
				p = k
			}
			bv, ok := b[k]
			if !ok {
				v, _ := json.Marshal(a[k])
				out = append(out, fmt.Sprintf("%s: %s", p, v))
				continue
			}
			out = append(out, addedFields(bv, a[k], p)...)
		}
		return out
	case []any:
		b, _ := before.([]any)
		var out []string
		for i := range a {
			if i < len(b) {
				out = append(out, addedFields(b[i], a[i], fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
		return out
	}
	return nil
}

// blockingErr mirrors the apiserver's rule for when CEL is skipped.
func blockingErr(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong,
			field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

// FormatProblems renders problems one per line, for test failure output.
func FormatProblems(problems []Problem) string {
	var b strings.Builder
	for _, p := range problems {
		b.WriteString("  ")
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}
