package render

import (
	"fmt"
	"net/netip"
	"strings"

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
	p.label("metadata.name", o.Name)
	if o.Namespace != "" {
		p.label("metadata.namespace", o.Namespace)
	}
	p.labels("metadata.labels", o.Labels)
	switch s := o.Spec.(type) {
	case *networking.ServiceEntry:
		validateServiceEntry(&p, s)
	case *networking.WorkloadEntry:
		if s.Address == "" && s.Network == "" {
			p.add("spec", "address is required unless network is set")
		}
		p.labels("spec.labels", s.Labels)
	case *networking.Gateway:
		validateIstioGateway(&p, s)
	case *gwv1.GatewaySpec:
		validateGatewayAPI(&p, s)
	default:
		p.add("spec", fmt.Sprintf("unexpected spec type %T", o.Spec))
	}
	return p.list
}

type problems struct{ list []string }

func (p *problems) add(field, msg string) { p.list = append(p.list, field+": "+msg) }

func (p *problems) label(field, s string) {
	if isDNS1123Label(s) {
		return
	}
	if errs := validation.IsDNS1123Label(s); errs != nil {
		p.add(field, fmt.Sprintf("%q: %s", s, strings.Join(errs, "; ")))
	}
}

func (p *problems) labels(field string, l map[string]string) {
	for k, v := range l {
		if isQualifiedName(k) && isLabelValue(v) {
			continue
		}
		if errs := validation.IsQualifiedName(k); errs != nil {
			p.add(field, fmt.Sprintf("key %q: %s", k, strings.Join(errs, "; ")))
		}
		if errs := validation.IsValidLabelValue(v); errs != nil {
			p.add(field, fmt.Sprintf("value %q: %s", v, strings.Join(errs, "; ")))
		}
	}
}

func (p *problems) host(field, h string) {
	if strings.Contains(h, "*") {
		p.add(field, fmt.Sprintf("%q: meshfed never generates wildcard hosts", h))
		return
	}
	if isDNS1123Subdomain(h) {
		return
	}
	if errs := validation.IsDNS1123Subdomain(h); errs != nil {
		p.add(field, fmt.Sprintf("%q: %s", h, strings.Join(errs, "; ")))
	}
}

func (p *problems) port(field string, n uint32) {
	if n < 1 || n > 65535 {
		p.add(field, fmt.Sprintf("%d is not a port number", n))
	}
}

func validateServiceEntry(p *problems, s *networking.ServiceEntry) {
	if len(s.Hosts) == 0 {
		p.add("spec.hosts", "at least one host is required")
	}
	for i, h := range s.Hosts {
		p.host(fmt.Sprintf("spec.hosts[%d]", i), h)
	}
	if len(s.Ports) == 0 {
		p.add("spec.ports", "at least one port is required")
	}
	names, numbers := map[string]bool{}, map[uint32]bool{}
	for i, sp := range s.Ports {
		f := fmt.Sprintf("spec.ports[%d]", i)
		p.port(f+".number", sp.Number)
		if sp.TargetPort != 0 {
			p.port(f+".targetPort", sp.TargetPort)
		}
		if !isDNS1123Label(sp.Name) {
			p.add(f+".name", fmt.Sprintf("%q: %s", sp.Name, strings.Join(validation.IsDNS1123Label(sp.Name), "; ")))
		}
		if names[sp.Name] || numbers[sp.Number] {
			p.add(f, "port name and number must be unique")
		}
		names[sp.Name], numbers[sp.Number] = true, true
		if _, ok := protocol.Parse(sp.Protocol); sp.Protocol != "" && !ok {
			p.add(f+".protocol", fmt.Sprintf("%q is not an Istio protocol", sp.Protocol))
		}
	}
	if s.WorkloadSelector == nil || len(s.WorkloadSelector.Labels) == 0 {
		p.add("spec.workloadSelector", "a selector is required: without it the entry has no endpoints")
	} else {
		p.labels("spec.workloadSelector.labels", s.WorkloadSelector.Labels)
	}
	for i, san := range s.SubjectAltNames {
		if !strings.HasPrefix(san, "spiffe://") || strings.Count(san, "/") < 6 {
			p.add(fmt.Sprintf("spec.subjectAltNames[%d]", i), fmt.Sprintf("%q is not a spiffe://<trust domain>/ns/<ns>/sa/<sa> identity", san))
		}
	}
	for i, e := range s.ExportTo {
		if e != "*" && e != "." && e != "~" {
			p.label(fmt.Sprintf("spec.exportTo[%d]", i), e)
		}
	}
}

func validateIstioGateway(p *problems, g *networking.Gateway) {
	if len(g.Selector) == 0 {
		p.add("spec.selector", "a selector is required")
	}
	p.labels("spec.selector", g.Selector)
	if len(g.Servers) == 0 {
		p.add("spec.servers", "at least one server is required")
	}
	for i, s := range g.Servers {
		f := fmt.Sprintf("spec.servers[%d]", i)
		if s.Port == nil {
			p.add(f+".port", "is required")
			continue
		}
		p.port(f+".port.number", s.Port.Number)
		if len(s.Hosts) == 0 {
			p.add(f+".hosts", "at least one host is required")
		}
		for j, h := range s.Hosts {
			p.host(fmt.Sprintf("%s.hosts[%d]", f, j), h)
		}
		if s.Tls == nil {
			p.add(f+".tls", "is required for a TLS server")
		}
	}
}

func validateGatewayAPI(p *problems, g *gwv1.GatewaySpec) {
	if g.GatewayClassName == "" {
		p.add("spec.gatewayClassName", "is required")
	}
	if len(g.Listeners) == 0 {
		p.add("spec.listeners", "at least one listener is required")
	}
	for i, l := range g.Listeners {
		f := fmt.Sprintf("spec.listeners[%d]", i)
		p.port(f+".port", uint32(l.Port))
		if l.Protocol == gwv1.TLSProtocolType && (l.TLS == nil || l.TLS.Mode == nil) {
			p.add(f+".tls.mode", "tls mode must be set for protocol TLS")
		}
		if l.Hostname != nil {
			p.host(f+".hostname", string(*l.Hostname))
		}
	}
	for i, a := range g.Addresses {
		f := fmt.Sprintf("spec.addresses[%d]", i)
		switch {
		case a.Type == nil:
			// The API server would default it to IPAddress and istiod skips
			// untyped addresses without an API server.
			p.add(f+".type", "is required")
		case *a.Type == gwv1.IPAddressType:
			if _, err := netip.ParseAddr(a.Value); err != nil {
				p.add(f+".value", fmt.Sprintf("%q is not an IP address", a.Value))
			}
		case *a.Type == gwv1.HostnameAddressType:
			p.host(f+".value", a.Value)
		default:
			p.add(f+".type", fmt.Sprintf("%q is not IPAddress or Hostname", *a.Type))
		}
	}
}
