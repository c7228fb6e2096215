package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/krm"
)

// reviewAuthorizationPolicies warns about policies that trust a federation
// gateway: with end-to-end mTLS the server sees the client's own identity,
// no longer the gateway's, so such a rule stops matching after migration.
func reviewAuthorizationPolicies(in *input, f *diag.Findings) {
	type gateway struct{ peer, role, trustDomain string }
	bySuffix := map[string]gateway{}
	for _, name := range sortedKeys(in.local.peers) {
		smp := in.local.peers[name].val
		for _, g := range []struct{ role, name string }{
			{"ingress", smp.Spec.Gateways.Ingress.Name},
			{"egress", smp.Spec.Gateways.Egress.Name},
		} {
			if g.name != "" {
				bySuffix["/ns/"+smp.Namespace+"/sa/"+g.name+"-service-account"] = gateway{name, g.role, smp.Spec.Security.TrustDomain}
			}
		}
	}
	if len(bySuffix) == 0 {
		return
	}
	for _, ap := range in.local.authorizationPolicies {
		ref := diag.RefOfMeta(krm.MetaOf(ap))
		rules, _, _ := ap.NestedSlice("spec", "rules")
		for i, r := range rules {
			froms, _, _ := r.NestedSlice("from")
			for j, from := range froms {
				for _, key := range []string{"principals", "notPrincipals"} {
					principals, _, _ := from.NestedStringSlice("source", key)
					for k, p := range principals {
						for suffix, g := range bySuffix {
							if !strings.HasSuffix(p, suffix) {
								continue
							}
							field := fmt.Sprintf("spec.rules[%d].from[%d].source.%s[%d]", i, j, key, k)
							td := g.trustDomain
							if td == "" {
								td = "<peer trust domain>"
							}
							f.Warnf(&ref, field, "principal %q is the federation %s gateway used for peer %q; after the migration requests carry the calling workload's own identity end to end, so this rule will not match: replace it with the peer's client principals, e.g. %q (one client) or %q (any workload of that peer)%s", p, g.role, g.peer, td+"/ns/<namespace>/sa/<service account>", td+"/*", clientPrincipals(in, g.peer, g.trustDomain))
						}
					}
				}
			}
		}
	}
}

// warnAliasedIdentities flags imported identities that trustDomainAliases
// makes indistinguishable from a local workload's: with the peer's trust
// domain aliased, ns/b/sa/httpbin on both sides is one principal to
// AuthorizationPolicies.
func warnAliasedIdentities(in *input, p *importPlan, pp *importPeerPlan, f *diag.Findings) {
	seen := map[string]bool{}
	for _, e := range pp.entries {
		for _, san := range e.sans {
			ns, sa, ok := spiffeNamespaceAccount(san)
			if !ok || !in.local.inv.HasIdentity(ns, sa) || seen[san] {
				continue
			}
			seen[san] = true
			f.Warnf(&p.cfg.ref, "spec.peers", "imported identity %s has the same namespace and service account as a workload of this mesh; with trustDomainAliases covering %q, AuthorizationPolicies cannot tell them apart (the migration guide's caveat): use distinct service accounts or namespaces, or policies that do not rely on that principal", san, pp.trustDomain)
		}
	}
}

// spiffeNamespaceAccount splits spiffe://<td>/ns/<ns>/sa/<sa>.
func spiffeNamespaceAccount(san string) (string, string, bool) {
	i := strings.Index(san, "/ns/")
	if i < 0 {
		return "", "", false
	}
	ns, rest, ok := strings.Cut(san[i+len("/ns/"):], "/sa/")
	return ns, rest, ok
}

// clientPrincipals lists the principals the peer's workloads will present,
// when its workloads are among the items, for the AuthorizationPolicy
// advice; at most a few, the rest summarised.
func clientPrincipals(in *input, peer, trustDomain string) string {
	const shown = 3
	ids := in.peer(peer).inv.Identities()
	if len(ids) == 0 || trustDomain == "" {
		return ""
	}
	var out []string
	for i, id := range ids {
		if i == shown {
			out = append(out, fmt.Sprintf("and %d more", len(ids)-shown))
			break
		}
		ns, sa, _ := strings.Cut(id, "/")
		out = append(out, fmt.Sprintf("%q", trustDomain+"/ns/"+ns+"/sa/"+sa))
	}
	return "; the peer's items run as " + strings.Join(out, ", ")
}

// warnPerPeerExports flags services exported to some peers and not others:
// OSSM 3 has no per-peer export; the east-west gateway lets every network
// that reaches it dial every listed host.
func warnPerPeerExports(p *exportPlan, f *diag.Findings) {
	if len(p.peers) < 2 {
		return
	}
	names := make([]federation.ServiceName, 0, len(p.exportedTo))
	for n := range p.exportedTo {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].String() < names[j].String() })
	for _, n := range names {
		to := p.exportedTo[n]
		if len(to) == len(p.peers) {
			continue
		}
		var missing []string
		for _, peer := range p.peers {
			if !to[peer] {
				missing = append(missing, peer)
			}
		}
		f.Warnf(&p.cfg.ref, "spec.peers", "Service %s is exported to %s but not to %s; OSSM 3 cannot export to specific peers only: every peer that reaches the east-west gateway can dial its hosts; to keep the restriction, add an AuthorizationPolicy on the service allowing only the intended peers' trust domains", n, strings.Join(sortedKeys(to), ", "), strings.Join(missing, ", "))
	}
}
