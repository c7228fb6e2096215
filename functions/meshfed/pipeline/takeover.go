package pipeline

import (
	"fmt"

	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/hostname"
)

// Hostname takeover. A ServiceEntry meshfed generates for a name in a
// cluster's own domain decides where that cluster's clients go when they
// dial the name. Peer reference data (an ImportedServiceSet's alias, an
// ExportedServiceSet's alias) and explicit hosts could otherwise make meshfed
// generate entries for kubernetes.default.svc.cluster.local or
// istiod.istio-system.svc.cluster.local that select an exported app's pods.
// The rules, on both sides, for a host in the cluster's own domain:
//
//   - it must be a Service name, <name>.<namespace>.svc.<domain> (not a
//     pod's name, a namespace's, or the domain itself);
//   - it must not be reserved (hostname.Reserved: the API server's Service,
//     Kubernetes' and OpenShift's system namespaces, istio-system, the
//     control plane's and the east-west gateway's namespaces);
//   - unless it is the exported Service's own name, it must be provably
//     free (exportFree, importFree).
//
// Hosts outside the cluster's domain (<name>-imports.local, a
// domainSuffix) cannot name a Kubernetes Service and are not restricted.

// platformNamespaces are the namespaces of this mesh's control planes
// (a ServiceMeshControlPlane's own namespace; a sail Istio's
// spec.namespace, default istio-system) and the extra ones given.
func platformNamespaces(m *mesh, extra ...string) []string {
	out := append([]string(nil), extra...)
	for _, cp := range m.controlPlanes {
		if cp.GroupKind().Group == "maistra.io" {
			out = append(out, cp.GetNamespace())
			continue
		}
		ns, _, _ := cp.NestedString("spec", "namespace")
		if ns == "" {
			ns = "istio-system"
		}
		out = append(out, ns)
	}
	return out
}

// takeover says why meshfed must not generate a ServiceEntry (or expose a
// host) for host in domain; "" when it may. own reports whether host is
// the exported Service's own name; free decides, for any other Service name
// in the domain, whether it is provably free (and if not, says why).
//
// A host of the form <pod>.<service>.<namespace>.svc.<domain> is the DNS
// name of a pod under the headless Service <namespace>/<service>; it is
// provably free when that namespace is not reserved and no Service of that
// name is among this mesh's items (services). Any other name in the
// domain (a pod's <ip>.<namespace>.pod.<domain>, the domain itself) is
// Kubernetes' and refused.
func takeover(host, domain string, platform []string, own bool, free func(name, namespace string) (string, bool), services func(name, namespace string) bool) string {
	name, namespace, inDomain, isService := hostname.ClusterService(host, domain)
	if !inDomain {
		return ""
	}
	if !isService {
		pod, svc, ns, ok := hostname.PodOfService(host, domain)
		if !ok {
			return fmt.Sprintf("it is in the cluster domain %s but is neither a Service name (<name>.<namespace>.svc.%s) nor a pod's under one: an entry for it would capture what clients there resolve for a name Kubernetes owns; use a name outside %s", domain, domain, domain)
		}
		if why, reserved := hostname.Reserved(svc, ns, platform...); reserved {
			return fmt.Sprintf("it is the DNS name of pod %s under Service %s/%s, in a system namespace (%s); use a name outside %s", pod, ns, svc, why, domain)
		}
		if services(svc, ns) {
			return fmt.Sprintf("it is the DNS name of pod %s under this mesh's Service %s/%s: an entry for it would take that pod's name over; use a name outside %s", pod, ns, svc, domain)
		}
		return ""
	}
	if why, reserved := hostname.Reserved(name, namespace, platform...); reserved {
		return fmt.Sprintf("it names a system service of the cluster (%s): an entry for it would redirect the mesh's clients of that service to the exported workloads; use a name outside %s", why, domain)
	}
	if own {
		return ""
	}
	if why, ok := free(name, namespace); !ok {
		return why
	}
	return ""
}

// exportFree: on the exporting cluster, a Service name in cluster.local
// other than the exported Service's own is provably free when no Service
// of that name is among this mesh's items, which meshfed takes as the truth
// about this mesh (realServiceOf rejects the other case, with the Service
// it would reach). What the items cannot show, a Service created outside
// git, the entry's exportTo bounds: it is visible only in the exported
// Service's namespace and the east-west gateway's (exportEntryVisibility).
func exportFree(name, namespace string) (string, bool) { return "", true }

// importFree: on the importing cluster, an import whose host is a Service
// name in this cluster's domain other than the peer Service's own name
// (an alias renamed it) is allowed only when its rule imports it as local:
// importAsLocal means exactly that the imported endpoints join this
// cluster's Service of that name. Any other rule (a domainSuffix or alias
// that happens to land in the cluster domain) would take the name over.
func importFree(asLocal bool) func(name, namespace string) (string, bool) {
	return func(name, namespace string) (string, bool) {
		if asLocal {
			return "", true
		}
		return fmt.Sprintf("the rule renames it into this cluster's own Service names without importing it as local (importAsLocal), so its entry would take the name %s/%s over; set importAsLocal on the rule, or use a name outside the cluster domain", namespace, name), false
	}
}

// hasService reports whether the mesh's items hold Service namespace/name.
func (m *mesh) hasService(name, namespace string) bool {
	_, ok := m.inv.Service(federation.ServiceName{Name: name, Namespace: namespace})
	return ok
}
