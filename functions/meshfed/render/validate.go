package render

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/hostname"
	"github.com/meshfed/meshfed/functions/meshfed/protocol"
	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Validate checks a generated object against the rules the API server
// (CRD schema and CEL) and istiod's validation webhook apply to it. A
// problem here is a bug in meshfed or an input it failed to reject, so the
// pipeline reports it as an error instead of emitting the object.
func (o Object) Validate() []string {
	var p problems
	p.label(field("metadata.name"), o.Name)
	if o.Namespace != "" {
		p.label(field("metadata.namespace"), o.Namespace)
	}
	p.labels(field("metadata.labels"), o.Labels)
	switch s := o.Spec.(type) {
	case *networking.ServiceEntry:
		validateServiceEntry(&p, s)
	case *networking.WorkloadEntry:
		if s.Address == "" && s.Network == "" {
			p.add(field("spec"), "address is required unless network is set")
		}
		p.labels(field("spec.labels"), s.Labels)
	case *networking.Gateway:
		validateIstioGateway(&p, s)
	case *gwv1.GatewaySpec:
		validateGatewayAPI(&p, s)
	default:
		p.add(field("spec"), fmt.Sprintf("unexpected spec type %T", o.Spec))
	}
	return p.list
}

type problems struct{ list []string }

// path is a field path, spelled out only for a problem: validating every
// object of a fleet must not format a path per host and port.
type path struct {
	base   string
	index  int // -1: none
	suffix string
}

func field(s string) path { return path{base: s, index: -1} }

func at(base string, i int, suffix string) path { return path{base, i, suffix} }

func (f path) String() string {
	if f.index < 0 {
		return f.base + f.suffix
	}
	return fmt.Sprintf("%s[%d]%s", f.base, f.index, f.suffix)
}

func (p *problems) add(f path, msg string) { p.list = append(p.list, f.String()+": "+msg) }

func (p *problems) label(f path, s string) {
	if isDNS1123Label(s) {
		return
	}
	if errs := validation.IsDNS1123Label(s); errs != nil {
		p.add(f, fmt.Sprintf("%q: %s", s, strings.Join(errs, "; ")))
	}
}

func (p *problems) labels(f path, l map[string]string) {
	for k, v := range l {
		if isQualifiedName(k) && isLabelValue(v) {
			continue
		}
		if errs := validation.IsQualifiedName(k); errs != nil {
			p.add(f, fmt.Sprintf("key %q: %s", k, strings.Join(errs, "; ")))
		}
		if errs := validation.IsValidLabelValue(v); errs != nil {
			p.add(f, fmt.Sprintf("value %q: %s", v, strings.Join(errs, "; ")))
		}
	}
}

func (p *problems) host(f path, h string) {
	if strings.Contains(h, "*") {
		p.add(f, fmt.Sprintf("%q: meshfed never generates wildcard hosts", h))
		return
	}
	if err := hostname.Check(h); err != nil {
		p.add(f, err.Error())
	}
}

func (p *problems) port(f path, n uint32) {
	if n < 1 || n > 65535 {
		p.add(f, fmt.Sprintf("%d is not a port number", n))
	}
}

func validateServiceEntry(p *problems, s *networking.ServiceEntry) {
	if len(s.Hosts) == 0 {
		p.add(field("spec.hosts"), "at least one host is required")
	}
	for i, h := range s.Hosts {
		p.host(at("spec.hosts", i, ""), h)
	}
	if len(s.Ports) == 0 {
		p.add(field("spec.ports"), "at least one port is required")
	}
	for i, sp := range s.Ports {
		p.port(at("spec.ports", i, ".number"), sp.Number)
		if sp.TargetPort != 0 {
			p.port(at("spec.ports", i, ".targetPort"), sp.TargetPort)
		}
		if !isDNS1123Label(sp.Name) {
			p.add(at("spec.ports", i, ".name"), fmt.Sprintf("%q: %s", sp.Name, strings.Join(validation.IsDNS1123Label(sp.Name), "; ")))
		}
		for _, prev := range s.Ports[:i] { // a handful of ports: no map
			if prev.Name == sp.Name || prev.Number == sp.Number {
				p.add(at("spec.ports", i, ""), "port name and number must be unique")
				break
			}
		}
		if _, ok := protocol.Parse(sp.Protocol); sp.Protocol != "" && !ok {
			p.add(at("spec.ports", i, ".protocol"), fmt.Sprintf("%q is not an Istio protocol", sp.Protocol))
		}
	}
	switch {
	case len(s.Endpoints) > 0 && s.WorkloadSelector != nil:
		p.add(field("spec.endpoints"), "endpoints and a workloadSelector exclude each other")
	case len(s.Endpoints) > 0:
		for i, ep := range s.Endpoints {
			if ep.Address == "" {
				p.add(at("spec.endpoints", i, ".address"), "an address is required")
			}
		}
	case s.WorkloadSelector == nil || len(s.WorkloadSelector.Labels) == 0:
		p.add(field("spec.workloadSelector"), "a selector or endpoints are required: without them the entry has no endpoints")
	default:
		p.labels(field("spec.workloadSelector.labels"), s.WorkloadSelector.Labels)
	}
	for i, san := range s.SubjectAltNames {
		if !strings.HasPrefix(san, "spiffe://") || strings.Count(san, "/") < 6 {
			p.add(at("spec.subjectAltNames", i, ""), fmt.Sprintf("%q is not a spiffe://<trust domain>/ns/<ns>/sa/<sa> identity", san))
		}
	}
	for i, e := range s.ExportTo {
		if e != "*" && e != "." && e != "~" {
			p.label(at("spec.exportTo", i, ""), e)
		}
	}
}

func validateIstioGateway(p *problems, g *networking.Gateway) {
	if len(g.Selector) == 0 {
		p.add(field("spec.selector"), "a selector is required")
	}
	p.labels(field("spec.selector"), g.Selector)
	if len(g.Servers) == 0 {
		p.add(field("spec.servers"), "at least one server is required")
	}
	for i, s := range g.Servers {
		f := fmt.Sprintf("spec.servers[%d]", i)
		if s.Port == nil {
			p.add(field(f+".port"), "is required")
			continue
		}
		p.port(field(f+".port.number"), s.Port.Number)
		if len(s.Hosts) == 0 {
			p.add(field(f+".hosts"), "at least one host is required")
		}
		hosts := f + ".hosts"
		for j, h := range s.Hosts {
			p.host(at(hosts, j, ""), h)
		}
		if s.Tls == nil {
			p.add(field(f+".tls"), "is required for a TLS server")
		}
	}
}

func validateGatewayAPI(p *problems, g *gwv1.GatewaySpec) {
	if g.GatewayClassName == "" {
		p.add(field("spec.gatewayClassName"), "is required")
	}
	if len(g.Listeners) == 0 {
		p.add(field("spec.listeners"), "at least one listener is required")
	}
	for i, l := range g.Listeners {
		f := fmt.Sprintf("spec.listeners[%d]", i)
		p.port(field(f+".port"), uint32(l.Port))
		if l.Protocol == gwv1.TLSProtocolType && (l.TLS == nil || l.TLS.Mode == nil) {
			p.add(field(f+".tls.mode"), "tls mode must be set for protocol TLS")
		}
		if l.Hostname != nil {
			p.host(field(f+".hostname"), string(*l.Hostname))
		}
	}
	for i, a := range g.Addresses {
		f := fmt.Sprintf("spec.addresses[%d]", i)
		switch {
		case a.Type == nil:
			// The API server would default it to IPAddress and istiod skips
			// untyped addresses without an API server.
			p.add(field(f+".type"), "is required")
		case *a.Type == gwv1.IPAddressType:
			if _, err := netip.ParseAddr(a.Value); err != nil {
				p.add(field(f+".value"), fmt.Sprintf("%q is not an IP address", a.Value))
			}
		case *a.Type == gwv1.HostnameAddressType:
			p.host(field(f+".value"), a.Value)
		default:
			p.add(field(f+".type"), fmt.Sprintf("%q is not IPAddress or Hostname", *a.Type))
		}
	}
}
