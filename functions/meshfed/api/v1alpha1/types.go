// Package v1alpha1 holds meshfed's configuration kinds, MeshExport and
// MeshImport, with their defaults and validation beside them.
package v1alpha1

// Group and version of meshfed's configuration kinds.
const (
	Group      = "meshfed.dev"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version

	KindMeshExport = "MeshExport"
	KindMeshImport = "MeshImport"
)

// Phase says how far the migration has gone.
type Phase string

const (
	// PhaseCoexist adds the Istio resources beside the federation CRs.
	PhaseCoexist Phase = "Coexist"
	// PhaseCutover also drops the translated federation CRs and gateways.
	PhaseCutover Phase = "Cutover"
)

// Defaults shared by both kinds.
const (
	DefaultGatewayName      = "eastwestgateway"
	DefaultGatewayNamespace = "istio-system"
	DefaultGatewayPort      = 15443
	DefaultClusterDomain    = "cluster.local"
	DefaultImportNamespace  = "istio-system"
)

// ObjectMeta is the part of metadata meshfed reads; other metadata fields
// are accepted and ignored because orchestrators add their own.
type ObjectMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// MeshExport configures the exporting cluster.
type MeshExport struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   ObjectMeta     `json:"metadata"`
	Spec       MeshExportSpec `json:"spec"`
}

// MeshExportSpec is the desired export configuration.
type MeshExportSpec struct {
	// Network is this cluster's network: the east-west gateway's
	// topology.istio.io/network label.
	Network  string          `json:"network"`
	Gateway  EastWestGateway `json:"gateway,omitempty"`
	Phase    Phase           `json:"phase,omitempty"`
	Peers    []ExportPeer    `json:"peers,omitempty"`
	Services []ExportService `json:"services,omitempty"`
}

// EastWestGateway is the gateway MeshExport creates.
type EastWestGateway struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Port is nil when not given (then DefaultGatewayPort): an explicit 0
	// is an error, never the default.
	Port *int32 `json:"port,omitempty"`
}

// PortNumber is the gateway's port, the default when none is given.
func (g EastWestGateway) PortNumber() int32 { return portOrDefault(g.Port) }

// ExportPeer is a mesh that imports from this one.
type ExportPeer struct {
	// Name is this mesh's ServiceMeshPeer/ExportedServiceSet name for the
	// peer (P_E).
	Name string `json:"name"`
	// RemoteName is the peer's name for this mesh: its ImportedServiceSet
	// name (P_I).
	RemoteName string `json:"remoteName,omitempty"`
	// ClusterDomain is the peer's cluster domain, for importAsLocal hosts.
	ClusterDomain string `json:"clusterDomain,omitempty"`
}

// ExportService is an explicit export.
type ExportService struct {
	Name             string            `json:"name"`
	Namespace        string            `json:"namespace"`
	Hosts            []string          `json:"hosts,omitempty"`
	Ports            []Port            `json:"ports,omitempty"`
	WorkloadSelector map[string]string `json:"workloadSelector,omitempty"`
}

// Port is a service port as the generated ServiceEntries carry it.
type Port struct {
	Number     int32  `json:"number"`
	Name       string `json:"name,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
	TargetPort int32  `json:"targetPort,omitempty"`
}

// MeshImport configures the importing cluster.
type MeshImport struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   ObjectMeta     `json:"metadata"`
	Spec       MeshImportSpec `json:"spec"`
}

// MeshImportSpec is the desired import configuration.
type MeshImportSpec struct {
	// Network is this cluster's own network (SMCP spec.cluster.network, the
	// OSSM 3 Istio's values.global.network). Required unless a MeshExport
	// in the same step or a control plane among the items names it.
	Network string `json:"network,omitempty"`
	// Namespace is where ServiceEntries and WorkloadEntries go (except
	// importAsLocal imports, which go in their alias namespace).
	Namespace string       `json:"namespace,omitempty"`
	ExportTo  []string     `json:"exportTo,omitempty"`
	Phase     Phase        `json:"phase,omitempty"`
	Peers     []ImportPeer `json:"peers"`
}

// ImportPeer is a mesh this one imports from.
type ImportPeer struct {
	// Name is this mesh's ServiceMeshPeer/ImportedServiceSet name for the
	// peer (P_I).
	Name string `json:"name"`
	// Network is the network name given here to the peer's east-west
	// gateway.
	Network string        `json:"network"`
	Gateway RemoteGateway `json:"gateway"`
	// TrustDomain defaults to the ServiceMeshPeer's spec.security.trustDomain.
	TrustDomain string `json:"trustDomain,omitempty"`
	// RemoteName is the peer's name for this mesh: its ExportedServiceSet
	// name (P_E).
	RemoteName string `json:"remoteName,omitempty"`
	// ClusterDomain is this cluster's domain, for importAsLocal hosts.
	ClusterDomain string          `json:"clusterDomain,omitempty"`
	Services      []ImportService `json:"services,omitempty"`
}

// RemoteGateway is the peer's east-west gateway as seen from here.
type RemoteGateway struct {
	Address   string   `json:"address,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	// Port is nil when not given (then DefaultGatewayPort): an explicit 0
	// is an error, never the default.
	Port *int32 `json:"port,omitempty"`
}

// PortNumber is the gateway's port, the default when none is given.
func (g RemoteGateway) PortNumber() int32 { return portOrDefault(g.Port) }

func portOrDefault(p *int32) int32 {
	if p == nil {
		return DefaultGatewayPort
	}
	return *p
}

// AllAddresses returns address and addresses together.
func (g RemoteGateway) AllAddresses() []string {
	var out []string
	if g.Address != "" {
		out = append(out, g.Address)
	}
	return append(out, g.Addresses...)
}

// ImportService is an explicit import.
type ImportService struct {
	Host  string `json:"host"`
	Ports []Port `json:"ports,omitempty"`
	// ServiceAccount is namespace/name of the peer workloads' account.
	ServiceAccount string `json:"serviceAccount,omitempty"`
}
