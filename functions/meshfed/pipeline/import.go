package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/inventory"
	"github.com/meshfed/meshfed/functions/meshfed/render"
	"github.com/meshfed/meshfed/functions/meshfed/spiffe"
)

// ImportLabel selects the WorkloadEntry of one import; its value is unique
// in the namespace, so no real pod and no other import matches it.
const ImportLabel = "meshfed.dev/import"

// importEntry is one service imported from a peer.
type importEntry struct {
	host      string
	namespace string // where its ServiceEntry and WorkloadEntry go
	ports     []v1alpha1.Port
	sans      []string
	// What made meshfed import it, for messages: a peer Service exported
	// under a name, or (when peerService is nil) a MeshImport field. The
	// message is written only when needed.
	peerService *inventory.Service
	exportedAs  federation.ServiceName
	remote      string // the peer's ExportedServiceSet
	field       string
}

func (e *importEntry) source(c config) string {
	if e.peerService == nil {
		return "MeshImport " + c.name + " " + e.field
	}
	return fmt.Sprintf("peer Service %s exported as %s", e.peerService.ServiceName, federation.ExportedHost(e.exportedAs, e.remote))
}

// importPeerPlan is one peer of a MeshImport resolved.
type importPeerPlan struct {
	peer        v1alpha1.ImportPeer
	trustDomain string
	locality    string
	entries     []*importEntry
}

// importPlan is what one MeshImport resolves to.
type importPlan struct {
	cfg   config
	peers []*importPeerPlan
}

func resolveImport(in *input, c config, f *diag.Findings) *importPlan {
	plan := &importPlan{cfg: c}
	for i, p := range c.imp.Spec.Peers {
		plan.peers = append(plan.peers, resolveImportPeer(in, c, i, p, f))
	}
	return plan
}

func resolveImportPeer(in *input, c config, i int, p v1alpha1.ImportPeer, f *diag.Findings) *importPeerPlan {
	field := fmt.Sprintf("spec.peers[%d]", i)
	spec := c.imp.Spec
	pp := &importPeerPlan{peer: p}
	trustDomain := p.TrustDomain
	if trustDomain == "" {
		smp, ok := in.local.peers[p.Name]
		if ok {
			trustDomain = smp.val.Spec.Security.TrustDomain
		}
		if trustDomain == "" {
			f.Errorf(&c.ref, field+".trustDomain", "the trust domain of peer %q cannot be derived (no ServiceMeshPeer %q with spec.security.trustDomain among this mesh's items); set %s.trustDomain, e.g. `west.local`", p.Name, p.Name, field)
			return pp
		}
	}
	pp.trustDomain = trustDomain
	add := func(e *importEntry) { pp.entries = append(pp.entries, e) }
	platform := platformNamespaces(in.local)

	peer := in.peer(p.Name)
	if iss, ok := in.local.importSets[p.Name]; ok {
		if l := iss.val.Spec.Locality; l != nil {
			if l.Valid() {
				pp.locality = l.String()
			} else if *l != (federation.Locality{}) {
				f.Warnf(&iss.ref, "spec.locality", "locality %+v is not valid (a zone needs a region, a subzone needs a zone), so OSSM 2 applied none and neither does meshfed; fix it to keep locality-aware failover", *l)
			}
		}
		remote := p.RemoteName
		if remote == "" {
			// A live ImportedServiceSet names it in its status.
			if name, ok := remoteFromStatus(iss, f); ok {
				remote = name
			}
		}
		if remote == "" {
			name, why, ok := onlySet(peer.exportSets, federation.KindExportedServiceSet, peer)
			if !ok {
				f.Errorf(&c.ref, field+".remoteName", "cannot tell which services peer %q exports: %s; add the peer's ExportedServiceSet for this mesh with annotations %s: %s and config.kubernetes.io/local-config: \"true\" (and the peer's Services and workloads), and set %s.remoteName to its name if there are several", p.Name, why, PeerAnnotation, p.Name, field)
				return pp
			}
			remote = name
		}
		ess, ok := peer.exportSets[remote]
		if !ok {
			f.Errorf(&c.ref, field+".remoteName", "the peer's ExportedServiceSet %q is not among %s: add it with the peer's Services and workloads, or import with %s.services instead", remote, peer.describe(), field)
			return pp
		}
		offered := exportedSet(peer, ess, f)
		checkExportStatus(peer, ess, offered, f)
		imported := importedSet(offered, iss, p.ClusterDomain, f)
		checkImportStatus(iss, remote, offered, imported, f)
		for _, is := range imported {
			if is.withheld {
				continue // said in exportedSet
			}
			e := &importEntry{host: is.imported.Host, peerService: is.svc, exportedAs: is.exported, remote: remote}
			own := is.svc.IsOwnHost(e.host, p.ClusterDomain)
			if why := takeover(e.host, p.ClusterDomain, platform, own, importFree(is.imported.Local), in.local.hasService); why != "" {
				f.Errorf(&iss.ref, fmt.Sprintf("spec.importRules[%d]", is.imported.Rule), "this rule imports peer Service %s (exported as %s) as %q, but %s (the default <name>-imports.local, or a domainSuffix)", is.svc.ServiceName, is.exported, e.host, why)
				continue
			}
			e.namespace = spec.Namespace
			if is.imported.InLocalNamespace {
				e.namespace = placeInAliasNamespace(in, c, e.host, is.imported.Name.Namespace, is.imported.Local, f)
			}
			if len(is.svc.Ports) == 0 {
				f.Errorf(&is.svc.Ref, "spec.ports", "peer Service %s (imported as %q) has no ports; add them, or set MeshImport %s %s.services[] with host %q and ports", is.svc.ServiceName, e.host, c.name, field, e.host)
			}
			e.ports = make([]v1alpha1.Port, 0, len(is.svc.Ports))
			for _, sp := range is.svc.Ports {
				e.ports = append(e.ports, v1alpha1.Port{Number: sp.Number, Name: sp.Name, Protocol: sp.Protocol()})
			}
			completeOwnPorts(e.ports)
			for _, sa := range peer.inv.ServiceAccounts(is.svc) {
				e.sans = append(e.sans, spiffeID(trustDomain, is.svc.Namespace, sa))
			}
			if len(e.sans) == 0 && !explicitlyGivesAccount(p, e.host) {
				f.Errorf(&is.svc.Ref, "spec.selector", "the service account behind peer Service %s (imported as %q) cannot be derived: no Deployment, StatefulSet, DaemonSet or Pod among %s has pod labels matching its selector %v; add the peer's workload, or set MeshImport %s %s.services[] with host %q and serviceAccount (namespace/name)", is.svc.ServiceName, e.host, peer.describe(), is.svc.Selector, c.name, field, e.host)
			}
			add(e)
		}
	} else if len(p.Services) == 0 {
		f.Warnf(&c.ref, field, "nothing is imported from peer %q: there is no ImportedServiceSet %q among this mesh's items and no %s.services", p.Name, p.Name, field)
	}

	// Explicit services override what the rules import under their host.
	var byHost map[string]*importEntry
	if len(p.Services) > 0 {
		byHost = make(map[string]*importEntry, len(pp.entries))
		for _, e := range pp.entries {
			byHost[e.host] = e
		}
	}
	for j, s := range p.Services {
		sf := fmt.Sprintf("%s.services[%d]", field, j)
		e, overrides := byHost[s.Host]
		if !overrides {
			// An explicit host is the peer service's own name as the user
			// states it; only reserved names are refused.
			if why := takeover(s.Host, p.ClusterDomain, platform, true, nil, in.local.hasService); why != "" {
				f.Errorf(&c.ref, sf+".host", "%q cannot be imported: %s", s.Host, why)
				continue
			}
			e = &importEntry{host: s.Host, namespace: spec.Namespace, field: sf}
			byHost[s.Host] = e
			if ns, ok := localNamespace(s.Host, p.ClusterDomain); ok {
				e.namespace = placeInAliasNamespace(in, c, s.Host, ns, true, f)
			}
			if len(s.Ports) == 0 {
				f.Errorf(&c.ref, sf+".ports", "the ports of %q cannot be derived (no import rule brings it from the peer's items): set them, e.g. [{number: 8000, name: http, protocol: HTTP}]", s.Host)
			}
			if s.ServiceAccount == "" {
				f.Errorf(&c.ref, sf+".serviceAccount", "the service account of the peer workloads behind %q cannot be derived (no import rule brings it from the peer's items): set it as namespace/name, e.g. `b/httpbin`", s.Host)
			}
			add(e)
		}
		if len(s.Ports) > 0 {
			e.ports = completePorts(s.Ports)
		}
		if s.ServiceAccount != "" {
			ns, name, _ := strings.Cut(s.ServiceAccount, "/")
			e.sans = []string{spiffeID(trustDomain, ns, name)}
		}
	}
	return pp
}

// placeInAliasNamespace places an import whose host is in the cluster
// domain (DESIGN section 3): in its namespace when this mesh's items show
// that namespace exists, since only there does it aggregate with a local
// Service of the same name (as OSSM 2 placed it); otherwise in
// spec.namespace, as Red Hat's tested migration places
// httpbin.b.svc.cluster.local (maistra/maistra-test-tool
// pkg/tests/tasks/migration/federation_test.go:389-390 applies it in
// istio-system, East having no namespace b), because an API server refuses
// an object in a namespace it does not have.
func placeInAliasNamespace(in *input, c config, host, namespace string, asLocal bool, f *diag.Findings) string {
	if in.local.namespaces[namespace] {
		return namespace
	}
	missing := fmt.Sprintf("no item of this mesh is in namespace %q (no Namespace object, Service or other object), and the cluster may not have it", namespace)
	if asLocal {
		name, _, _ := strings.Cut(host, ".")
		f.Infof(&c.ref, "spec.namespace", "%q (imported as local) goes in namespace %q, not %q: %s. There it does not aggregate with a Service %s/%s created later; to place it in %q, add that Namespace (or the Service) to this mesh's items", host, c.imp.Spec.Namespace, namespace, missing, namespace, name, namespace)
	} else {
		f.Infof(&c.ref, "spec.namespace", "%q goes in namespace %q: its host ends in the cluster domain, so OSSM 2 put it in namespace %q, but %s; to place it there as OSSM 2 did, add that Namespace to this mesh's items", host, c.imp.Spec.Namespace, namespace, missing)
	}
	return c.imp.Spec.Namespace
}

func explicitlyGivesAccount(p v1alpha1.ImportPeer, host string) bool {
	for _, s := range p.Services {
		if s.Host == host && s.ServiceAccount != "" {
			return true
		}
	}
	return false
}

// localNamespace returns the namespace of a host in the local cluster
// domain (<name>.<namespace>.svc.<clusterDomain>).
func localNamespace(host, clusterDomain string) (string, bool) {
	rest, ok := cutSuffix(host, ".svc."+clusterDomain)
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return "", false
	}
	return rest[i+1:], true
}

func spiffeID(trustDomain, namespace, serviceAccount string) string {
	return spiffe.ID(trustDomain, namespace, serviceAccount)
}

// renderImport turns a plan into objects.
func renderImport(plan *importPlan) []render.Object {
	spec := plan.cfg.imp.Spec
	n := 0
	for _, pp := range plan.peers {
		n += 1 + 2*len(pp.entries)
	}
	objs := make([]render.Object, 0, n)
	names := make(uniqueNames, n/2)
	for _, pp := range plan.peers {
		p := pp.peer
		var addrs []render.Address
		for _, a := range p.Gateway.AllAddresses() {
			t, _ := v1alpha1.AddressType(a) // validated with the config
			addrs = append(addrs, render.Address{Type: t, Value: a})
		}
		objs = append(objs, render.RemoteGateway(render.Object{Namespace: v1alpha1.DefaultGatewayNamespace, Name: render.Name("remote-gateway-" + p.Name)}, p.Network, addrs, p.Gateway.PortNumber()))
		for _, e := range sortedEntries(pp.entries) {
			name := names.get(e.namespace, e.host)
			selector := map[string]string{ImportLabel: name}
			objs = append(objs,
				render.ImportServiceEntry(render.Object{Namespace: e.namespace, Name: name}, e.host, e.ports, spec.ExportTo, e.sans, selector),
				render.ImportWorkloadEntry(render.Object{Namespace: e.namespace, Name: name, Labels: selector}, p.Network, pp.locality),
			)
		}
	}
	return objs
}

// sortedEntries returns the entries by host, the last of those with the
// same host (checkImportHosts has rejected the run when there are two).
func sortedEntries(in []*importEntry) []*importEntry {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b *importEntry) int { return strings.Compare(a.host, b.host) })
	kept := out[:0]
	for i, e := range out {
		if i+1 < len(out) && out[i+1].host == e.host {
			continue
		}
		kept = append(kept, e)
	}
	return kept
}
