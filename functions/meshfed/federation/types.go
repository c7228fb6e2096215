// Package federation models OpenShift Service Mesh 2 federation
// (federation.maistra.io/v1 ServiceMeshPeer, ExportedServiceSet,
// ImportedServiceSet) and evaluates its export and import rules exactly as
// OSSM 2's istiod did: first match wins, empty and "*" are wildcards, rules
// it could not use are skipped (and reported here, where OSSM 2 only logged).
package federation

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Group, version and kinds of the federation CRs.
const (
	APIVersion             = "federation.maistra.io/v1"
	Group                  = "federation.maistra.io"
	KindServiceMeshPeer    = "ServiceMeshPeer"
	KindExportedServiceSet = "ExportedServiceSet"
	KindImportedServiceSet = "ImportedServiceSet"
)

// Rule types.
const (
	NameSelectorType  = "NameSelector"
	LabelSelectorType = "LabelSelector"
)

// matchAny is the federation wildcard; an empty string means the same.
const matchAny = "*"

// ServiceMeshPeer is the part of a ServiceMeshPeer meshfed uses.
type ServiceMeshPeer struct {
	Name, Namespace string
	Spec            PeerSpec
}

// PeerSpec mirrors ServiceMeshPeer.spec.
type PeerSpec struct {
	Remote   PeerRemote   `json:"remote"`
	Gateways PeerGateways `json:"gateways"`
	Security PeerSecurity `json:"security"`
}

// PeerRemote mirrors spec.remote.
type PeerRemote struct {
	Addresses     []string `json:"addresses,omitempty"`
	DiscoveryPort int32    `json:"discoveryPort,omitempty"`
	ServicePort   int32    `json:"servicePort,omitempty"`
}

// PeerGateways mirrors spec.gateways.
type PeerGateways struct {
	Ingress LocalRef `json:"ingress"`
	Egress  LocalRef `json:"egress"`
}

// LocalRef is a reference by name.
type LocalRef struct {
	Name string `json:"name,omitempty"`
}

// PeerSecurity mirrors spec.security.
type PeerSecurity struct {
	TrustDomain      string    `json:"trustDomain,omitempty"`
	ClientID         string    `json:"clientID,omitempty"`
	CertificateChain *TypedRef `json:"certificateChain,omitempty"`
}

// TypedRef mirrors a TypedLocalObjectReference.
type TypedRef struct {
	APIGroup string `json:"apiGroup,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Name     string `json:"name,omitempty"`
}

// ExportedServiceSet is E's list of rules for exporting to one peer.
type ExportedServiceSet struct {
	Name, Namespace string
	Spec            ExportSpec
	// Status is status.exportedServices of a live CR (what OSSM 2 itself
	// exported), nil when the item has none.
	Status []PeerServiceMapping
}

// PeerServiceMapping is one entry of an ExportedServiceSet's
// status.exportedServices or an ImportedServiceSet's
// status.importedServices (maistra/api federation/v1 PeerServiceMapping).
type PeerServiceMapping struct {
	ExportedName string     `json:"exportedName"`
	LocalService ServiceKey `json:"localService"`
}

// ServiceKey is a mapping's localService; all empty in an
// importedServices entry that no import rule matched.
type ServiceKey struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Hostname  string `json:"hostname"`
}

// ExportSpec mirrors ExportedServiceSet.spec.
type ExportSpec struct {
	ExportRules []ExportRule `json:"exportRules,omitempty"`
}

// ExportRule mirrors one entry of spec.exportRules.
type ExportRule struct {
	Type          string             `json:"type"`
	NameSelector  *NameMapping       `json:"nameSelector,omitempty"`
	LabelSelector *LabelSelectorRule `json:"labelSelector,omitempty"`
}

// NameMapping is federation's ServiceNameMapping: a selector plus an
// optional rename.
type NameMapping struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Alias     *Alias `json:"alias,omitempty"`
}

// Alias is the rename part of a NameMapping.
type Alias struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// LabelSelectorRule mirrors exportRules[].labelSelector.
type LabelSelectorRule struct {
	Namespace string                `json:"namespace,omitempty"`
	Selector  *metav1.LabelSelector `json:"selector,omitempty"`
	Aliases   []NameMapping         `json:"aliases,omitempty"`
}

// ImportedServiceSet is I's list of rules for importing from one peer.
type ImportedServiceSet struct {
	Name, Namespace string
	Spec            ImportSpec
	// Status is status.importedServices of a live CR: one entry per
	// service the peer offered, nil when the item has none.
	Status []PeerServiceMapping
}

// ImportSpec mirrors ImportedServiceSet.spec.
type ImportSpec struct {
	DomainSuffix string       `json:"domainSuffix,omitempty"`
	Locality     *Locality    `json:"locality,omitempty"`
	ImportRules  []ImportRule `json:"importRules,omitempty"`
}

// ImportRule mirrors one entry of spec.importRules.
type ImportRule struct {
	Type          string       `json:"type"`
	NameSelector  *NameMapping `json:"nameSelector,omitempty"`
	ImportAsLocal bool         `json:"importAsLocal,omitempty"`
	DomainSuffix  string       `json:"domainSuffix,omitempty"`
}

// Locality mirrors spec.locality.
type Locality struct {
	Region  string `json:"region,omitempty"`
	Zone    string `json:"zone,omitempty"`
	Subzone string `json:"subzone,omitempty"`
}
