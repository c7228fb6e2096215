package inventory

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/spiffe"
	"github.com/meshfed/meshfed/krm"
)

// The manifests below are what meshfed reads of a Service and of a
// workload besides their metadata (krm.Meta): krm.DecodeNode decodes an
// item into them by their yaml tags and skips every other field. Scalars
// whose YAML type matters are krm.String, krm.Int32 and krm.IntOrString,
// read as the API server reads them; label maps take any scalar as text,
// as meshfed always has.

// ServiceManifest is a Kubernetes Service.
type ServiceManifest struct {
	Spec struct {
		Type     krm.String            `yaml:"type"`
		Selector map[string]string     `yaml:"selector"`
		Ports    []ServicePortManifest `yaml:"ports"`
	} `yaml:"spec"`
}

// ServicePortManifest is one of spec.ports.
type ServicePortManifest struct {
	Name        krm.String      `yaml:"name"`
	Port        krm.Int32       `yaml:"port"`
	Protocol    krm.String      `yaml:"protocol"`
	AppProtocol krm.String      `yaml:"appProtocol"`
	TargetPort  krm.IntOrString `yaml:"targetPort"`
}

// PodTemplate is a pod, or a controller's pod template.
type PodTemplate struct {
	Metadata struct {
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		ServiceAccountName krm.String `yaml:"serviceAccountName"`
		// ServiceAccount is the deprecated field, which still sets the
		// account when serviceAccountName is unset.
		ServiceAccount krm.String `yaml:"serviceAccount"`
		Containers     []struct {
			Ports []struct {
				Name          krm.String `yaml:"name"`
				ContainerPort krm.Int32  `yaml:"containerPort"`
			} `yaml:"ports"`
		} `yaml:"containers"`
	} `yaml:"spec"`
}

// WorkloadManifest is a workload of one of the kinds that run pods.
type WorkloadManifest interface {
	// Template is its pod template, nil when it has none.
	Template() *PodTemplate
}

// Template is the pod itself.
func (p *PodTemplate) Template() *PodTemplate { return p }

// controllerManifest keeps its pod template in spec.template.
type controllerManifest struct {
	Spec struct {
		Template *PodTemplate `yaml:"template"`
	} `yaml:"spec"`
}

func (c *controllerManifest) Template() *PodTemplate { return c.Spec.Template }

// cronJobManifest keeps a Job's manifest in spec.jobTemplate.
type cronJobManifest struct {
	Spec struct {
		JobTemplate controllerManifest `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

func (c *cronJobManifest) Template() *PodTemplate { return c.Spec.JobTemplate.Spec.Template }

// workloadKind is a kind that runs pods: where it keeps its pod template
// (the field path, "" for a Pod), and a manifest to decode it into.
type workloadKind struct {
	templatePath string
	manifest     func() WorkloadManifest
}

var workloadKinds = map[string]workloadKind{
	"Pod":                                {"", func() WorkloadManifest { return new(PodTemplate) }},
	"apps/Deployment":                    controllerKind,
	"apps/StatefulSet":                   controllerKind,
	"apps/DaemonSet":                     controllerKind,
	"apps/ReplicaSet":                    controllerKind,
	"ReplicationController":              controllerKind,
	"apps.openshift.io/DeploymentConfig": controllerKind,
	"batch/Job":                          controllerKind,
	"batch/CronJob":                      {"spec.jobTemplate.spec.template", func() WorkloadManifest { return new(cronJobManifest) }},
}

var controllerKind = workloadKind{"spec.template", func() WorkloadManifest { return new(controllerManifest) }}

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
	_, ok := workloadKinds[groupKind(m)]
	return ok
}

// NewWorkloadManifest returns the manifest to decode a workload item into
// (IsWorkload).
func NewWorkloadManifest(m krm.Meta) WorkloadManifest {
	return workloadKinds[groupKind(m)].manifest()
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

// labelsFrom returns decoded labels in key order.
func labelsFrom(m map[string]string) Labels {
	if len(m) == 0 {
		return nil
	}
	l := make(Labels, 0, len(m))
	for k, v := range m {
		l = append(l, Label{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Key < l[j].Key })
	return l
}

// NewService is the Service of an item with metadata meta, decoded into
// m, with every problem the API server would reject it for; name is its
// name in its own mesh (which differs from metadata.name when kustomize
// added a prefix).
func NewService(meta krm.Meta, name string, m *ServiceManifest) (*Service, []krm.FieldError) {
	var errs []krm.FieldError
	s := &Service{
		ServiceName: federation.ServiceName{Name: name, Namespace: meta.Namespace},
		Labels:      labelsOf(meta),
		ExportTo:    meta.Annotation(ExportToAnnotation),
		Ref:         diag.RefOfMeta(meta),
		Type:        string(m.Spec.Type),
		Selector:    m.Spec.Selector,
		Ports:       make([]Port, 0, len(m.Spec.Ports)),
	}
	if name == "" {
		errs = append(errs, krm.FieldError{Path: "metadata.name", Message: "is required: a Service's name is part of every hostname meshfed derives from it; set it"})
	}
	if s.Namespace == "" {
		errs = append(errs, krm.FieldError{Path: "metadata.namespace", Message: "is required: meshfed matches Services by namespace; set the namespace the Service is deployed to"})
	} else if err := spiffe.CheckNamespace(s.Namespace); err != nil {
		// It becomes part of hostnames and SPIFFE identities.
		errs = append(errs, krm.FieldError{Path: "metadata.namespace", Message: err.Error()})
	}
	for _, p := range m.Spec.Ports {
		port := Port{
			Name:        string(p.Name),
			Number:      int32(p.Port),
			Transport:   string(p.Protocol),
			AppProtocol: string(p.AppProtocol),
		}
		if p.TargetPort.IsText {
			port.TargetName = p.TargetPort.Text
		} else {
			port.TargetNumber = p.TargetPort.Number
		}
		s.Ports = append(s.Ports, port)
	}
	return s, append(errs, s.validatePorts()...)
}

// NewWorkload is the workload of an item with metadata meta, decoded into
// m (NewWorkloadManifest), with every problem the API server would reject
// it for.
func NewWorkload(meta krm.Meta, m WorkloadManifest) (*Workload, []krm.FieldError) {
	w := &Workload{Namespace: meta.Namespace, Ref: diag.RefOfMeta(meta), ServiceAccount: "default"}
	pod := m.Template()
	if pod == nil {
		return w, nil
	}
	var errs []krm.FieldError
	path := workloadKinds[groupKind(meta)].templatePath
	field := func(f string, args ...any) string {
		return strings.TrimPrefix(path+"."+fmt.Sprintf(f, args...), ".")
	}
	checkAccount := func(field, sa string) {
		// It becomes part of a SPIFFE identity in subjectAltNames.
		if err := spiffe.CheckServiceAccount(sa); err != nil {
			errs = append(errs, krm.FieldError{Path: field, Message: err.Error()})
		}
	}
	w.PodLabels = labelsFrom(pod.Metadata.Labels)
	if sa := string(pod.Spec.ServiceAccountName); sa != "" {
		w.ServiceAccount = sa
		checkAccount(field("spec.serviceAccountName"), sa)
	} else if sa := string(pod.Spec.ServiceAccount); sa != "" {
		w.ServiceAccount = sa
		checkAccount(field("spec.serviceAccount"), sa)
	}
	for i, c := range pod.Spec.Containers {
		for j, p := range c.Ports {
			if p.Name == "" {
				continue
			}
			cp := ContainerPort{string(p.Name), int32(p.ContainerPort)}
			errs = append(errs, validateContainerPort(func() string { return field("spec.containers[%d].ports[%d]", i, j) }, cp)...)
			w.ContainerPorts = append(w.ContainerPorts, cp)
		}
	}
	return w, errs
}
