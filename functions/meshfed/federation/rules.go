package federation

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ServiceName is a service's name and namespace.
type ServiceName struct {
	Name, Namespace string
}

func (s ServiceName) String() string { return s.Namespace + "/" + s.Name }

// Host returns the service's Kubernetes hostname in clusterDomain.
func (s ServiceName) Host(clusterDomain string) string {
	return s.Name + "." + s.Namespace + ".svc." + clusterDomain
}

// IsHost reports whether host is s.Host(clusterDomain), without building it.
func (s ServiceName) IsHost(host, clusterDomain string) bool {
	rest, ok := strings.CutPrefix(host, s.Name)
	if !ok {
		return false
	}
	if rest, ok = strings.CutPrefix(rest, "."); !ok {
		return false
	}
	if rest, ok = strings.CutPrefix(rest, s.Namespace); !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, ".svc.")
	return ok && rest == clusterDomain
}

// SkippedRule is a rule OSSM 2 ignored (it only logged); meshfed reports it.
type SkippedRule struct {
	Index  int
	Reason string
}

func wildcard(s string) bool { return s == "" || s == matchAny }

// matches applies federation's selector semantics: an empty or "*" field
// matches anything, any other value only itself (no globbing).
func (m NameMapping) matches(s ServiceName) bool {
	return (wildcard(m.Namespace) || m.Namespace == s.Namespace) &&
		(wildcard(m.Name) || m.Name == s.Name)
}

// rename applies the alias: each alias field that is empty or "*" keeps the
// original value.
// Names returns the one Service the mapping matches, when it names both
// namespace and name without wildcards.
func (m NameMapping) Names() (ServiceName, bool) {
	if wildcard(m.Namespace) || wildcard(m.Name) {
		return ServiceName{}, false
	}
	return ServiceName{Namespace: m.Namespace, Name: m.Name}, true
}

func (m NameMapping) rename(s ServiceName) ServiceName {
	if m.Alias == nil {
		return s
	}
	out := s
	if !wildcard(m.Alias.Namespace) {
		out.Namespace = m.Alias.Namespace
	}
	if !wildcard(m.Alias.Name) {
		out.Name = m.Alias.Name
	}
	return out
}

// Exporter evaluates an ExportedServiceSet's rules.
type Exporter struct {
	peer  string
	rules []exportRule
}

type exportRule struct {
	index     int
	name      *NameMapping // NameSelector rule
	namespace string       // LabelSelector rule
	selector  labels.Selector
	aliases   []NameMapping
}

// NewExporter compiles the rules of ess, returning the ones OSSM 2 would
// have skipped.
func NewExporter(ess ExportedServiceSet) (*Exporter, []SkippedRule) {
	e := &Exporter{peer: ess.Name}
	var skipped []SkippedRule
	for i, r := range ess.Spec.ExportRules {
		switch r.Type {
		case NameSelectorType:
			if r.NameSelector == nil {
				skipped = append(skipped, SkippedRule{i, "type NameSelector without `nameSelector`"})
				continue
			}
			e.rules = append(e.rules, exportRule{index: i, name: r.NameSelector})
		case LabelSelectorType:
			if r.LabelSelector == nil {
				skipped = append(skipped, SkippedRule{i, "type LabelSelector without `labelSelector`"})
				continue
			}
			sel := labels.Everything()
			if r.LabelSelector.Selector != nil {
				s, err := metav1.LabelSelectorAsSelector(r.LabelSelector.Selector)
				if err != nil {
					skipped = append(skipped, SkippedRule{i, fmt.Sprintf("invalid `labelSelector.selector`: %v", err)})
					continue
				}
				sel = s
			}
			e.rules = append(e.rules, exportRule{index: i, namespace: r.LabelSelector.Namespace, selector: sel, aliases: r.LabelSelector.Aliases})
		default:
			skipped = append(skipped, SkippedRule{i, fmt.Sprintf("unknown rule type %q (only NameSelector and LabelSelector exist)", r.Type)})
		}
	}
	return e, skipped
}

// Export returns the exported (post-alias) name of svc, the index of the
// rule that matched, and whether any rule matched. The first matching rule
// wins, so more specific rules must come first.
func (e *Exporter) Export(svc ServiceName, serviceLabels labels.Labels) (ServiceName, int, bool) {
	if serviceLabels == nil {
		serviceLabels = labels.Set(nil)
	}
	for _, r := range e.rules {
		if r.name != nil {
			if r.name.matches(svc) {
				return r.name.rename(svc), r.index, true
			}
			continue
		}
		if !wildcard(r.namespace) && r.namespace != svc.Namespace {
			continue
		}
		if !r.selector.Matches(serviceLabels) {
			continue
		}
		// Aliases are matched against the original name, first match wins;
		// no matching alias keeps the name.
		for _, a := range r.aliases {
			if a.matches(svc) {
				return a.rename(svc), r.index, true
			}
		}
		return svc, r.index, true
	}
	return ServiceName{}, -1, false
}

// ExportedHost is the name federation put on the wire between the meshes:
// <name>.<namespace>.svc.<P_E>-exports.local.
func ExportedHost(exported ServiceName, peer string) string {
	return exported.Name + "." + exported.Namespace + ".svc." + peer + "-exports.local"
}

// Exportable applies OSSM 2's candidate check for the
// networking.istio.io/exportTo annotation of a Service: it may be exported
// when the annotation is empty, contains "*", contains "." and the service
// is in the control-plane namespace, or names the control-plane namespace
// (maistra/istio maistra-2.5 pkg/servicemesh/federation/server/server.go:387-401,
// checkServiceExportTo). The annotation is split on "," exactly as Istio
// split it, nothing trimmed, so "a, istio-system" names " istio-system",
// which is no namespace (pilot/pkg/serviceregistry/kube/conversion.go:99-105).
func Exportable(exportTo, serviceNamespace, cpNamespace string) bool {
	if exportTo == "" {
		return true
	}
	for _, e := range strings.Split(exportTo, ",") {
		switch e {
		case "*":
			return true
		case ".":
			if serviceNamespace == cpNamespace {
				return true
			}
		case cpNamespace:
			return true
		}
	}
	return false
}

// Imported is where an imported service lands in the importing mesh.
type Imported struct {
	Host string
	// Name is the local (post-alias) name and namespace.
	Name ServiceName
	// Local is true for importAsLocal imports, whose host is in the local
	// cluster domain and which aggregate with a local Service of that name.
	Local bool
	// InLocalNamespace is true when OSSM 2 put the imported service in its
	// (alias) namespace rather than the control-plane namespace: its host
	// ends in svc.<clusterDomain>, tested as a plain string suffix
	// (maistra/istio maistra-2.5 pilot/pkg/serviceregistry/federation/controller.go:374,
	// convertToLocalService). That is every importAsLocal import and a
	// domainSuffix such as foo.svc.cluster.local.
	InLocalNamespace bool
	Rule             int
}

// Importer evaluates an ImportedServiceSet's rules.
type Importer struct {
	rules         []importRule
	defaultSuffix string
	localSuffix   string
}

type importRule struct {
	index  int
	m      NameMapping
	local  bool
	suffix string
}

// NewImporter compiles iss, whose name is the importer's name for the
// exporting mesh (P_I), for an importing cluster with clusterDomain. It
// returns the rules OSSM 2 would have skipped.
func NewImporter(iss ImportedServiceSet, clusterDomain string) (*Importer, []SkippedRule) {
	im := &Importer{
		defaultSuffix: "svc." + iss.Name + "-imports.local",
		localSuffix:   "svc." + clusterDomain,
	}
	if iss.Spec.DomainSuffix != "" {
		im.defaultSuffix = iss.Spec.DomainSuffix
	}
	var skipped []SkippedRule
	for i, r := range iss.Spec.ImportRules {
		switch {
		case r.Type != NameSelectorType:
			skipped = append(skipped, SkippedRule{i, fmt.Sprintf("rule type %q is not supported for imports (only NameSelector)", r.Type)})
			continue
		case r.NameSelector == nil:
			skipped = append(skipped, SkippedRule{i, "type NameSelector without `nameSelector`"})
			continue
		case r.ImportAsLocal && (r.NameSelector.Alias == nil || wildcard(r.NameSelector.Alias.Namespace)):
			skipped = append(skipped, SkippedRule{i, "`importAsLocal` needs a fixed `nameSelector.alias.namespace` (not empty or \"*\")"})
			continue
		}
		rule := importRule{index: i, m: *r.NameSelector, local: r.ImportAsLocal, suffix: im.defaultSuffix}
		switch {
		case r.ImportAsLocal:
			rule.suffix = im.localSuffix // overrides any domainSuffix
		case r.DomainSuffix != "":
			rule.suffix = r.DomainSuffix
		}
		// A rule without importAsLocal must not import into the cluster
		// domain itself, whether its domainSuffix is its own or the spec's
		// (maistra/istio maistra-2.5 pkg/servicemesh/federation/common/imports.go:73,
		// "use importAsLocal instead"); the next rule applies.
		if !r.ImportAsLocal && rule.suffix == im.localSuffix {
			from := "its `domainSuffix`"
			if r.DomainSuffix == "" {
				from = "`spec.domainSuffix`, which it inherits,"
			}
			skipped = append(skipped, SkippedRule{i, fmt.Sprintf("%s is %q, the cluster domain suffix, without `importAsLocal: true` (OSSM 2: \"use importAsLocal instead\")", from, rule.suffix)})
			continue
		}
		im.rules = append(im.rules, rule)
	}
	return im, skipped
}

// Import matches an exported (post-alias) name against the rules; the first
// match decides the local name and hostname.
func (im *Importer) Import(exported ServiceName) (Imported, bool) {
	for _, r := range im.rules {
		if !r.m.matches(exported) {
			continue
		}
		local := r.m.rename(exported)
		host := local.Name + "." + local.Namespace + "." + r.suffix
		return Imported{
			Host:             host,
			Name:             local,
			Local:            r.local,
			InLocalNamespace: strings.HasSuffix(host, im.localSuffix),
			Rule:             r.index,
		}, true
	}
	return Imported{}, false
}

// Valid reports whether OSSM 2 applied this locality: a zone needs a
// region, a subzone needs a zone; otherwise it silently used none.
func (l Locality) Valid() bool {
	if l.Region == "" && l.Zone == "" && l.Subzone == "" {
		return false
	}
	if l.Zone != "" && l.Region == "" {
		return false
	}
	if l.Subzone != "" && (l.Zone == "" || l.Region == "") {
		return false
	}
	return true
}

// String is the Istio locality form region/zone/subzone.
func (l Locality) String() string {
	s := l.Region
	if l.Zone != "" {
		s += "/" + l.Zone
	}
	if l.Subzone != "" {
		s += "/" + l.Subzone
	}
	return s
}
