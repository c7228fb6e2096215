// Package inventory indexes the Services and workloads of one mesh, as the
// manifests in git describe them, and answers what federation never sent:
// ports with target ports, pod selectors and the service accounts behind a
// Service.
package inventory

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/protocol"
	networking "istio.io/api/networking/v1alpha3"
)

// ExportToAnnotation is Istio's per-Service visibility annotation, which
// OSSM 2 federation also honoured when choosing export candidates.
const ExportToAnnotation = "networking.istio.io/exportTo"

// Port is a Service port.
type Port struct {
	Name        string
	Number      int32
	Transport   string // TCP, UDP or SCTP
	AppProtocol string
	// TargetNumber or TargetName: the Service's targetPort.
	TargetNumber int32
	TargetName   string
}

// Protocol returns the Istio protocol istiod derives for this port.
func (p Port) Protocol() string {
	return protocol.FromServicePort(p.Number, p.Name, p.Transport, p.AppProtocol)
}

// Labels are an object's labels in the order they are written. A fleet
// has a set per Service and per workload, mostly of one or two labels: as a
// slice of pairs they take a fraction of the memory of a map. A key written
// twice counts with its last value, as in a map. Labels implement
// apimachinery's labels.Labels, for label selectors.
type Labels []Label

// Label is one label.
type Label struct{ Key, Value string }

// Lookup returns the value of key and whether it is there.
func (l Labels) Lookup(key string) (string, bool) {
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].Key == key {
			return l[i].Value, true
		}
	}
	return "", false
}

// Has reports whether key is there.
func (l Labels) Has(key string) bool {
	_, ok := l.Lookup(key)
	return ok
}

// Get returns the value of key, "" when it is not there.
func (l Labels) Get(key string) string {
	v, _ := l.Lookup(key)
	return v
}

// Service is a Kubernetes Service.
type Service struct {
	federation.ServiceName
	Labels   Labels
	ExportTo string
	Type     string // spec.type (ExternalName, ...); "" for a ServiceEntry host
	Ports    []Port
	Selector map[string]string
	Ref      diag.Ref
	// Entry is set when this is a ServiceEntry host rather than a
	// Kubernetes Service: its own name is the host, and without a selector
	// its backends are the ServiceEntry's endpoints.
	Entry *ServiceEntryRoute

	// backends caches Backends; backendsAt is one more than the number of
	// workloads the inventory had when it was computed (0: never; a
	// workload added later makes it stale). Each named target port of an
	// exported Service and each import asks for them.
	backends   []*Workload
	backendsAt int
}

// ServiceEntryRoute is what a ServiceEntry host routes to besides the
// workloads its workloadSelector picks.
type ServiceEntryRoute struct {
	Resolution networking.ServiceEntry_Resolution
	Endpoints  []*networking.WorkloadEntry
	// Wildcard is set for a host such as *.example.com, which names no
	// single service.
	Wildcard bool
}

// IsOwnHost reports whether host is the service's own name: a Service's
// <name>.<namespace>.svc.<clusterDomain>, a ServiceEntry's host.
func (s *Service) IsOwnHost(host, clusterDomain string) bool {
	if s.Entry != nil {
		return host == s.Name
	}
	return s.IsHost(host, clusterDomain)
}

// Workload is anything that runs pods: a Pod, or a controller's pod template.
type Workload struct {
	Namespace      string
	PodLabels      Labels
	ServiceAccount string
	// ContainerPorts are the named container ports, in the order written
	// (a slice: most workloads name one or two).
	ContainerPorts []ContainerPort
	Ref            diag.Ref
}

// ContainerPort is a named container port.
type ContainerPort struct {
	Name   string
	Number int32
}

// ContainerPort returns the number of the container port of that name; a
// name written twice counts with its last number.
func (w *Workload) ContainerPort(name string) (int32, bool) {
	for i := len(w.ContainerPorts) - 1; i >= 0; i-- {
		if w.ContainerPorts[i].Name == name {
			return w.ContainerPorts[i].Number, true
		}
	}
	return 0, false
}

// Inventory indexes one mesh's Services and workloads.
type Inventory struct {
	services map[federation.ServiceName]*Service
	// added are the Services in the order they were added: input usually
	// comes in some order already, and sorting a copy of it is then close
	// to linear where sorting the map's random order is not.
	added  []*Service
	sorted []*Service
	dirty  bool
	// byLabel indexes workloads by namespace and one pod label, so that
	// finding the pods behind a Service does not scan every workload.
	byLabel map[nsLabel]postings
	// workloads counts the workloads added.
	workloads int
	// identities are the namespace/service-account pairs workloads run as.
	identities map[identity]bool
	sizeHint   int
}

type nsLabel struct{ namespace, key, value string }

// postings are the workloads with one pod label. Most labels (app: <name>)
// belong to one workload: it is kept in the map's value itself, without a
// slice of its own.
type postings struct {
	first *Workload
	more  []*Workload
}

func (p postings) len() int {
	if p.first == nil {
		return 0
	}
	return 1 + len(p.more)
}

func (p postings) at(i int) *Workload {
	if i == 0 {
		return p.first
	}
	return p.more[i-1]
}

type identity struct{ namespace, serviceAccount string }

// New returns an empty inventory.
func New() *Inventory { return NewSized(0) }

// NewSized returns an empty inventory that makes room for about n Services
// and n workloads when the first is added: a large fleet's tables are then
// not rebuilt as they grow (rebuilding a table costs more, per entry, the
// larger it is), and an inventory that stays empty allocates nothing.
func NewSized(n int) *Inventory {
	return &Inventory{sizeHint: max(n, 0)}
}

// AddService adds a Service. A second Service of the same name replaces
// nothing and reports false.
func (inv *Inventory) AddService(s *Service) bool {
	if inv.services == nil {
		inv.services = make(map[federation.ServiceName]*Service, inv.sizeHint)
		inv.added = make([]*Service, 0, inv.sizeHint)
	}
	if _, dup := inv.services[s.ServiceName]; dup {
		return false
	}
	inv.services[s.ServiceName] = s
	inv.added = append(inv.added, s)
	inv.dirty = true
	return true
}

// AddWorkload adds a workload.
func (inv *Inventory) AddWorkload(w *Workload) {
	if inv.byLabel == nil {
		// Workloads usually have one label of their own (app) and a few
		// shared by many.
		inv.byLabel = make(map[nsLabel]postings, inv.sizeHint)
		inv.identities = make(map[identity]bool, inv.sizeHint)
	}
	inv.workloads++
	inv.identities[identity{w.Namespace, w.ServiceAccount}] = true
	for _, l := range w.PodLabels {
		key := nsLabel{w.Namespace, l.Key, l.Value}
		p := inv.byLabel[key]
		if p.first == nil {
			p.first = w
		} else {
			p.more = append(p.more, w)
		}
		inv.byLabel[key] = p
	}
}

// Service returns the Service of that name.
func (inv *Inventory) Service(n federation.ServiceName) (*Service, bool) {
	s, ok := inv.services[n]
	return s, ok
}

// Services returns every Service, sorted by namespace and name so that
// results never depend on the order of the input items.
func (inv *Inventory) Services() []*Service {
	if inv.dirty {
		inv.sorted = append(inv.sorted[:0], inv.added...)
		slices.SortFunc(inv.sorted, func(a, b *Service) int {
			if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
		inv.dirty = false
	}
	return inv.sorted
}

// Backends returns the workloads in the Service's namespace whose pod
// labels match its selector, in a stable order. A Service without a
// selector has none (its endpoints are managed by hand).
func (inv *Inventory) Backends(s *Service) []*Workload {
	if s.backendsAt != inv.workloads+1 {
		s.backends, s.backendsAt = inv.Selected(s.Namespace, s.Selector), inv.workloads+1
	}
	return s.backends
}

// Selected returns the workloads in namespace whose pod labels include
// every label of selector.
func (inv *Inventory) Selected(namespace string, selector map[string]string) []*Workload {
	if len(selector) == 0 {
		return nil
	}
	// Start from the smallest posting list, then filter by the rest.
	var candidates postings
	first := true
	for k, v := range selector {
		l := inv.byLabel[nsLabel{namespace, k, v}]
		if first || l.len() < candidates.len() {
			candidates, first = l, false
		}
	}
	var out []*Workload
	for i := range candidates.len() {
		if w := candidates.at(i); matches(selector, w.PodLabels) {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b *Workload) int {
		if c := strings.Compare(a.Ref.Kind, b.Ref.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Ref.Name, b.Ref.Name)
	})
	return out
}

func matches(selector map[string]string, labels Labels) bool {
	for k, v := range selector {
		if got, ok := labels.Lookup(k); !ok || got != v {
			return false
		}
	}
	return true
}

// ServiceAccounts returns the sorted, distinct service accounts of the
// Service's backends (workloads, or a ServiceEntry's endpoints); nil when
// none in the inventory says.
func (inv *Inventory) ServiceAccounts(s *Service) []string {
	seen := map[string]bool{}
	var out []string
	add := func(sa string) {
		if !seen[sa] {
			seen[sa] = true
			out = append(out, sa)
		}
	}
	for _, w := range inv.Backends(s) {
		add(w.ServiceAccount)
	}
	if s.Entry != nil && len(s.Selector) == 0 {
		// A ServiceEntry endpoint's identity is its serviceAccount in the
		// ServiceEntry's namespace; without one it has none (istio/istio
		// pilot/pkg/serviceregistry/serviceentry/conversion.go,
		// convertWorkloadEntryToWorkloadInstance).
		for _, ep := range s.Entry.Endpoints {
			if ep.ServiceAccount != "" {
				add(ep.ServiceAccount)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TargetPort resolves a Service port's target port to a number: the
// number itself, the port number when unset, or the container port of that
// name in the workloads behind the Service. ok is false when a named
// target port cannot be resolved, or the workloads disagree on it.
func (inv *Inventory) TargetPort(s *Service, p Port) (port int32, ok bool) {
	switch {
	case p.TargetName == "" && p.TargetNumber != 0:
		return p.TargetNumber, true
	case p.TargetName == "":
		return p.Number, true
	}
	// Only a string of digits (and sign) can be a number: a name need not
	// allocate Atoi's error.
	if strings.Trim(p.TargetName, "+-0123456789") == "" {
		// In range, or it is no port (NewService rejects it): never
		// a number wrapped around into int32.
		n, err := strconv.ParseInt(p.TargetName, 10, 32)
		return int32(n), err == nil && n >= 1 && n <= 65535
	}
	var found int32
	for _, w := range inv.Backends(s) {
		n, has := w.ContainerPort(p.TargetName)
		if !has {
			continue
		}
		if found != 0 && found != n {
			return 0, false
		}
		found = n
	}
	return found, found != 0
}

// Identities returns the sorted namespace/service-account pairs of every
// workload, the identities its pods present in mTLS.
func (inv *Inventory) Identities() []string {
	out := make([]string, 0, len(inv.identities))
	for id := range inv.identities {
		out = append(out, id.namespace+"/"+id.serviceAccount)
	}
	sort.Strings(out)
	return out
}

// HasIdentity reports whether some workload runs as namespace/serviceAccount.
func (inv *Inventory) HasIdentity(namespace, serviceAccount string) bool {
	return inv.identities[identity{namespace, serviceAccount}]
}
