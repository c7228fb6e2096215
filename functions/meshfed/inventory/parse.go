package inventory

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/spiffe"
	"github.com/meshfed/meshfed/krm"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// podTemplatePaths says where each workload kind keeps its pod template;
// an empty path means the object is the pod itself.
var podTemplatePaths = map[string][]string{
	"Pod":                                nil,
	"apps/Deployment":                    {"spec", "template"},
	"apps/StatefulSet":                   {"spec", "template"},
	"apps/DaemonSet":                     {"spec", "template"},
	"apps/ReplicaSet":                    {"spec", "template"},
	"ReplicationController":              {"spec", "template"},
	"apps.openshift.io/DeploymentConfig": {"spec", "template"},
	"batch/Job":                          {"spec", "template"},
	"batch/CronJob":                      {"spec", "jobTemplate", "spec", "template"},
}

func groupKind(m krm.Meta) string {
	if g := m.Group(); g != "" {
		return g + "/" + m.Kind
	}
	return m.Kind
}

// IsService reports whether an item is a core v1 Service.
func IsService(m krm.Meta) bool { return groupKind(m) == "Service" }

// IsWorkload reports whether an item runs pods meshfed can read.
func IsWorkload(m krm.Meta) bool {
	_, ok := podTemplatePaths[groupKind(m)]
	return ok
}

// fieldReader reads typed fields straight from an item's YAML nodes and
// records, instead of failing on, each type mismatch with the field's path.
// It reads the nodes rather than going through the SDK's accessors, which
// allocate a wrapper per level, decode every integer with a YAML decoder and
// build an error value for each miss: that was most of the cost of reading
// a large fleet's Services and workloads.
type fieldReader struct{ errs []krm.FieldError }

func (r *fieldReader) fail(path, want string) {
	r.errs = append(r.errs, krm.FieldError{Path: path, Message: "must be " + want})
}

// serviceAccount records a service account name the API server would
// reject: it would become part of a SPIFFE identity in subjectAltNames.
func (r *fieldReader) serviceAccount(path, sa string) {
	if err := spiffe.CheckServiceAccount(sa); err != nil {
		r.errs = append(r.errs, krm.FieldError{Path: path, Message: err.Error()})
	}
}

// lookup walks fields through mappings. wrongType is set when a node on
// the way is not a mapping.
func lookup(n *yaml.Node, fields ...string) (v *yaml.Node, wrongType bool) {
	for _, f := range fields {
		if n.Kind != yaml.MappingNode {
			return nil, true
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == f {
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return nil, false
		}
		n = next
	}
	return n, false
}

func isStringScalar(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!str" || n.Tag == "")
}

func (r *fieldReader) str(n *yaml.Node, path string, fields ...string) string {
	v, wrong := lookup(n, fields...)
	if v == nil && !wrong {
		return ""
	}
	if wrong || !isStringScalar(v) {
		r.fail(joinFields(path, fields), "a string")
		return ""
	}
	return v.Value
}

// value returns a field that may be absent, and whether it is there.
func (r *fieldReader) value(n *yaml.Node, fields ...string) (*yaml.Node, bool) {
	v, wrong := lookup(n, fields...)
	return v, v != nil || wrong
}

func (r *fieldReader) integer(n *yaml.Node, path string, fields ...string) int32 {
	v, wrong := lookup(n, fields...)
	if v == nil && !wrong {
		return 0
	}
	if !wrong && v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
		if i, err := strconv.ParseInt(strings.ReplaceAll(v.Value, "_", ""), 0, 32); err == nil {
			return int32(i)
		}
	}
	r.fail(joinFields(path, fields), "an integer")
	return 0
}

// stringPairs returns a field that must be a map of strings, nil when it
// is absent or (recorded) of another type.
func (r *fieldReader) stringPairs(n *yaml.Node, path string, fields ...string) *yaml.Node {
	v, wrong := lookup(n, fields...)
	if v == nil && !wrong {
		return nil
	}
	ok := !wrong && v.Kind == yaml.MappingNode
	for i := 0; ok && i+1 < len(v.Content); i += 2 {
		ok = v.Content[i].Kind == yaml.ScalarNode && v.Content[i+1].Kind == yaml.ScalarNode
	}
	if !ok {
		r.fail(joinFields(path, fields), "a map of strings")
		return nil
	}
	return v
}

func (r *fieldReader) stringMap(n *yaml.Node, path string, fields ...string) map[string]string {
	v := r.stringPairs(n, path, fields...)
	if v == nil {
		return nil
	}
	m := make(map[string]string, len(v.Content)/2)
	for i := 0; i+1 < len(v.Content); i += 2 {
		m[v.Content[i].Value] = v.Content[i+1].Value
	}
	return m
}

// labels is stringMap for labels.
func (r *fieldReader) labels(n *yaml.Node, path string, fields ...string) Labels {
	v := r.stringPairs(n, path, fields...)
	if v == nil {
		return nil
	}
	l := make(Labels, 0, len(v.Content)/2)
	for i := 0; i+1 < len(v.Content); i += 2 {
		l = append(l, Label{v.Content[i].Value, v.Content[i+1].Value})
	}
	return l
}

// labelsOf returns an object's metadata.labels as krm.Meta reads them.
func labelsOf(meta krm.Meta) Labels {
	if meta.NumLabels() == 0 {
		return nil
	}
	l := make(Labels, 0, meta.NumLabels())
	for k, v := range meta.AllLabels() {
		l = append(l, Label{k, v})
	}
	return l
}

func (r *fieldReader) slice(n *yaml.Node, path string, fields ...string) []*yaml.Node {
	v, wrong := lookup(n, fields...)
	if v == nil && !wrong {
		return nil
	}
	if !wrong && v.Kind == yaml.SequenceNode {
		ok := true
		for _, e := range v.Content {
			ok = ok && e.Kind == yaml.MappingNode
		}
		if ok {
			return v.Content
		}
	}
	r.fail(joinFields(path, fields), "a list of objects")
	return nil
}

// lazyPath is a field's path, written only when a problem is recorded:
// a fleet's Services and workloads have thousands of ports, and building
// "spec.ports[3]" for each cost more than reading the port.
type lazyPath func() string

// strAt, intAt and objectsAt read one field of n as str, integer and slice
// do, taking the path only to record a problem.
func (r *fieldReader) strAt(n *yaml.Node, path lazyPath, field string) string {
	v, wrong := lookup(n, field)
	if !wrong && (v == nil || isStringScalar(v)) {
		if v == nil {
			return ""
		}
		return v.Value
	}
	return r.str(n, path(), field)
}

func (r *fieldReader) intAt(n *yaml.Node, path lazyPath, field string) int32 {
	var quiet fieldReader
	if i := quiet.integer(n, "", field); len(quiet.errs) == 0 {
		return i
	}
	return r.integer(n, path(), field)
}

func (r *fieldReader) objectsAt(n *yaml.Node, path lazyPath, field string) []*yaml.Node {
	var quiet fieldReader
	if l := quiet.slice(n, "", field); len(quiet.errs) == 0 {
		return l
	}
	return r.slice(n, path(), field)
}

func joinFields(path string, fields []string) string {
	f := strings.Join(fields, ".")
	if path == "" {
		return f
	}
	return path + "." + f
}

// ParseService reads a Service, given its metadata (krm.MetaOf); name is its
// name in its own mesh (which differs from metadata.name when kustomize
// added a prefix).
func ParseService(meta krm.Meta, name string) (*Service, []krm.FieldError) {
	var r fieldReader
	s := &Service{
		ServiceName: federation.ServiceName{Name: name, Namespace: meta.Namespace},
		Labels:      labelsOf(meta),
		ExportTo:    meta.Annotation(ExportToAnnotation),
		Ref:         diag.RefOfMeta(meta),
	}
	if name == "" {
		r.errs = append(r.errs, krm.FieldError{Path: "metadata.name", Message: "is required: a Service's name is part of every hostname meshfed derives from it; set it"})
	}
	if s.Namespace == "" {
		r.errs = append(r.errs, krm.FieldError{Path: "metadata.namespace", Message: "is required: meshfed matches Services by namespace; set the namespace the Service is deployed to"})
	} else if err := spiffe.CheckNamespace(s.Namespace); err != nil {
		// It becomes part of hostnames and SPIFFE identities.
		r.errs = append(r.errs, krm.FieldError{Path: "metadata.namespace", Message: err.Error()})
	}
	n := meta.Node()
	s.Type = r.str(n, "", "spec", "type")
	s.Selector = r.stringMap(n, "", "spec", "selector")
	ports := r.slice(n, "", "spec", "ports")
	s.Ports = make([]Port, 0, len(ports))
	for i, p := range ports {
		path := func() string { return "spec.ports[" + strconv.Itoa(i) + "]" }
		port := Port{
			Name:        r.strAt(p, path, "name"),
			Number:      r.intAt(p, path, "port"),
			Transport:   r.strAt(p, path, "protocol"),
			AppProtocol: r.strAt(p, path, "appProtocol"),
		}
		// targetPort is an int-or-string.
		if t, found := r.value(p, "targetPort"); found {
			if t != nil && t.Kind == yaml.ScalarNode && t.Tag == "!!int" {
				port.TargetNumber = r.intAt(p, path, "targetPort")
			} else {
				port.TargetName = r.strAt(p, path, "targetPort")
			}
		}
		s.Ports = append(s.Ports, port)
	}
	return s, append(r.errs, s.validatePorts(r.errs)...)
}

// ParseWorkload reads the pod template of a workload, given its metadata
// (krm.MetaOf).
func ParseWorkload(meta krm.Meta) (*Workload, []krm.FieldError) {
	var r fieldReader
	w := &Workload{Namespace: meta.Namespace, Ref: diag.RefOfMeta(meta), ServiceAccount: "default"}
	tmplPath := podTemplatePaths[groupKind(meta)]
	path := strings.Join(tmplPath, ".")
	pod := meta.Node()
	if len(tmplPath) > 0 {
		t, wrong := lookup(pod, tmplPath...)
		switch {
		case wrong || t != nil && t.Kind != yaml.MappingNode:
			r.fail(path, "an object")
			return w, r.errs
		case t == nil:
			return w, r.errs
		}
		pod = t
	}
	w.PodLabels = r.labels(pod, path, "metadata", "labels")
	if sa := r.str(pod, path, "spec", "serviceAccountName"); sa != "" {
		w.ServiceAccount = sa
		r.serviceAccount(joinFields(path, []string{"spec", "serviceAccountName"}), sa)
	} else if sa := r.str(pod, path, "spec", "serviceAccount"); sa != "" {
		// The deprecated field still sets the account when the new one is unset.
		w.ServiceAccount = sa
		r.serviceAccount(joinFields(path, []string{"spec", "serviceAccount"}), sa)
	}
	for i, c := range r.slice(pod, path, "spec", "containers") {
		cp := func() string { return strings.TrimPrefix(fmt.Sprintf("%s.spec.containers[%d]", path, i), ".") }
		for j, p := range r.objectsAt(c, cp, "ports") {
			pp := func() string { return fmt.Sprintf("%s.ports[%d]", cp(), j) }
			if name := r.strAt(p, pp, "name"); name != "" {
				cp := ContainerPort{name, r.intAt(p, pp, "containerPort")}
				r.errs = append(r.errs, validateContainerPort(pp(), cp, r.errs)...)
				w.ContainerPorts = append(w.ContainerPorts, cp)
			}
		}
	}
	return w, r.errs
}
