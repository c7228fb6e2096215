package render

import (
	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"google.golang.org/protobuf/proto"
	networking "istio.io/api/networking/v1alpha3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// API versions of the generated kinds.
const (
	IstioNetworkingV1 = "networking.istio.io/v1"
	GatewayAPIV1      = "gateway.networking.k8s.io/v1"
)

// Labels and options Istio reads from the generated objects.
const (
	NetworkLabel            = "topology.istio.io/network"
	GatewayNameLabel        = "istio.io/gateway-name"
	TLSModeLabel            = "security.istio.io/tlsMode"
	ListenerProtocolOption  = "gateway.istio.io/listener-protocol"
	AutoPassthrough         = "auto-passthrough"
	CrossNetworkListener    = "cross-network"
	BlockAllPlaceholderHost = "fake-hostname-to-block-all-by-default"
)

func ptr[T any](v T) *T { return &v }

// crossNetworkListener is the TLS passthrough listener istiod recognises as
// an east-west (auto-passthrough) listener.
func crossNetworkListener(port int32, hostname string) gwv1.Listener {
	l := gwv1.Listener{
		Name:     CrossNetworkListener,
		Port:     gwv1.PortNumber(port),
		Protocol: gwv1.TLSProtocolType,
		TLS: &gwv1.ListenerTLSConfig{
			Mode:    ptr(gwv1.TLSModePassthrough),
			Options: map[gwv1.AnnotationKey]gwv1.AnnotationValue{ListenerProtocolOption: AutoPassthrough},
		},
		// The API server defaults a listener's allowedRoutes to routes from
		// the Gateway's own namespace (sigs.k8s.io/gateway-api apis/v1
		// gateway_types.go, Listener.AllowedRoutes:
		// +kubebuilder:default={namespaces:{from: Same}}). Writing the
		// default changes nothing for istiod (no route attaches to an
		// auto-passthrough listener) and makes the stored object equal
		// what meshfed wrote, so GitOps tools show no drift (make test-cluster).
		AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr(gwv1.NamespacesFromSame)}},
	}
	if hostname != "" {
		l.Hostname = ptr(gwv1.Hostname(hostname))
	}
	return l
}

// EastWestGateway is the exporting cluster's gateway. Its only listener has
// a placeholder hostname, so it exposes nothing until the Istio Gateway
// lists hosts.
func EastWestGateway(meta Object, network string, port int32) Object {
	meta.APIVersion, meta.Kind = GatewayAPIV1, "Gateway"
	meta.Labels = with(meta.Labels, NetworkLabel, network)
	// The Istio Gateway selects the pods by istio.io/gateway-name. Istio
	// stopped putting that label on the pods it deploys in 1.24 (it now uses
	// gateway.networking.k8s.io/gateway-name), but it still copies the
	// Gateway's own labels onto them, as OSSM 2.6 does: carrying the label
	// here makes the selector match on both.
	meta.Labels[GatewayNameLabel] = meta.Name
	meta.Spec = &gwv1.GatewaySpec{
		GatewayClassName: "istio",
		Listeners:        []gwv1.Listener{crossNetworkListener(port, BlockAllPlaceholderHost)},
	}
	return meta
}

// ExposedHostsGateway is the Istio Gateway that opens exactly the listed
// hosts on the east-west gateway, routing by SNI without terminating TLS.
func ExposedHostsGateway(meta Object, gatewayName string, port int32, hosts []string) Object {
	meta.APIVersion, meta.Kind = IstioNetworkingV1, "Gateway"
	meta.Spec = &networking.Gateway{
		Selector: map[string]string{GatewayNameLabel: gatewayName},
		Servers: []*networking.Server{{
			Port:  &networking.Port{Number: uint32(port), Name: "tls", Protocol: "TLS"},
			Hosts: hosts,
			Tls:   &networking.ServerTLSSettings{Mode: networking.ServerTLSSettings_AUTO_PASSTHROUGH},
		}},
	}
	return meta
}

// ExportServiceEntry gives the exporting cluster a name for host that
// resolves to the Service's own pods, so SNI for the importer's hostname
// reaches them.
func ExportServiceEntry(meta Object, host string, ports []v1alpha1.Port, selector map[string]string, exportTo []string) Object {
	meta.APIVersion, meta.Kind = IstioNetworkingV1, "ServiceEntry"
	se := meshInternalEntry(host, servicePorts(ports, true), selector)
	se.ExportTo = exportTo
	meta.Spec = se
	return meta
}

// ExportEndpointsEntry is ExportServiceEntry for a ServiceEntry host without
// a workloadSelector: the importer's name gets the same endpoints and
// resolution as the ServiceEntry itself, so the east-west gateway's SNI
// cluster for it has the same backends as the original host (at a gateway
// even resolution NONE is served by EDS from the endpoints: istio/istio
// pilot/pkg/networking/core/cluster.go, convertResolution).
func ExportEndpointsEntry(meta Object, host string, ports []v1alpha1.Port, resolution networking.ServiceEntry_Resolution, endpoints []*networking.WorkloadEntry, exportTo []string) Object {
	meta.APIVersion, meta.Kind = IstioNetworkingV1, "ServiceEntry"
	se := &networking.ServiceEntry{
		Hosts:      []string{host},
		Ports:      servicePorts(ports, true),
		Location:   networking.ServiceEntry_MESH_INTERNAL,
		Resolution: resolution,
		ExportTo:   exportTo,
	}
	for _, ep := range endpoints {
		se.Endpoints = append(se.Endpoints, proto.CloneOf(ep))
	}
	meta.Spec = se
	return meta
}

// meshInternalEntry is what both sides' ServiceEntries share: one host,
// inside the mesh, endpoints from the workloads the selector picks.
func meshInternalEntry(host string, ports []*networking.ServicePort, selector map[string]string) *networking.ServiceEntry {
	return &networking.ServiceEntry{
		Hosts:            []string{host},
		Ports:            ports,
		Location:         networking.ServiceEntry_MESH_INTERNAL,
		Resolution:       networking.ServiceEntry_STATIC,
		WorkloadSelector: &networking.WorkloadSelector{Labels: selector},
	}
}

// Address is a typed gateway address.
type Address struct{ Type, Value string }

// RemoteGateway tells istiod, on the importing cluster, where the peer
// network's east-west gateway is. istio-remote gateways are not deployed.
func RemoteGateway(meta Object, network string, addresses []Address, port int32) Object {
	meta.APIVersion, meta.Kind = GatewayAPIV1, "Gateway"
	meta.Labels = with(meta.Labels, NetworkLabel, network)
	spec := &gwv1.GatewaySpec{
		GatewayClassName: "istio-remote",
		Listeners:        []gwv1.Listener{crossNetworkListener(port, "")},
	}
	for _, a := range addresses {
		spec.Addresses = append(spec.Addresses, gwv1.GatewaySpecAddress{Type: ptr(gwv1.AddressType(a.Type)), Value: a.Value})
	}
	meta.Spec = spec
	return meta
}

// ImportServiceEntry is the importing cluster's name for a peer service.
// Its endpoints come from the WorkloadEntry its selector picks; the peer
// workloads' SPIFFE identities pin who may answer.
func ImportServiceEntry(meta Object, host string, ports []v1alpha1.Port, exportTo, subjectAltNames []string, selector map[string]string) Object {
	meta.APIVersion, meta.Kind = IstioNetworkingV1, "ServiceEntry"
	se := meshInternalEntry(host, servicePorts(ports, false), selector)
	se.ExportTo, se.SubjectAltNames = exportTo, subjectAltNames
	meta.Spec = se
	return meta
}

// ImportWorkloadEntry stands for the peer's workloads. It has no address:
// istiod fills in the peer network's gateway (from the istio-remote
// Gateway), and only for mTLS endpoints, hence the tlsMode label.
func ImportWorkloadEntry(meta Object, network, locality string) Object {
	meta.APIVersion, meta.Kind = IstioNetworkingV1, "WorkloadEntry"
	meta.Labels = with(meta.Labels, TLSModeLabel, "istio")
	meta.Spec = &networking.WorkloadEntry{Network: network, Locality: locality}
	return meta
}

func servicePorts(ports []v1alpha1.Port, withTarget bool) []*networking.ServicePort {
	out := make([]*networking.ServicePort, 0, len(ports))
	for _, p := range ports {
		sp := &networking.ServicePort{Number: uint32(p.Number), Name: p.Name, Protocol: p.Protocol}
		if withTarget && p.TargetPort != 0 {
			sp.TargetPort = uint32(p.TargetPort)
		}
		out = append(out, sp)
	}
	return out
}

func with(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}
