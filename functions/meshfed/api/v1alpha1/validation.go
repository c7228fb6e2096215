package v1alpha1

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/hostname"
	"github.com/meshfed/meshfed/functions/meshfed/protocol"
	"github.com/meshfed/meshfed/functions/meshfed/spiffe"
	"github.com/meshfed/meshfed/krm"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Default fills in the documented defaults.
func (c *MeshExport) Default() {
	s := &c.Spec
	if s.Gateway.Name == "" {
		s.Gateway.Name = DefaultGatewayName
	}
	if s.Gateway.Namespace == "" {
		s.Gateway.Namespace = DefaultGatewayNamespace
	}
	if s.Gateway.Port == nil {
		s.Gateway.Port = defaultPort()
	}
	if s.Phase == "" {
		s.Phase = PhaseCoexist
	}
	for i := range s.Peers {
		if s.Peers[i].ClusterDomain == "" {
			s.Peers[i].ClusterDomain = DefaultClusterDomain
		}
	}
}

// Default fills in the documented defaults.
func (c *MeshImport) Default() {
	s := &c.Spec
	if s.Namespace == "" {
		s.Namespace = DefaultImportNamespace
	}
	if len(s.ExportTo) == 0 {
		s.ExportTo = []string{"*"}
	}
	if s.Phase == "" {
		s.Phase = PhaseCoexist
	}
	for i := range s.Peers {
		p := &s.Peers[i]
		if p.Gateway.Port == nil {
			p.Gateway.Port = defaultPort()
		}
		if p.ClusterDomain == "" {
			p.ClusterDomain = DefaultClusterDomain
		}
	}
}

// defaultPort is a fresh DefaultGatewayPort: only an absent port is
// defaulted, so that an explicit 0 stays 0 and is rejected.
func defaultPort() *int32 {
	p := int32(DefaultGatewayPort)
	return &p
}

// Validate checks a defaulted MeshExport and says how to fix each problem.
func (c *MeshExport) Validate() []krm.FieldError {
	var v validator
	s := c.Spec
	if s.Network == "" {
		v.add("spec.network", "is required: set it to this cluster's network name (the east-west gateway's topology.istio.io/network label), e.g. `west-network`")
	} else {
		v.labelValue("spec.network", s.Network)
	}
	v.dnsSubdomain("spec.gateway.name", s.Gateway.Name)
	v.dnsLabel("spec.gateway.namespace", s.Gateway.Namespace)
	v.port("spec.gateway.port", s.Gateway.PortNumber())
	v.phase("spec.phase", s.Phase)
	seen := map[string]bool{}
	for i, p := range s.Peers {
		path := fmt.Sprintf("spec.peers[%d]", i)
		v.peerName(path, p.Name, "ExportedServiceSet", seen)
		if p.RemoteName != "" {
			v.dnsSubdomain(path+".remoteName", p.RemoteName)
		}
		v.dnsSubdomain(path+".clusterDomain", p.ClusterDomain)
	}
	seenSvc := map[string]bool{}
	for i, svc := range s.Services {
		path := fmt.Sprintf("spec.services[%d]", i)
		if svc.Name == "" {
			v.add(path+".name", "is required: the name of the Service to export")
		} else {
			v.dnsLabel(path+".name", svc.Name)
		}
		if svc.Namespace == "" {
			v.add(path+".namespace", "is required: the namespace of the Service to export")
		} else {
			v.dnsLabel(path+".namespace", svc.Namespace)
		}
		key := svc.Namespace + "/" + svc.Name
		if seenSvc[key] {
			v.add(path, fmt.Sprintf("service %s is listed twice: merge the two entries", key))
		}
		seenSvc[key] = true
		for j, h := range svc.Hosts {
			v.host(fmt.Sprintf("%s.hosts[%d]", path, j), h)
		}
		v.ports(path+".ports", svc.Ports, true)
		v.labels(path+".workloadSelector", svc.WorkloadSelector)
	}
	return v.errs
}

// Validate checks a defaulted MeshImport and says how to fix each problem.
func (c *MeshImport) Validate() []krm.FieldError {
	var v validator
	s := c.Spec
	v.dnsLabel("spec.namespace", s.Namespace)
	for i, e := range s.ExportTo {
		if e != "*" && e != "." && e != "~" {
			v.dnsLabel(fmt.Sprintf("spec.exportTo[%d]", i), e)
		}
	}
	v.phase("spec.phase", s.Phase)
	if len(s.Peers) == 0 {
		v.add("spec.peers", "is required: add one entry per peer mesh this mesh imports from (name, network, gateway.address)")
	}
	if s.Network != "" {
		v.labelValue("spec.network", s.Network)
	}
	seen := map[string]bool{}
	for i, p := range s.Peers {
		path := fmt.Sprintf("spec.peers[%d]", i)
		v.peerName(path, p.Name, "ImportedServiceSet", seen)
		switch {
		case p.Network == "":
			v.add(path+".network", "is required: name the network of the peer's east-west gateway as seen here, e.g. `west-network`")
		case p.Name != "" && p.Network == "network-"+p.Name:
			v.add(path+".network", fmt.Sprintf("must differ from %q, the network OSSM 2 federation uses for this peer: while both run, federation would overwrite the gateway address; choose another name, e.g. %q", p.Network, p.Name+"-network"))
		default:
			v.labelValue(path+".network", p.Network)
		}
		addrs := p.Gateway.AllAddresses()
		if len(addrs) == 0 {
			v.add(path+".gateway.address", "is required: the IP address or hostname of the peer's east-west gateway (its LoadBalancer address)")
		}
		given := map[string]string{}
		for j, a := range addrs {
			field := path + ".gateway.address"
			if p.Gateway.Address == "" || j > 0 {
				field = fmt.Sprintf("%s.gateway.addresses[%d]", path, j-boolInt(p.Gateway.Address != ""))
			}
			if _, err := AddressType(a); err != nil {
				v.add(field, err.Error())
			}
			if prev, dup := given[a]; dup {
				// The Gateway API CRD makes addresses a set: the API server
				// rejects the same value twice.
				v.add(field, fmt.Sprintf("%q is already given as %s: list each address once", a, prev))
			}
			given[a] = field
		}
		v.port(path+".gateway.port", p.Gateway.PortNumber())
		if p.TrustDomain != "" {
			if err := spiffe.CheckTrustDomain(p.TrustDomain); err != nil {
				v.add(path+".trustDomain", err.Error())
			}
		}
		if p.RemoteName != "" {
			v.dnsSubdomain(path+".remoteName", p.RemoteName)
		}
		v.dnsSubdomain(path+".clusterDomain", p.ClusterDomain)
		hosts := map[string]bool{}
		for j, svc := range p.Services {
			sp := fmt.Sprintf("%s.services[%d]", path, j)
			if svc.Host == "" {
				v.add(sp+".host", "is required: the hostname clients here dial, e.g. `httpbin.b.svc.cluster.local`")
			} else {
				v.host(sp+".host", svc.Host)
				if hosts[svc.Host] {
					v.add(sp+".host", fmt.Sprintf("host %q is listed twice: merge the two entries", svc.Host))
				}
				hosts[svc.Host] = true
			}
			v.ports(sp+".ports", svc.Ports, false)
			if svc.ServiceAccount != "" {
				v.serviceAccount(sp+".serviceAccount", svc.ServiceAccount)
			}
		}
	}
	return v.errs
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AddressType returns the Gateway API address type of a gateway address:
// IPAddress for an IP, Hostname for a DNS name. istiod skips an address
// without a type, so every generated address carries one.
//
// Only an address a peer's gateway can have is accepted: not an IPv6 zone
// (`fe80::1%eth0` names an interface of the machine that reads it; the
// Gateway API CRD's ipv6 format rejects it), not an unspecified, loopback
// or multicast address, and not `localhost`: each would send the
// peer's traffic to this cluster's own nodes, or nowhere.
func AddressType(addr string) (string, error) {
	const fix = "give the IP address or DNS name of the peer's east-west gateway (its LoadBalancer address)"
	if ip, err := netip.ParseAddr(addr); err == nil {
		switch {
		case ip.Zone() != "":
			return "", fmt.Errorf("%q has an IPv6 zone (%%%s), which names a network interface of the machine that reads it, not the peer's gateway: %s", addr, ip.Zone(), fix)
		case ip.IsUnspecified():
			return "", fmt.Errorf("%q is the unspecified address, not the peer's gateway: %s", addr, fix)
		case ip.IsLoopback():
			return "", fmt.Errorf("%q is a loopback address: it would send the peer's traffic to each proxy's own host; %s", addr, fix)
		case ip.IsMulticast():
			return "", fmt.Errorf("%q is a multicast address, not the peer's gateway: %s", addr, fix)
		}
		return "IPAddress", nil
	}
	if allDigitsOrDots(addr) {
		return "", fmt.Errorf("%q is not a valid IP address: %s", addr, fix)
	}
	if strings.ContainsAny(addr, ":/") {
		return "", fmt.Errorf("%q is neither an IP address nor a hostname: give the bare IP address or DNS name of the peer's east-west gateway, without port or scheme", addr)
	}
	if addr == "localhost" || strings.HasSuffix(addr, ".localhost") {
		// RFC 6761 section 6.3: always the loopback address.
		return "", fmt.Errorf("%q always resolves to a loopback address: %s", addr, fix)
	}
	if err := hostname.Check(addr); err != nil {
		return "", fmt.Errorf("%v: %s", err, fix)
	}
	return "Hostname", nil
}

func allDigitsOrDots(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}

type validator struct{ errs []krm.FieldError }

// peerName checks peers[].name: required, a valid name, listed once. set
// is the federation kind that bears the same name in this mesh.
func (v *validator) peerName(path, name, set string, seen map[string]bool) {
	if name == "" {
		v.add(path+".name", "is required: set it to this mesh's ServiceMeshPeer name for the peer (the name of its "+set+")")
		return
	}
	v.dnsSubdomain(path+".name", name)
	if seen[name] {
		v.add(path+".name", fmt.Sprintf("peer %q is listed twice: merge the two entries", name))
	}
	seen[name] = true
}

// serviceAccount checks namespace/name of a peer service account: each
// part as the API server validates it, since together they become the
// SPIFFE identity spiffe://<trust domain>/ns/<namespace>/sa/<name>.
func (v *validator) serviceAccount(path, s string) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok {
		v.add(path, fmt.Sprintf("%q must be namespace/name of the peer workloads' service account, e.g. `b/httpbin`", s))
		return
	}
	if err := spiffe.CheckNamespace(ns); err != nil {
		v.add(path, fmt.Sprintf("%q must be namespace/name of the peer workloads' service account, e.g. `b/httpbin`: the namespace %v", s, err))
	}
	if err := spiffe.CheckServiceAccount(name); err != nil {
		v.add(path, fmt.Sprintf("%q must be namespace/name of the peer workloads' service account: the name %v", s, err))
	}
}

func (v *validator) add(path, msg string) {
	v.errs = append(v.errs, krm.FieldError{Path: path, Message: msg})
}

func (v *validator) dnsLabel(path, s string) {
	if errs := validation.IsDNS1123Label(s); errs != nil {
		v.add(path, fmt.Sprintf("%q is not a valid name: %s", s, strings.Join(errs, "; ")))
	}
}

func (v *validator) dnsSubdomain(path, s string) {
	if errs := validation.IsDNS1123Subdomain(s); errs != nil {
		v.add(path, fmt.Sprintf("%q is not a valid name: %s", s, strings.Join(errs, "; ")))
	}
}

func (v *validator) labelValue(path, s string) {
	if errs := validation.IsValidLabelValue(s); errs != nil {
		v.add(path, fmt.Sprintf("%q cannot be a label value: %s", s, strings.Join(errs, "; ")))
	}
}

func (v *validator) labels(path string, l map[string]string) {
	for k, val := range l {
		if errs := validation.IsQualifiedName(k); errs != nil {
			v.add(path, fmt.Sprintf("label key %q is invalid: %s", k, strings.Join(errs, "; ")))
		}
		if errs := validation.IsValidLabelValue(val); errs != nil {
			v.add(path, fmt.Sprintf("label value %q of %q is invalid: %s", val, k, strings.Join(errs, "; ")))
		}
	}
}

func (v *validator) host(path, h string) {
	if strings.Contains(h, "*") {
		v.add(path, fmt.Sprintf("%q is a wildcard: meshfed exposes and imports exact hostnames only; list each host", h))
		return
	}
	if err := hostname.Check(h); err != nil {
		v.add(path, fmt.Sprintf("%v: write a lowercase DNS name, e.g. `httpbin.b.svc.cluster.local`", err))
	}
}

func (v *validator) port(path string, p int32) {
	if p < 1 || p > 65535 {
		v.add(path, fmt.Sprintf("%d is not a port number: use 1-65535", p))
	}
}

func (v *validator) phase(path string, p Phase) {
	if p != PhaseCoexist && p != PhaseCutover {
		v.add(path, fmt.Sprintf("%q is not a phase: use Coexist (new resources beside federation) or Cutover (federation removed)", p))
	}
}

func (v *validator) ports(path string, ports []Port, allowTarget bool) {
	numbers := map[int32]bool{}
	names := map[string]bool{}
	for i, p := range ports {
		pp := fmt.Sprintf("%s[%d]", path, i)
		v.port(pp+".number", p.Number)
		if numbers[p.Number] {
			v.add(pp+".number", fmt.Sprintf("port %d is listed twice", p.Number))
		}
		numbers[p.Number] = true
		if p.Name != "" {
			if errs := validation.IsDNS1123Label(p.Name); errs != nil {
				v.add(pp+".name", fmt.Sprintf("%q is not a valid port name: %s", p.Name, strings.Join(errs, "; ")))
			}
			if names[p.Name] {
				v.add(pp+".name", fmt.Sprintf("port name %q is used twice", p.Name))
			}
			names[p.Name] = true
		}
		if p.Protocol != "" {
			if _, ok := protocol.Parse(p.Protocol); !ok {
				v.add(pp+".protocol", fmt.Sprintf("%q is not an Istio protocol: use one of %s", p.Protocol, protocol.Known()))
			}
		}
		if p.TargetPort != 0 {
			if !allowTarget {
				v.add(pp+".targetPort", "is not used on the importing side: the peer's east-west gateway forwards to the service port; remove it")
			} else if p.TargetPort < 1 || p.TargetPort > 65535 {
				v.add(pp+".targetPort", fmt.Sprintf("%d is not a port number: use 1-65535", p.TargetPort))
			}
		}
	}
}
