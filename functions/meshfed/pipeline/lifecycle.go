package pipeline

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
)

// Pilot environment variables the migration needs.
const (
	// Lets istiod discover the istio-remote Gateways (off by default in the
	// Istio versions OSSM ships).
	multiNetworkGatewayAPIEnv = "PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API"
	// Lets proxies trust several roots: each mesh keeps its own CA.
	multiRootEnv = "ISTIO_MULTIROOT_MESH"
	// CutoverAnnotation marks a federation CR that Cutover retired.
	CutoverAnnotation = "meshfed.dev/retired-by"
)

func isControlPlane(o *kfn.KubeObject) bool {
	gk := o.GroupKind()
	return gk.Group == "maistra.io" && gk.Kind == "ServiceMeshControlPlane" ||
		gk.Group == "sailoperator.io" && gk.Kind == "Istio"
}

// lifecycle is what the configs of one run ask of the control plane.
type lifecycle struct {
	network      string   // this mesh's network, from a MeshExport
	trustDomains []string // the peers' trust domains, sorted
	rootCerts    []string // the peers' root certificates (PEM), when in the items
	cutover      []cutover
}

// cutover is one config in phase Cutover and the federation CRs it retires.
type cutover struct {
	cfg   config
	peers []string // ServiceMeshPeer names whose gateways go
	crs   []string // "<Kind>/<name>" of the translated federation CRs
}

func planLifecycle(in *input, exports []*exportPlan, imports []*importPlan, f *diag.Findings) lifecycle {
	var lc lifecycle
	tds := map[string]bool{}
	certs := map[string]bool{}
	addPeer := func(name, td string) {
		if td != "" {
			tds[td] = true
		}
		if smp, ok := in.local.peers[name]; ok {
			if pem := rootCertOf(in.local, smp.val); pem != "" {
				certs[pem] = true
			}
		}
	}
	for _, p := range exports {
		lc.network = p.cfg.export.Spec.Network
		cut := cutover{cfg: p.cfg}
		for _, name := range p.peers {
			smp, ok := in.local.peers[name]
			if ok {
				addPeer(name, smp.val.Spec.Security.TrustDomain)
				cut.peers = append(cut.peers, name)
				cut.crs = append(cut.crs, federation.KindServiceMeshPeer+"/"+name)
			}
			cut.crs = append(cut.crs, federation.KindExportedServiceSet+"/"+name)
		}
		if p.cfg.export.Spec.Phase == v1alpha1.PhaseCutover {
			lc.cutover = append(lc.cutover, cut)
		}
		warnPerPeerExports(p, f)
	}
	for _, p := range imports {
		cut := cutover{cfg: p.cfg}
		for _, pp := range p.peers {
			addPeer(pp.peer.Name, pp.trustDomain)
			if _, ok := in.local.peers[pp.peer.Name]; ok {
				cut.peers = append(cut.peers, pp.peer.Name)
				cut.crs = append(cut.crs, federation.KindServiceMeshPeer+"/"+pp.peer.Name)
			}
			cut.crs = append(cut.crs, federation.KindImportedServiceSet+"/"+pp.peer.Name)
			warnAliasedIdentities(in, p, pp, f)
		}
		if p.cfg.imp.Spec.Phase == v1alpha1.PhaseCutover {
			lc.cutover = append(lc.cutover, cut)
		}
	}
	lc.trustDomains = sortedKeys(tds)
	lc.rootCerts = sortedKeys(certs)
	return lc
}

// rootCertOf returns the peer's root certificate from the ConfigMap its
// ServiceMeshPeer names, when that ConfigMap is among the items.
func rootCertOf(m *mesh, smp federation.ServiceMeshPeer) string {
	name := smp.Name + "-ca-root-cert"
	if ref := smp.Spec.Security.CertificateChain; ref != nil && ref.Name != "" {
		name = ref.Name
	}
	cm, ok := m.configMaps[federation.ServiceName{Name: name, Namespace: smp.Namespace}]
	if !ok {
		return ""
	}
	pem, _, _ := cm.NestedString("data", "root-cert.pem")
	return pem
}

// applyLifecycle patches the control plane, retires federation CRs in
// Cutover and reviews AuthorizationPolicies. It only runs when nothing
// failed, so an error never leaves half-patched items.
func applyLifecycle(in *input, lc lifecycle, f *diag.Findings) {
	if len(in.local.controlPlanes) == 0 {
		f.Infof(nil, "", "no ServiceMeshControlPlane (maistra.io/v2) or Istio (sailoperator.io/v1) among this mesh's items; apply these settings to the control plane yourself: %s", smcpPatchText(lc))
	}
	for _, cp := range in.local.controlPlanes {
		ref := diag.RefOf(cp)
		var changed []string
		if cp.GroupKind().Group == "maistra.io" {
			changed = patchSMCP(cp, lc)
		} else {
			changed = patchSailIstio(cp, lc)
		}
		if len(changed) > 0 {
			f.Infof(&ref, "", "control plane prepared for multi-cluster: set %s", strings.Join(changed, ", "))
		}
	}
	for _, c := range lc.cutover {
		retire(in, c, f)
	}
	reviewAuthorizationPolicies(in, f)
}

func patchSMCP(cp *kfn.KubeObject, lc lifecycle) []string {
	var changed []string
	if addStrings(cp, lc.trustDomains, "spec", "techPreview", "meshConfig", "trustDomainAliases") {
		changed = append(changed, "spec.techPreview.meshConfig.trustDomainAliases")
	}
	if setString(cp, "true", "spec", "runtime", "components", "pilot", "container", "env", multiNetworkGatewayAPIEnv) {
		changed = append(changed, "spec.runtime.components.pilot.container.env."+multiNetworkGatewayAPIEnv)
	}
	if lc.network != "" && setString(cp, lc.network, "spec", "cluster", "network") {
		changed = append(changed, "spec.cluster.network")
	}
	if setBool(cp, false, "spec", "security", "manageNetworkPolicy") {
		changed = append(changed, "spec.security.manageNetworkPolicy")
	}
	return changed
}

func patchSailIstio(cp *kfn.KubeObject, lc lifecycle) []string {
	var changed []string
	if addStrings(cp, lc.trustDomains, "spec", "values", "meshConfig", "trustDomainAliases") {
		changed = append(changed, "spec.values.meshConfig.trustDomainAliases")
	}
	if setString(cp, "true", "spec", "values", "pilot", "env", multiNetworkGatewayAPIEnv) {
		changed = append(changed, "spec.values.pilot.env."+multiNetworkGatewayAPIEnv)
	}
	if lc.network != "" && setString(cp, lc.network, "spec", "values", "global", "network") {
		changed = append(changed, "spec.values.global.network")
	}
	if addCACertificates(cp, lc.rootCerts) {
		changed = append(changed, "spec.values.meshConfig.caCertificates")
	}
	if len(lc.rootCerts) > 0 && setString(cp, "true", "spec", "values", "pilot", "env", multiRootEnv) {
		changed = append(changed, "spec.values.pilot.env."+multiRootEnv)
	}
	return changed
}

// smcpPatchText is the guide's "Configure control plane" patch for the
// settings this run needs.
func smcpPatchText(lc lifecycle) string {
	spec := map[string]any{
		"runtime":  map[string]any{"components": map[string]any{"pilot": map[string]any{"container": map[string]any{"env": map[string]any{multiNetworkGatewayAPIEnv: "true"}}}}},
		"security": map[string]any{"manageNetworkPolicy": false},
	}
	if len(lc.trustDomains) > 0 {
		spec["techPreview"] = map[string]any{"meshConfig": map[string]any{"trustDomainAliases": lc.trustDomains}}
	}
	if lc.network != "" {
		spec["cluster"] = map[string]any{"network": lc.network}
	}
	b, _ := json.Marshal(map[string]any{"spec": spec})
	return fmt.Sprintf("kubectl patch smcp <name> -n <control-plane namespace> --type=merge -p '%s' (OSSM 3 Istio: the same under spec.values: meshConfig.trustDomainAliases, global.network, pilot.env)", b)
}

// retire marks the federation CRs a Cutover config translated as
// local-config, which takes them out of what kustomize, Argo CD and
// `kpt live apply` apply, so the GitOps controller prunes them; they stay in
// the package as meshfed's input, so running again changes nothing. It also
// removes the peers' federation gateways from the ServiceMeshControlPlane.
func retire(in *input, c cutover, f *diag.Findings) {
	var retired []string
	for _, key := range c.crs {
		o, ok := in.local.federationObjects[key]
		if !ok {
			continue
		}
		if o.GetAnnotation(CutoverAnnotation) != c.cfg.key() {
			_ = o.SetAnnotation(fn.LocalConfigAnnotation, "true")
			_ = o.SetAnnotation(CutoverAnnotation, c.cfg.key())
			retired = append(retired, key)
		}
	}
	var gateways []string
	for _, name := range c.peers {
		smp := in.local.peers[name].val
		for _, cp := range in.local.controlPlanes {
			if cp.GroupKind().Group != "maistra.io" {
				continue
			}
			for _, g := range []struct{ field, name string }{
				{"additionalIngress", smp.Spec.Gateways.Ingress.Name},
				{"additionalEgress", smp.Spec.Gateways.Egress.Name},
			} {
				if g.name != "" && removeMapEntry(cp, g.name, "spec", "gateways", g.field) {
					gateways = append(gateways, "spec.gateways."+g.field+"."+g.name)
				}
			}
		}
	}
	if len(retired)+len(gateways) > 0 {
		sort.Strings(gateways)
		f.Infof(&c.cfg.ref, "spec.phase", "Cutover: federation resources retired (marked %s so they are no longer applied and get pruned): %s; federation gateways removed from the ServiceMeshControlPlane: %s", fn.LocalConfigAnnotation, orNone(retired), orNone(gateways))
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// setString sets a string field unless it already has that value, so an
// unchanged item keeps its exact formatting.
func setString(o *kfn.KubeObject, v string, fields ...string) bool {
	if cur, found, err := o.NestedString(fields...); err == nil && found && cur == v {
		return false
	}
	_ = o.SetNestedField(v, fields...)
	return true
}

func setBool(o *kfn.KubeObject, v bool, fields ...string) bool {
	if cur, found, err := o.NestedBool(fields...); err == nil && found && cur == v {
		return false
	}
	_ = o.SetNestedField(v, fields...)
	return true
}

// addStrings appends the values a string list lacks, keeping its entries.
func addStrings(o *kfn.KubeObject, values []string, fields ...string) bool {
	cur, _, _ := o.NestedStringSlice(fields...)
	have := map[string]bool{}
	for _, c := range cur {
		have[c] = true
	}
	out := append([]string(nil), cur...)
	for _, v := range values {
		if !have[v] {
			out = append(out, v)
		}
	}
	if len(out) == len(cur) {
		return false
	}
	_ = o.SetNestedStringSlice(out, fields...)
	return true
}

func addCACertificates(o *kfn.KubeObject, pems []string) bool {
	fields := []string{"spec", "values", "meshConfig", "caCertificates"}
	var list []any
	if sub, found, err := o.NestedSubObject(fields[:len(fields)-1]...); err == nil && found {
		var mc map[string]any
		if sub.As(&mc) == nil {
			list, _ = mc["caCertificates"].([]any)
		}
	}
	have := map[string]bool{}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if p, ok := m["pem"].(string); ok {
				have[p] = true
			}
		}
	}
	added := false
	for _, p := range pems {
		if !have[p] {
			list = append(list, map[string]any{"pem": p})
			added = true
		}
	}
	if added {
		_ = o.SetNestedField(list, fields...)
	}
	return added
}

// removeMapEntry deletes key from the map at fields, and the map itself
// when it becomes empty.
func removeMapEntry(o *kfn.KubeObject, key string, fields ...string) bool {
	removed, _ := o.RemoveNestedField(append(append([]string(nil), fields...), key)...)
	if !removed {
		return false
	}
	if sub, found, err := o.NestedSubObject(fields...); err == nil && found {
		var m map[string]any
		if sub.As(&m) == nil && len(m) == 0 {
			_, _ = o.RemoveNestedField(fields...)
		}
	}
	return true
}
