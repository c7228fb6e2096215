package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// object is one Kubernetes object as decoded from YAML or JSON: numbers
// are float64 on both sides, so what meshfed wrote and what the server
// returns compare with reflect.DeepEqual.
type object = map[string]any

const (
	managedByLabel   = "app.kubernetes.io/managed-by"
	localConfig      = "config.kubernetes.io/local-config"
	peerAnnotation   = "meshfed.dev/peer"
	controlPlaneNS   = "istio-system"
	resourceListKind = "ResourceList"
)

// orchestratorAnnotations are the bookkeeping annotations kpt and kustomize
// add to a function's items and remove before they write or print the
// result, so they never reach a cluster.
var orchestratorAnnotations = []string{
	"config.kubernetes.io/index",
	"config.kubernetes.io/path",
	"config.kubernetes.io/id",
	"config.k8s.io/id",
	"kustomize.config.k8s.io/id",
}

// decodeStream decodes a multi-document YAML stream; a ResourceList
// contributes its items (and its functionConfig is returned apart).
func decodeStream(data []byte) (items []object, functionConfig object, err error) {
	for i, doc := range splitDocuments(data) {
		var o object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			return nil, nil, fmt.Errorf("document %d: %v", i+1, err)
		}
		if len(o) == 0 {
			continue
		}
		if o["kind"] == resourceListKind {
			list, _ := o["items"].([]any)
			for _, it := range list {
				if m, ok := it.(object); ok {
					items = append(items, m)
				}
			}
			functionConfig, _ = o["functionConfig"].(object)
			continue
		}
		items = append(items, o)
	}
	return items, functionConfig, nil
}

// splitDocuments splits a YAML stream at its `---` separator lines.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.TrimRight(line, " \r\n") == "---" || strings.HasPrefix(line, "--- ") {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(docs, cur.Bytes())
}

func metadata(o object) object {
	m, _ := o["metadata"].(object)
	return m
}

func stringMap(o object, field string) map[string]any {
	m, _ := metadata(o)[field].(map[string]any)
	return m
}

func annotation(o object, key string) string {
	s, _ := stringMap(o, "annotations")[key].(string)
	return s
}

// generatedGroups are the API groups of the kinds meshfed generates.
var generatedGroups = []string{"networking.istio.io/", "security.istio.io/", "gateway.networking.k8s.io/"}

// isGenerated reports whether meshfed generated an object: labelled
// managed-by: meshfed and of a kind meshfed generates (a user's own
// object may carry the label, as in the bad-copied-generated-by golden).
func isGenerated(o object) bool {
	if stringMap(o, "labels")[managedByLabel] != "meshfed" {
		return false
	}
	api, _ := o["apiVersion"].(string)
	for _, g := range generatedGroups {
		if strings.HasPrefix(api, g) {
			return true
		}
	}
	return false
}

// forCluster returns the objects a user's tool sends to the cluster: kpt
// and kustomize drop local-config items (meshfed's configs, the peer's
// reference items) and strip their bookkeeping annotations. Objects are
// copied; the input is not changed.
func forCluster(items []object) []object {
	var out []object
	for _, it := range items {
		if annotation(it, localConfig) == "true" {
			continue
		}
		c := deepCopy(it)
		if !isGenerated(c) {
			stripLiveFields(c)
		}
		if ann := stringMap(c, "annotations"); ann != nil {
			for _, k := range orchestratorAnnotations {
				delete(ann, k)
			}
			for k := range ann {
				if strings.HasPrefix(k, "internal.config.kubernetes.io/") {
					delete(ann, k)
				}
			}
			if len(ann) == 0 {
				delete(metadata(c), "annotations")
			}
		}
		out = append(out, c)
	}
	return out
}

// stripLiveFields removes from one of the mesh's own items (and from the
// items of a v1 List) the fields a cluster owns: its items may be live
// objects saved from a cluster (meshfed compares their status), and what a
// user applies of them is their desired state (an apply carrying another
// cluster's uid is refused). Generated objects are not stripped: they must
// carry none of these.
func stripLiveFields(o object) {
	delete(o, "status")
	for _, k := range serverOwnedMetadata {
		delete(metadata(o), k)
	}
	if o["kind"] == "List" {
		list, _ := o["items"].([]any)
		for _, it := range list {
			if m, ok := it.(object); ok {
				stripLiveFields(m)
			}
		}
	}
}

// clusterNamespaces returns the namespaces the scenario's cluster has,
// following DESIGN.md r2 section 3 ("a namespace this mesh's items show to
// exist: a Namespace object, a Service of that name, or any other item in
// it"): the control plane's namespace (istio-system; the migration guide
// creates it on both clusters before anything else), every Namespace the
// mesh's own items declare and every namespace one of them lives in, and
// the namespaces a meshfed config names for its objects (MeshImport
// spec.namespace, MeshExport spec.gateway.namespace: a user names one they
// have). The mesh's own items are those meshfed did not generate and that
// are not a peer's reference data. Generated objects never add a
// namespace: an output that needs one the cluster lacks must fail.
func clusterNamespaces(items []object, functionConfig object) []string {
	set := map[string]bool{controlPlaneNS: true}
	configs := append([]object{}, items...)
	if functionConfig != nil {
		configs = append(configs, functionConfig)
	}
	for _, it := range configs {
		api, _ := it["apiVersion"].(string)
		if !strings.HasPrefix(api, "meshfed.dev/") {
			continue
		}
		spec, _ := it["spec"].(object)
		switch it["kind"] {
		case "MeshImport":
			if ns, _ := spec["namespace"].(string); ns != "" {
				set[ns] = true
			}
		case "MeshExport":
			gw, _ := spec["gateway"].(object)
			if ns, _ := gw["namespace"].(string); ns != "" {
				set[ns] = true
			}
		}
	}
	for _, it := range items {
		if isGenerated(it) || annotation(it, peerAnnotation) != "" {
			continue
		}
		if api, _ := it["apiVersion"].(string); strings.HasPrefix(api, "meshfed.dev/") {
			continue
		}
		if it["kind"] == "Namespace" && it["apiVersion"] == "v1" {
			if name, _ := metadata(it)["name"].(string); name != "" {
				set[name] = true
			}
		}
		if ns, _ := metadata(it)["namespace"].(string); ns != "" {
			set[ns] = true
		}
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// objectKey names an object the way kubectl does in its messages.
func objectKey(o object) string {
	api, _ := o["apiVersion"].(string)
	kind, _ := o["kind"].(string)
	name, _ := metadata(o)["name"].(string)
	ns, _ := metadata(o)["namespace"].(string)
	group := api
	if i := strings.Index(api, "/"); i >= 0 {
		group = api[:i]
	} else {
		group = ""
	}
	if ns == "" {
		return fmt.Sprintf("%s.%s %s", kind, group, name)
	}
	return fmt.Sprintf("%s.%s %s/%s", kind, group, ns, name)
}

// serverOwned are the fields the API server keeps about every object;
// they are not part of what a user or meshfed writes, and Argo CD ignores
// them when it compares.
var serverOwnedMetadata = []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"}

// asStored returns what the server stored for an object minus the fields
// the server owns (status, uid, resourceVersion, ...), for comparison with
// what meshfed wrote.
func asStored(readBack object) object {
	c := deepCopy(readBack)
	delete(c, "status")
	for _, k := range serverOwnedMetadata {
		delete(metadata(c), k)
	}
	return c
}

// diffPaths lists where got differs from want: fields the server added,
// removed or changed, by path.
func diffPaths(want, got any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: written %s, stored %s", pathOr(path), compact(want), compact(got))}
		}
		var out []string
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			p := path + "." + k
			switch {
			case !inW:
				out = append(out, fmt.Sprintf("%s: added by the server: %s", p, compact(gv)))
			case !inG:
				out = append(out, fmt.Sprintf("%s: dropped by the server (written %s)", p, compact(wv)))
			default:
				out = append(out, diffPaths(wv, gv, p)...)
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: written %s, stored %s", pathOr(path), compact(want), compact(got))}
		}
		var out []string
		for i := range w {
			out = append(out, diffPaths(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: written %s, stored %s", pathOr(path), compact(want), compact(got))}
		}
		return nil
	}
}

func pathOr(p string) string {
	if p == "" {
		return "(object)"
	}
	return p
}

func compact(v any) string {
	if v == nil {
		return "(none)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// deepCopy copies a decoded object through JSON, which also turns every
// number into a float64 like the server's JSON does.
func deepCopy(o object) object {
	b, err := json.Marshal(o)
	if err != nil {
		panic(err)
	}
	var c object
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return c
}

// encodeStream writes objects as a YAML stream for kubectl.
func encodeStream(objs []object) []byte {
	var b bytes.Buffer
	for _, o := range objs {
		out, err := yaml.Marshal(o)
		if err != nil {
			panic(err)
		}
		b.WriteString("---\n")
		b.Write(out)
	}
	return b.Bytes()
}
