// Package render builds the Istio and Gateway API objects meshfed
// generates, from the typed API structs of those projects, checks them the
// way istiod and the API server would, and renders them as JSON with
// protojson and encoding/json (the edge turns that into YAML items).
package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Object is a generated object before it becomes a KRM item. Spec is an
// istio.io/api proto message or a Gateway API spec struct.
type Object struct {
	APIVersion, Kind string
	Namespace, Name  string
	Labels           map[string]string
	Annotations      map[string]string
	Spec             any
}

// Label and annotation every generated object carries.
const (
	ManagedByLabel        = "app.kubernetes.io/managed-by"
	ManagedByValue        = "meshfed"
	GeneratedByAnnotation = "meshfed.dev/generated-by"
)

// maxNameLength keeps generated names valid DNS-1123 labels, which is also
// what Gateway API needs to derive its Service and Deployment names.
const maxNameLength = 63

// Name turns a hostname or any dotted string into a valid object name:
// dots become dashes, and a name longer than 63 characters is cut and given
// a hash of the whole, so that it stays unique and deterministic.
func Name(s string) string {
	n := strings.ToLower(strings.ReplaceAll(s, ".", "-"))
	if len(n) <= maxNameLength {
		return n
	}
	sum := sha256.Sum256([]byte(s))
	head := strings.TrimRight(n[:maxNameLength-9], "-")
	return head + "-" + hex.EncodeToString(sum[:])[:8]
}

// JSON renders o as a Kubernetes object in JSON: apiVersion, kind,
// metadata (name, namespace, labels, annotations, map keys sorted) and the
// spec, an Istio message as protojson writes it (fields in declaration
// order, enums by name) or a Gateway API struct as encoding/json does.
// The edge turns this JSON into the YAML item (fn.ObjectFromJSON).
func (o Object) JSON() ([]byte, error) {
	spec, err := specJSON(o.Spec)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", o.Kind, o.Namespace, o.Name, err)
	}
	return json.Marshal(objectJSON{
		APIVersion: o.APIVersion,
		Kind:       o.Kind,
		Metadata:   metadataJSON{Name: o.Name, Namespace: o.Namespace, Labels: o.Labels, Annotations: o.Annotations},
		Spec:       spec,
	})
}

// objectJSON and metadataJSON fix the order of an object's fields.
type objectJSON struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   metadataJSON    `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
}

type metadataJSON struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func specJSON(spec any) ([]byte, error) {
	if m, ok := spec.(proto.Message); ok {
		return protojson.Marshal(m)
	}
	return json.Marshal(spec)
}

// HashedName is Name with a hash of s always appended, for the rare names
// that would otherwise collide (hosts that differ only in dots and dashes).
func HashedName(s string) string {
	sum := sha256.Sum256([]byte(s))
	n := strings.ToLower(strings.ReplaceAll(s, ".", "-"))
	if len(n) > maxNameLength-9 {
		n = n[:maxNameLength-9]
	}
	return strings.TrimRight(n, "-") + "-" + hex.EncodeToString(sum[:])[:8]
}
