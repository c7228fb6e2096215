package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
)

// A live ExportedServiceSet or ImportedServiceSet (from the cluster, e.g.
// `kubectl get ... -o yaml`) carries what OSSM 2 itself resolved: the
// ground truth of what clients dial today. meshfed compares its own
// resolution of the rules over the items with it; every difference is an
// error naming both values, since generating from items that differ from
// the cluster would silently change what clients reach.

// checkExportStatus compares ess's status.exportedServices with the
// services meshfed's rules export.
func checkExportStatus(m *mesh, ess item[federation.ExportedServiceSet], exported []exportedService, f *diag.Findings) {
	if ess.val.Status == nil {
		return
	}
	mine := make(map[string]federation.ServiceKey, len(exported))
	entryHost := map[string]bool{}
	for _, e := range exported {
		name := federation.ExportedHost(e.exported, ess.val.Name)
		mine[name] = federation.ServiceKey{Name: e.svc.Name, Namespace: e.svc.Namespace}
		entryHost[name] = e.svc.Entry != nil
	}
	// OSSM 2 wrote the local service's hostname: a Service's cluster-domain
	// name, a ServiceEntry's host itself (its name is the host).
	sameHost := func(exportedName, hostname string, got federation.ServiceKey) bool {
		if entryHost[exportedName] {
			return hostname == got.Name
		}
		return strings.HasPrefix(hostname, got.Name+"."+got.Namespace+".svc.")
	}
	theirs := make(map[string]federation.ServiceKey, len(ess.val.Status))
	for i, st := range ess.val.Status {
		field := fmt.Sprintf("status.exportedServices[%d]", i)
		theirs[st.ExportedName] = st.LocalService
		got, ok := mine[st.ExportedName]
		switch {
		case !ok:
			f.Errorf(&ess.ref, field, "OSSM 2 exports %s (local service %s/%s), but meshfed's resolution of these rules over %s does not export it: the items differ from the cluster (is the Service missing, or its labels or %s annotation different?); make the items match the cluster, or remove the status if it is out of date", st.ExportedName, st.LocalService.Namespace, st.LocalService.Name, m.describe(), "networking.istio.io/exportTo")
		case got.Name != st.LocalService.Name || got.Namespace != st.LocalService.Namespace || !sameHost(st.ExportedName, st.LocalService.Hostname, got):
			f.Errorf(&ess.ref, field, "OSSM 2 exports %s from local service %s/%s (%s), but meshfed's resolution exports it from %s/%s: make the items match the cluster, or remove the status if it is out of date", st.ExportedName, st.LocalService.Namespace, st.LocalService.Name, st.LocalService.Hostname, got.Namespace, got.Name)
		}
	}
	for _, name := range sortedKeys(mine) {
		if _, ok := theirs[name]; !ok {
			got := mine[name]
			f.Errorf(&ess.ref, "status.exportedServices", "meshfed's resolution of these rules over %s exports %s (local service %s/%s), but OSSM 2 does not (it is not in status.exportedServices): the items differ from the cluster; make them match, or remove the status if it is out of date", m.describe(), name, got.Namespace, got.Name)
		}
	}
}

// checkImportStatus compares iss's status.importedServices, one entry per
// service the peer offered (empty localService when no rule matched), with
// meshfed's resolution: offered are the peer's exported services (exported
// under remote, the peer's ExportedServiceSet), imported what the rules made
// of them.
func checkImportStatus(iss item[federation.ImportedServiceSet], remote string, offered []exportedService, imported []importedService, f *diag.Findings) {
	if iss.val.Status == nil {
		return
	}
	mine := make(map[string]federation.ServiceKey, len(offered))
	for _, e := range offered {
		mine[federation.ExportedHost(e.exported, remote)] = federation.ServiceKey{}
	}
	for _, is := range imported {
		mine[federation.ExportedHost(is.exported, remote)] = federation.ServiceKey{Name: is.imported.Name.Name, Namespace: is.imported.Name.Namespace, Hostname: is.imported.Host}
	}
	describe := func(k federation.ServiceKey) string {
		if k == (federation.ServiceKey{}) {
			return "not imported (no rule matches)"
		}
		return fmt.Sprintf("imported as %s (%s/%s)", k.Hostname, k.Namespace, k.Name)
	}
	theirs := map[string]bool{}
	for i, st := range iss.val.Status {
		field := fmt.Sprintf("status.importedServices[%d]", i)
		theirs[st.ExportedName] = true
		got, ok := mine[st.ExportedName]
		switch {
		case !ok:
			f.Errorf(&iss.ref, field, "OSSM 2 was offered %s by peer %q (%s), but the peer's items (ExportedServiceSet %s and its Services) do not export it: the peer's reference data differs from the peer cluster; update it, or remove the status if it is out of date", st.ExportedName, iss.val.Name, describe(st.LocalService), remote)
		case got != st.LocalService:
			f.Errorf(&iss.ref, field, "OSSM 2 has %s %s, but meshfed's resolution of these rules has it %s: the rules or the peer's items differ from the cluster; make them match, or remove the status if it is out of date", st.ExportedName, describe(st.LocalService), describe(got))
		}
	}
	names := make([]string, 0, len(mine))
	for n := range mine {
		if !theirs[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		f.Errorf(&iss.ref, "status.importedServices", "the peer's items export %s (meshfed: %s), but OSSM 2 was never offered it (it is not in status.importedServices): the peer's reference data differs from the peer cluster; update it, or remove the status if it is out of date", n, describe(mine[n]))
	}
}

// remoteFromStatus infers the peer's name for this mesh (its
// ExportedServiceSet's name, P_E) from the exported names in an
// ImportedServiceSet's status: <name>.<namespace>.svc.<P_E>-exports.local
// (maistra/istio maistra-2.5 pkg/servicemesh/federation/server/server.go
// exportDomainSuffix). ok is false when the status says nothing; a status
// naming several is an error.
func remoteFromStatus(iss item[federation.ImportedServiceSet], f *diag.Findings) (string, bool) {
	found := map[string]bool{}
	for _, st := range iss.val.Status {
		rest, ok := strings.CutSuffix(st.ExportedName, "-exports.local")
		i := strings.LastIndex(rest, ".svc.")
		if !ok || i < 0 {
			continue
		}
		found[rest[i+len(".svc."):]] = true
	}
	names := sortedKeys(found)
	switch len(names) {
	case 0:
		return "", false
	case 1:
		return names[0], true
	default:
		f.Errorf(&iss.ref, "status.importedServices", "the exported names come from several ExportedServiceSets (%s); one ImportedServiceSet imports from one: fix the status, or set the MeshImport peer's remoteName", strings.Join(names, ", "))
		return "", false
	}
}
