package pipeline

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/inventory"
	"github.com/meshfed/meshfed/functions/meshfed/render"
)

// localClusterDomain is the exporting cluster's own domain: the names its
// Services already have and need no extra ServiceEntry.
const localClusterDomain = "cluster.local"

// exposure is one hostname a peer dials, and the service behind it.
type exposure struct {
	host     string
	service  federation.ServiceName // the real, local Service
	own      bool                   // host is the service's own name: no ServiceEntry
	via      string                 // what made meshfed expose it, for messages
	ports    []v1alpha1.Port
	selector map[string]string
	// entry, instead of a selector, for a ServiceEntry host without one:
	// the ServiceEntry's own endpoints and resolution.
	entry *inventory.ServiceEntryRoute
}

// exportPlan is what one MeshExport resolves to.
type exportPlan struct {
	cfg       config
	exposures map[string]*exposure
	// exposed are the values of exposures in the order they were exposed
	// (the Services' order): sorting them by host is then close to linear.
	exposed []*exposure
	// peers are the peer names this config exports to (given or defaulted).
	peers []string
	// exportedTo records which peers each Service is exported to by rules,
	// when there are several peers (see warnPerPeerExports); else nil.
	exportedTo map[federation.ServiceName]map[string]bool
	// platform are the namespaces whose Service names are never exposed
	// under another Service (takeover.go).
	platform []string
}

// resolveExport computes every hostname the peers dial and the service
// behind it.
func resolveExport(in *input, c config, f *diag.Findings) *exportPlan {
	spec := c.export.Spec
	// Sized for every Service: a fleet's maps would otherwise be rehashed
	// as they grow, which cost more the larger the fleet.
	n := len(in.local.inv.Services())
	plan := &exportPlan{cfg: c, exposures: make(map[string]*exposure, n), exposed: make([]*exposure, 0, n)}
	plan.platform = platformNamespaces(in.local, spec.Gateway.Namespace)
	peers := spec.Peers
	if len(peers) == 0 {
		for _, name := range sortedKeys(in.local.exportSets) {
			peers = append(peers, v1alpha1.ExportPeer{Name: name, ClusterDomain: v1alpha1.DefaultClusterDomain})
		}
	}
	if len(peers) > 1 {
		plan.exportedTo = make(map[federation.ServiceName]map[string]bool, n)
	}
	if len(peers) == 0 && len(spec.Services) == 0 {
		f.Warnf(&c.ref, "spec", "nothing to export: there is no ExportedServiceSet among this mesh's items and no spec.services; the east-west gateway exposes no host")
	}
	for i, p := range peers {
		plan.peers = append(plan.peers, p.Name)
		resolveExportPeer(in, c, i, p, plan, f)
	}
	for i, s := range spec.Services {
		resolveExplicitExport(in, c, i, s, plan, f)
	}
	return plan
}

func resolveExportPeer(in *input, c config, i int, p v1alpha1.ExportPeer, plan *exportPlan, f *diag.Findings) {
	field := fmt.Sprintf("spec.peers[%d]", i)
	if len(c.export.Spec.Peers) == 0 {
		field = "spec.peers" // defaulted from the ExportedServiceSets
	}
	ess, ok := in.local.exportSets[p.Name]
	if !ok {
		f.Warnf(&c.ref, field+".name", "there is no ExportedServiceSet %q among this mesh's items, so no service is exported to peer %q by rules; add it, or list services under spec.services", p.Name, p.Name)
		return
	}
	peer := in.peer(p.Name)
	remote := p.RemoteName
	if remote == "" {
		name, why, ok := onlySet(peer.importSets, federation.KindImportedServiceSet, peer)
		if !ok {
			f.Errorf(&c.ref, field+".remoteName", "cannot tell which hostnames peer %q dials: %s; add the peer's ImportedServiceSet for this mesh with annotations %s: %s and config.kubernetes.io/local-config: \"true\", and set %s.remoteName to its name if there are several", p.Name, why, PeerAnnotation, p.Name, field)
			return
		}
		remote = name
	}
	iss, ok := peer.importSets[remote]
	if !ok {
		f.Errorf(&c.ref, field+".remoteName", "the peer's ImportedServiceSet %q is not among %s: add it (it decides the hostnames the peer dials), or export with spec.services[].hosts instead", remote, peer.describe())
		return
	}
	via := fmt.Sprintf("ExportedServiceSet %s and the peer's ImportedServiceSet %s", p.Name, remote)
	exported := exportedSet(in.local, ess, f)
	checkExportStatus(in.local, ess, exported, f)
	for _, e := range exported {
		if plan.exportedTo != nil && !e.withheld { // nil with one peer: nothing to compare
			if plan.exportedTo[e.svc.ServiceName] == nil {
				plan.exportedTo[e.svc.ServiceName] = map[string]bool{}
			}
			plan.exportedTo[e.svc.ServiceName][p.Name] = true
		}
	}
	for _, is := range importedSet(exported, iss, p.ClusterDomain, f) {
		if is.withheld {
			continue // said in exportedSet
		}
		plan.expose(in.local, is.imported.Host, is.svc, via, nil, nil, c, f)
	}
}

func resolveExplicitExport(in *input, c config, i int, s v1alpha1.ExportService, plan *exportPlan, f *diag.Findings) {
	field := fmt.Sprintf("spec.services[%d]", i)
	name := federation.ServiceName{Name: s.Name, Namespace: s.Namespace}
	svc, _ := in.local.inv.Service(name)
	if svc == nil && (len(s.Ports) == 0 || len(s.WorkloadSelector) == 0) {
		f.Errorf(&c.ref, field, "Service %s is not among this mesh's items, so its ports and pod selector are unknown: add the Service, or set %s.ports and %s.workloadSelector", name, field, field)
		return
	}
	if svc != nil && svc.Type == "ExternalName" {
		// Federation never exported one (exportedSet), and a ServiceEntry
		// for it would make the east-west gateway relay peers to whatever
		// external host it names.
		f.Errorf(&c.ref, field, "Service %s is of type ExternalName: it has no pods of this mesh behind it, and exporting it would let peers reach its external host through the east-west gateway; remove %s, or export the Service that runs the workloads", name, field)
		return
	}
	if svc == nil {
		svc = &inventory.Service{ServiceName: name, Ref: c.ref}
	}
	via := "MeshExport " + c.name + " " + field
	hosts := append([]string{name.Host(localClusterDomain)}, s.Hosts...)
	for _, h := range hosts {
		plan.expose(in.local, h, svc, via, s.Ports, s.WorkloadSelector, c, f)
	}
}

// expose records that host must reach svc, rejecting hosts that would
// reach the wrong backend.
func (plan *exportPlan) expose(m *mesh, host string, svc *inventory.Service, via string, ports []v1alpha1.Port, selector map[string]string, c config, f *diag.Findings) {
	if prev, ok := plan.exposures[host]; ok {
		if prev.service != svc.ServiceName {
			f.Errorf(&c.ref, "spec", "two exports resolve to the hostname %q: Service %s (via %s) and Service %s (via %s); a host can reach only one service: give one of them another name with an export or import alias", host, prev.service, prev.via, svc.ServiceName, via)
			return
		}
		if ports != nil {
			prev.ports = ports
		}
		if selector != nil {
			prev.selector = selector
		}
		return
	}
	if other, ok := realServiceOf(m, host); ok && other != svc.ServiceName {
		f.Errorf(&c.ref, "spec", "the peer dials %q for Service %s (via %s), but that is the name of a different Service, %s, in this mesh: SNI routing at the east-west gateway would reach %s instead; change the import alias so the hostname differs", host, svc.ServiceName, via, other, other)
		return
	}
	own := svc.IsOwnHost(host, localClusterDomain)
	if why := takeover(host, localClusterDomain, plan.platform, own, exportFree, m.hasService); why != "" {
		f.Errorf(&c.ref, "spec", "the peer dials %q for Service %s (via %s), but %s (for the peer's rules: the ImportedServiceSet's default <name>-imports.local, or a domainSuffix)", host, svc.ServiceName, via, why)
		return
	}
	e := &exposure{host: host, service: svc.ServiceName, own: own, via: via, ports: ports, selector: selector}
	if !own {
		e.ports, e.selector = exportPorts(m, svc, c, ports, f), selector
		if e.selector == nil {
			e.selector = svc.Selector
		}
		switch {
		case len(e.selector) > 0:
		case svc.Entry != nil:
			// Only rules export a ServiceEntry host (spec.services names
			// Services), and exportedSet withholds what the gateway
			// cannot reach.
			e.entry = svc.Entry
		default:
			f.Errorf(&svc.Ref, "spec.selector", "Service %s is exported as %q but has no pod selector, so a ServiceEntry for that name would select no pods; add the Service to MeshExport %s spec.services with a workloadSelector", svc.ServiceName, host, c.name)
		}
	}
	plan.exposures[host] = e
	plan.exposed = append(plan.exposed, e)
}

// realServiceOf returns the Service whose own Kubernetes hostname host is.
func realServiceOf(m *mesh, host string) (federation.ServiceName, bool) {
	var n federation.ServiceName
	rest, ok := cutSuffix(host, ".svc."+localClusterDomain)
	if !ok {
		return n, false
	}
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == '.' {
			n = federation.ServiceName{Name: rest[:i], Namespace: rest[i+1:]}
			_, found := m.inv.Service(n)
			return n, found
		}
	}
	return n, false
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// exportPorts returns the ServiceEntry ports for an exported Service:
// explicit ones, or the Service's with target ports resolved to numbers.
func exportPorts(m *mesh, svc *inventory.Service, c config, explicit []v1alpha1.Port, f *diag.Findings) []v1alpha1.Port {
	if len(explicit) > 0 {
		return completePorts(explicit)
	}
	if len(svc.Ports) == 0 {
		f.Errorf(&svc.Ref, "spec.ports", "Service %s is exported but has no ports; add its ports, or set them in MeshExport %s spec.services[].ports", svc.ServiceName, c.name)
		return nil
	}
	out := make([]v1alpha1.Port, 0, len(svc.Ports))
	for i, p := range svc.Ports {
		target, ok := m.inv.TargetPort(svc, p)
		if !ok {
			f.Errorf(&svc.Ref, fmt.Sprintf("spec.ports[%d].targetPort", i), "targetPort %q of Service %s names a container port that no workload behind the Service declares (or they disagree), so the number the east-west gateway must forward to is unknown; add the Deployment (or other workload) to the items, or set MeshExport %s spec.services[] with name %s, namespace %s and ports[].targetPort", p.TargetName, svc.ServiceName, c.name, svc.Name, svc.Namespace)
			continue
		}
		out = append(out, v1alpha1.Port{Number: p.Number, Name: p.Name, Protocol: p.Protocol(), TargetPort: target})
	}
	completeOwnPorts(out)
	return out
}

// completePorts names unnamed ports (ServiceEntry ports need a name) and
// canonicalises protocols, in port-number order, in a copy of in.
func completePorts(in []v1alpha1.Port) []v1alpha1.Port {
	out := append([]v1alpha1.Port(nil), in...)
	completeOwnPorts(out)
	return out
}

// completeOwnPorts is completePorts in place, for ports the caller made.
func completeOwnPorts(out []v1alpha1.Port) {
	for i := range out {
		if p, ok := canonicalProtocol(out[i].Protocol); ok {
			out[i].Protocol = p
		}
		if out[i].Name == "" {
			out[i].Name = portName(out[i])
		}
	}
	slices.SortStableFunc(out, func(a, b v1alpha1.Port) int { return cmp.Compare(a.Number, b.Number) })
}

// exportEntryVisibility is the exportTo of an exporter ServiceEntry (DESIGN
// section 2, r2): the entry exists only for the east-west gateway, which
// routes SNI to it, so it is visible in the gateway's namespace and its own
// (the Service's) namespace, and never changes what clients elsewhere in
// this mesh resolve for the name. e2e/istiod checks that istiod still
// routes every SNI through it and that a client in another namespace does
// not see the host.
func exportEntryVisibility(namespace, gatewayNamespace string) []string {
	if namespace == gatewayNamespace {
		return []string{"."}
	}
	return []string{".", gatewayNamespace}
}

// renderExport turns a plan into objects.
func renderExport(plan *exportPlan) []render.Object {
	spec := plan.cfg.export.Spec
	meta := func(namespace, name string) render.Object {
		return render.Object{Namespace: namespace, Name: name}
	}
	gw := spec.Gateway
	objs := make([]render.Object, 0, 2+len(plan.exposed))
	objs = append(objs, render.EastWestGateway(meta(gw.Namespace, gw.Name), spec.Network, gw.PortNumber()))
	exposed := slices.Clone(plan.exposed)
	slices.SortFunc(exposed, func(a, b *exposure) int { return strings.Compare(a.host, b.host) })
	if len(exposed) > 0 {
		hosts := make([]string, len(exposed))
		for i, e := range exposed {
			hosts[i] = e.host
		}
		objs = append(objs, render.ExposedHostsGateway(meta(gw.Namespace, render.Name(gw.Name+"-exposed-hosts")), gw.Name, gw.PortNumber(), hosts))
	}
	names := make(uniqueNames, len(exposed))
	for _, e := range exposed {
		if e.own {
			continue
		}
		name := names.get(e.service.Namespace, e.host)
		visibility := exportEntryVisibility(e.service.Namespace, gw.Namespace)
		if e.entry != nil {
			objs = append(objs, render.ExportEndpointsEntry(meta(e.service.Namespace, name), e.host, e.ports, e.entry.Resolution, e.entry.Endpoints, visibility))
			continue
		}
		objs = append(objs, render.ExportServiceEntry(meta(e.service.Namespace, name), e.host, e.ports, e.selector, visibility))
	}
	return objs
}
