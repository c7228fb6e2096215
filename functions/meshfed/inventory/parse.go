package inventory

import (
	"fmt"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
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

func groupKind(o *kfn.KubeObject) string {
	gk := o.GroupKind()
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Group + "/" + gk.Kind
}

// IsService reports whether o is a core v1 Service.
func IsService(o *kfn.KubeObject) bool { return groupKind(o) == "Service" }

// IsWorkload reports whether o runs pods meshfed can read.
func IsWorkload(o *kfn.KubeObject) bool {
	_, ok := podTemplatePaths[groupKind(o)]
	return ok
}

// fieldReader reads typed fields and records, instead of failing on, the
// first type mismatch of each field.
type fieldReader struct{ errs []fn.FieldError }

func (r *fieldReader) fail(path, want string) {
	r.errs = append(r.errs, fn.FieldError{Path: path, Message: "must be " + want})
}

func (r *fieldReader) str(o *kfn.SubObject, path string, fields ...string) string {
	s, _, err := o.NestedString(fields...)
	if err != nil {
		r.fail(joinFields(path, fields), "a string")
	}
	return s
}

func (r *fieldReader) integer(o *kfn.SubObject, path string, fields ...string) int32 {
	i, _, err := o.NestedInt(fields...)
	if err != nil {
		r.fail(joinFields(path, fields), "an integer")
	}
	return int32(i)
}

func (r *fieldReader) stringMap(o *kfn.SubObject, path string, fields ...string) map[string]string {
	m, _, err := o.NestedStringMap(fields...)
	if err != nil {
		r.fail(joinFields(path, fields), "a map of strings")
	}
	return m
}

func (r *fieldReader) slice(o *kfn.SubObject, path string, fields ...string) kfn.SliceSubObjects {
	s, _, err := o.NestedSlice(fields...)
	if err != nil {
		r.fail(joinFields(path, fields), "a list of objects")
	}
	return s
}

func joinFields(path string, fields []string) string {
	f := strings.Join(fields, ".")
	if path == "" {
		return f
	}
	return path + "." + f
}

// ParseService reads a Service; name is its name in its own mesh (which
// differs from metadata.name when kustomize added a prefix).
func ParseService(o *kfn.KubeObject, name string) (*Service, []fn.FieldError) {
	var r fieldReader
	s := &Service{
		ServiceName: federation.ServiceName{Name: name, Namespace: o.GetNamespace()},
		Labels:      o.GetLabels(),
		ExportTo:    o.GetAnnotation(ExportToAnnotation),
		Type:        r.str(&o.SubObject, "", "spec", "type"),
		Selector:    r.stringMap(&o.SubObject, "", "spec", "selector"),
		Ref:         diag.RefOf(o),
	}
	if s.Namespace == "" {
		r.errs = append(r.errs, fn.FieldError{Path: "metadata.namespace", Message: "is required: meshfed matches Services by namespace; set the namespace the Service is deployed to"})
	}
	for i, p := range r.slice(&o.SubObject, "", "spec", "ports") {
		path := fmt.Sprintf("spec.ports[%d]", i)
		port := Port{
			Name:        r.str(p, path, "name"),
			Number:      r.integer(p, path, "port"),
			Transport:   r.str(p, path, "protocol"),
			AppProtocol: r.str(p, path, "appProtocol"),
		}
		// targetPort is an int-or-string.
		if n, found, err := p.NestedInt("targetPort"); err == nil && found {
			port.TargetNumber = int32(n)
		} else if found {
			port.TargetName = r.str(p, path, "targetPort")
		}
		s.Ports = append(s.Ports, port)
	}
	return s, r.errs
}

// ParseWorkload reads the pod template of a workload.
func ParseWorkload(o *kfn.KubeObject) (*Workload, []fn.FieldError) {
	var r fieldReader
	w := &Workload{Namespace: o.GetNamespace(), Ref: diag.RefOf(o), ContainerPorts: map[string]int32{}}
	tmplPath := podTemplatePaths[groupKind(o)]
	pod := &o.SubObject
	path := strings.Join(tmplPath, ".")
	if len(tmplPath) > 0 {
		t, found, err := o.NestedSubObject(tmplPath...)
		if err != nil {
			r.fail(path, "an object")
			return w, r.errs
		}
		if !found {
			return w, r.errs
		}
		pod = &t
	}
	w.PodLabels = r.stringMap(pod, path, "metadata", "labels")
	w.ServiceAccount = r.str(pod, path, "spec", "serviceAccountName")
	if w.ServiceAccount == "" {
		// The deprecated field still sets the account when the new one is unset.
		w.ServiceAccount = r.str(pod, path, "spec", "serviceAccount")
	}
	if w.ServiceAccount == "" {
		w.ServiceAccount = "default"
	}
	for i, c := range r.slice(pod, path, "spec", "containers") {
		cp := fmt.Sprintf("%s.spec.containers[%d]", strings.TrimPrefix(path+".", "."), i)
		cp = strings.TrimPrefix(cp, ".")
		for j, p := range r.slice(c, cp, "ports") {
			pp := fmt.Sprintf("%s.ports[%d]", cp, j)
			if name := r.str(p, pp, "name"); name != "" {
				w.ContainerPorts[name] = r.integer(p, pp, "containerPort")
			}
		}
	}
	return w, r.errs
}
