package pipeline

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/krm"
)

// The control-plane settings the migration needs, with where each comes
// from. The OSSM 3 (sail Istio) values are those of the Istio that Red Hat's
// end-to-end migration test installs (maistra/maistra-test-tool
// pkg/tests/tasks/migration/testdata/federation/{east,west}/istio.yaml).
const (
	// Lets istiod discover the istio-remote Gateways. Off by default up to
	// Istio 1.22 (istio/istio release-1.22 pilot/pkg/features/pilot.go:172),
	// on from 1.23 (release-1.23 and release-1.24 pilot/pkg/features/pilot.go:180):
	// needed on the OSSM 2.6 SMCP (its istiod is older), not on OSSM 3.
	multiNetworkGatewayAPIEnv = "PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API"
	// Lets proxies trust several roots: each mesh keeps its own CA
	// (release-1.24 pilot/pkg/features/pilot.go:165, default false).
	multiRootEnv = "ISTIO_MULTIROOT_MESH"
	// Makes the sidecar's agent answer DNS: imported hosts such as
	// *.west-mesh-imports.local have no DNS record anywhere else (release-1.24
	// pilot/cmd/pilot-agent/options/options.go:103, default false).
	dnsCaptureEnv = "ISTIO_META_DNS_CAPTURE"
	// OSSM 2's per-proxy address allocation for ServiceEntries, on by
	// default in OSSM 2.6 (maistra/istio-operator resources/helm/v2.6/global.yaml
	// meshConfig.defaultConfig.proxyMetadata).
	dnsAutoAllocateEnv = "ISTIO_META_DNS_AUTO_ALLOCATE"
	// istiod's ServiceEntry address allocator: address-less ServiceEntries
	// get an address, so the DNS proxy can answer them and TCP ports work
	// (release-1.24 pilot/pkg/features/pilot.go:139: default false; true from 1.25).
	ipAutoallocateEnv = "PILOT_ENABLE_IP_AUTOALLOCATE"
	// Sends the mesh's ProxyConfig, with the extra roots of caCertificates,
	// to the agent over xDS (release-1.24 pilot/cmd/pilot-agent/options/options.go:118).
	proxyConfigXDSAgentEnv = "PROXY_CONFIG_XDS_AGENT"
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
	network      string   // this mesh's network (a config's spec.network, else a control plane's)
	trustDomains []string // the peers' trust domains, sorted
	rootCerts    []string // the peers' root certificates (PEM), when in the items
	// missingRoots names the peers' root-certificate ConfigMaps that are not
	// among the items, for the info result.
	missingRoots []string
	// trustDomain is this mesh's own, from its ServiceMeshControlPlane: the
	// OSSM 3 Istio must keep it, or every workload's identity changes.
	trustDomain string
	cutover     []cutover
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
	missing := map[string]bool{}
	addPeer := func(name, td string) {
		if td != "" {
			tds[td] = true
		}
		if smp, ok := in.local.peers[name]; ok {
			pem, cm := rootCertOf(in.local, smp.val)
			switch {
			case pem != "":
				certs[pem] = true
			case smp.val.Spec.Security.TrustDomain != "":
				// OSSM 2 loaded this root for a peer with its own trust domain
				// (discovery/controller.go getRootCertForMesh).
				missing[cm.String()] = true
			}
		}
	}
	for _, p := range exports {
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
	lc.network = planNetwork(in, exports, imports, f)
	for _, cp := range in.local.controlPlanes {
		if td, _, _ := cp.NestedString("spec", "security", "trust", "domain"); td != "" && cp.GroupKind().Group == "maistra.io" {
			lc.trustDomain = td
			break
		}
	}
	lc.trustDomains = sortedKeys(tds)
	lc.rootCerts = sortedKeys(certs)
	lc.missingRoots = sortedKeys(missing)
	return lc
}

// planNetwork decides this mesh's own network: the one its configs name
// (a MeshExport's spec.network, a MeshImport's), else the one its control
// plane already has. Every mesh needs one, importers included: a proxy
// without a network treats the peer's address-less WorkloadEntries as
// directly reachable and never sends their traffic through the peer's
// gateway (istio/istio#58612).
func planNetwork(in *input, exports []*exportPlan, imports []*importPlan, f *diag.Findings) string {
	var network, from string
	name := func(c config, field string) string { return c.key() + " " + field }
	add := func(c config, v string) {
		switch {
		case v == "":
		case network == "":
			network, from = v, name(c, "spec.network")
		case v != network:
			f.Errorf(&c.ref, "spec.network", "this cluster's network is given twice with different values: %q by %s and %q here; a cluster has one network: make them equal", network, from, v)
		}
	}
	for _, p := range exports {
		add(p.cfg, p.cfg.export.Spec.Network)
	}
	for _, p := range imports {
		add(p.cfg, p.cfg.imp.Spec.Network)
	}
	if network == "" {
		for _, cp := range in.local.controlPlanes {
			if v, field := controlPlaneNetwork(cp); v != "" {
				network, from = v, fmt.Sprintf("%s %s/%s %s", cp.GetKind(), cp.GetNamespace(), cp.GetName(), field)
				break
			}
		}
	}
	if network == "" {
		for _, p := range imports {
			f.Errorf(&p.cfg.ref, "spec.network", "is required: set it to this cluster's own network name, e.g. `network-east-mesh` (it becomes the ServiceMeshControlPlane's spec.cluster.network and the OSSM 3 Istio's values.global.network); without a network of its own a proxy treats the peer's address-less WorkloadEntries as directly reachable and never routes them through the peer's gateway (istio/istio#58612). It may be left out when a MeshExport in the same step, or a control plane among the items, names the network")
		}
		return ""
	}
	// The local network must be none of the networks that stand for a peer.
	for _, p := range imports {
		for i, pp := range p.peers {
			if pp.peer.Network == network {
				f.Errorf(&p.cfg.ref, fmt.Sprintf("spec.peers[%d].network", i), "%q is also this cluster's own network (%s): a proxy would then dial the peer's workloads directly instead of through its east-west gateway; give the peer's gateway another network name", network, from)
			}
		}
	}
	peers := map[string]config{}
	for _, p := range exports {
		for _, n := range p.peers {
			peers[n] = p.cfg
		}
	}
	for _, p := range imports {
		for _, pp := range p.peers {
			peers[pp.peer.Name] = p.cfg
		}
	}
	for _, n := range sortedKeys(peers) {
		if network == "network-"+n {
			c := peers[n]
			f.Errorf(&c.ref, "spec.network", "this cluster's network %q (%s) is the network OSSM 2 federation gives peer %q: while federation runs, istiod would take this cluster's endpoints for that peer's; choose another name", network, from, n)
		}
	}
	return network
}

// controlPlaneNetwork returns the network a control plane item names, and
// the field.
func controlPlaneNetwork(cp *kfn.KubeObject) (string, string) {
	fields := sailNetworkField
	if cp.GroupKind().Group == "maistra.io" {
		fields = smcpNetworkField
	}
	v, _, _ := cp.NestedString(fields...)
	return v, strings.Join(fields, ".")
}

var (
	smcpNetworkField = []string{"spec", "cluster", "network"}
	sailNetworkField = []string{"spec", "values", "global", "network"}
)

// rootCertOf returns the peer's root certificate from the ConfigMap its
// ServiceMeshPeer names (default <peer>-ca-root-cert, key root-cert.pem, as
// OSSM 2 read it), or "" when that ConfigMap is not among the items, and
// the ConfigMap's name.
func rootCertOf(m *mesh, smp federation.ServiceMeshPeer) (string, federation.ServiceName) {
	name := smp.Name + "-ca-root-cert"
	if ref := smp.Spec.Security.CertificateChain; ref != nil && ref.Name != "" {
		name = ref.Name
	}
	key := federation.ServiceName{Name: name, Namespace: smp.Namespace}
	cm, ok := m.configMaps[key]
	if !ok {
		return "", key
	}
	pem, _, _ := cm.NestedString("data", "root-cert.pem")
	return pem, key
}

// applyLifecycle patches the control plane, retires federation CRs in
// Cutover and reviews AuthorizationPolicies. It only runs when nothing
// failed, so an error never leaves half-patched items.
func applyLifecycle(in *input, lc lifecycle, f *diag.Findings) {
	if len(in.local.controlPlanes) == 0 {
		f.Infof(nil, "", "no ServiceMeshControlPlane (maistra.io/v2) or Istio (sailoperator.io/v1) among this mesh's items; apply these settings to the control planes yourself. OSSM 2.6, before anything else: %s. OSSM 3, when you install it: %s%s", smcpPatchText(lc), sailPatchText(lc), missingRootsText(lc))
	}
	for _, cp := range in.local.controlPlanes {
		ref := diag.RefOfMeta(krm.MetaOf(cp))
		p := &cpPatch{obj: cp, ref: ref, f: f}
		if cp.GroupKind().Group == "maistra.io" {
			patchSMCP(p, lc)
		} else {
			patchSailIstio(p, lc)
		}
		if len(p.changed) > 0 {
			f.Infof(&ref, "", "control plane prepared for multi-cluster: set %s", strings.Join(p.changed, ", "))
		}
	}
	if len(in.local.controlPlanes) > 0 && len(lc.missingRoots) > 0 {
		f.Infof(nil, "", "%s", strings.TrimPrefix(missingRootsText(lc), "; "))
	}
	for _, c := range lc.cutover {
		retire(in, c, f)
	}
	afterApply(in, lc, f)
	reviewAuthorizationPolicies(in, f)
}

// cpPatch applies settings to one control plane item: a missing value is
// set, an equal one left alone, a different one kept with a warning that
// names it (the user may have a reason meshfed cannot see).
type cpPatch struct {
	obj     *kfn.KubeObject
	ref     diag.Ref
	f       *diag.Findings
	changed []string
}

// set makes the scalar at fields want (a string or a bool) unless it holds
// another value.
func (p *cpPatch) set(want any, why string, fields ...string) {
	path := strings.Join(fields, ".")
	cur, found := scalarAt(p.obj, fields...)
	switch {
	case !found:
		_ = p.obj.SetNestedField(want, fields...)
		p.changed = append(p.changed, path)
	case cur != fmt.Sprint(want) || !sameKind(p.obj, want, fields...):
		p.f.Warnf(&p.ref, path, "is %s, but the migration needs %s: %s; meshfed keeps the existing value, change it unless you know it is right", quoteScalar(p.obj, fields...), quoteWant(want), why)
	}
}

// scalarAt returns the scalar at fields in its YAML form.
func scalarAt(o *kfn.KubeObject, fields ...string) (string, bool) {
	if v, found, err := o.NestedString(fields...); err == nil && found {
		return v, true
	}
	if v, found, err := o.NestedBool(fields...); err == nil && found {
		return fmt.Sprint(v), true
	}
	if v, found, err := o.NestedInt64(fields...); err == nil && found {
		return fmt.Sprint(v), true
	}
	if sub, found, err := o.NestedSubObject(fields...); err == nil && found {
		return sub.String(), true
	}
	if _, found, err := o.NestedSlice(fields...); err == nil && found {
		return "a list", true
	}
	return "", false
}

// sameKind: "true" the string is not true the bool; the CRDs type env
// values as strings and manageNetworkPolicy as a bool.
func sameKind(o *kfn.KubeObject, want any, fields ...string) bool {
	switch want.(type) {
	case string:
		_, found, err := o.NestedString(fields...)
		return err == nil && found
	case bool:
		_, found, err := o.NestedBool(fields...)
		return err == nil && found
	}
	return false
}

func quoteScalar(o *kfn.KubeObject, fields ...string) string {
	if v, found, err := o.NestedString(fields...); err == nil && found {
		return fmt.Sprintf("%q", v)
	}
	v, _ := scalarAt(o, fields...)
	return v
}

func quoteWant(want any) string {
	if s, ok := want.(string); ok {
		return fmt.Sprintf("%q (a string)", s)
	}
	return fmt.Sprint(want)
}

// Why each setting is needed, for the conflict warnings.
const (
	whyNetwork       = "this cluster's network; a proxy without it treats the peer's address-less WorkloadEntries as directly reachable and never uses the peer's gateway"
	whyGatewayAPI    = "istiod must discover the istio-remote Gateways that stand for the peers' networks"
	whyNetworkPolicy = "the operator's NetworkPolicies would keep the peers' traffic from reaching the new east-west gateway directly"
	whyTrustDomain   = "it is this mesh's trust domain in its ServiceMeshControlPlane (spec.security.trust.domain): with another one every workload's identity would change"
	whyDNSCapture    = "the imported hostnames have no DNS record: only the sidecar's DNS proxy answers them"
	whyAutoAllocate  = "address-less ServiceEntries need an address for the DNS proxy to answer them and for TCP ports"
	whyMultiRoot     = "each mesh keeps its own root certificate, so proxies must trust several"
	whyXDSAgent      = "the extra roots of meshConfig.caCertificates reach the proxies through the agent's xDS"
)

// patchSMCP applies the guide's "Configure control plane" step to an OSSM
// 2.6 ServiceMeshControlPlane.
func patchSMCP(p *cpPatch, lc lifecycle) {
	if addStrings(p.obj, lc.trustDomains, "spec", "techPreview", "meshConfig", "trustDomainAliases") {
		p.changed = append(p.changed, "spec.techPreview.meshConfig.trustDomainAliases")
	}
	p.set("true", whyGatewayAPI, "spec", "runtime", "components", "pilot", "container", "env", multiNetworkGatewayAPIEnv)
	if lc.network != "" {
		p.set(lc.network, whyNetwork, smcpNetworkField...)
	}
	p.set(false, whyNetworkPolicy, "spec", "security", "manageNetworkPolicy")
	checkSMCPDNS(p)
}

// checkSMCPDNS: during Coexist the OSSM 2.6 sidecars resolve the new
// ServiceEntries' hosts themselves, with the DNS capture and per-proxy
// address allocation that OSSM 2.6 turns on by default
// (maistra/istio-operator resources/helm/v2.6/global.yaml,
// meshConfig.defaultConfig.proxyMetadata). Nothing needs setting, but an
// SMCP that turns either off breaks the imported names; the SMCP reaches
// that map through spec.proxy.runtime.container.env (maistra/istio-operator
// pkg/apis/maistra/conversion/proxy.go, populateProxyValues) and
// spec.techPreview.meshConfig.
func checkSMCPDNS(p *cpPatch) {
	for _, env := range []string{dnsCaptureEnv, dnsAutoAllocateEnv} {
		for _, fields := range [][]string{
			{"spec", "proxy", "runtime", "container", "env", env},
			{"spec", "techPreview", "meshConfig", "defaultConfig", "proxyMetadata", env},
		} {
			if cur, found := scalarAt(p.obj, fields...); found && cur != "true" {
				p.f.Warnf(&p.ref, strings.Join(fields, "."), "is %s, which turns off what OSSM 2.6 enables by default: the OSSM 2.6 sidecars could not resolve the imported hostnames (they have no DNS record) during the migration; remove it or set it to \"true\"", quoteScalar(p.obj, fields...))
			}
		}
	}
}

// patchSailIstio gives an OSSM 3 Istio what the tested migration's Istio
// has.
func patchSailIstio(p *cpPatch, lc lifecycle) {
	if addStrings(p.obj, lc.trustDomains, "spec", "values", "meshConfig", "trustDomainAliases") {
		p.changed = append(p.changed, "spec.values.meshConfig.trustDomainAliases")
	}
	if lc.network != "" {
		p.set(lc.network, whyNetwork, sailNetworkField...)
	}
	if lc.trustDomain != "" {
		p.set(lc.trustDomain, whyTrustDomain, "spec", "values", "meshConfig", "trustDomain")
	}
	p.set("true", whyDNSCapture, "spec", "values", "meshConfig", "defaultConfig", "proxyMetadata", dnsCaptureEnv)
	p.set("true", whyAutoAllocate, "spec", "values", "pilot", "env", ipAutoallocateEnv)
	if len(lc.rootCerts) > 0 {
		if addCACertificates(p.obj, lc.rootCerts) {
			p.changed = append(p.changed, "spec.values.meshConfig.caCertificates")
		}
		p.set("true", whyMultiRoot, "spec", "values", "pilot", "env", multiRootEnv)
		p.set("true", whyXDSAgent, "spec", "values", "meshConfig", "defaultConfig", "proxyMetadata", proxyConfigXDSAgentEnv)
	}
	// Istio 1.23 and later discover istio-remote Gateways by default; an
	// older Istio needs the flag, and an explicit "false" turns it off.
	fields := []string{"spec", "values", "pilot", "env", multiNetworkGatewayAPIEnv}
	if v, found := scalarAt(p.obj, fields...); found || istioBefore123(p.obj) {
		if !found || v != "true" {
			p.set("true", whyGatewayAPI, fields...)
		}
	}
}

// istioBefore123 reports whether an Istio's spec.version names an Istio
// older than 1.23 (e.g. v1.22.5); an absent or other version is newer.
func istioBefore123(o *kfn.KubeObject) bool {
	v, _, _ := o.NestedString("spec", "version")
	rest, ok := strings.CutPrefix(v, "v1.")
	if !ok {
		return false
	}
	minor, _, _ := strings.Cut(rest, ".")
	minor, _, _ = strings.Cut(minor, "-")
	n, err := strconv.Atoi(minor)
	return err == nil && n < 23
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
	return fmt.Sprintf("kubectl patch smcp <name> -n <control-plane namespace> --type=merge -p '%s'", b)
}

// sailPatchText is the same for an OSSM 3 Istio.
func sailPatchText(lc lifecycle) string {
	proxyMetadata := map[string]any{dnsCaptureEnv: "true"}
	pilotEnv := map[string]any{ipAutoallocateEnv: "true"}
	meshConfig := map[string]any{"defaultConfig": map[string]any{"proxyMetadata": proxyMetadata}}
	values := map[string]any{"meshConfig": meshConfig, "pilot": map[string]any{"env": pilotEnv}}
	if len(lc.trustDomains) > 0 {
		meshConfig["trustDomainAliases"] = lc.trustDomains
	}
	if lc.network != "" {
		values["global"] = map[string]any{"network": lc.network}
	}
	if len(lc.rootCerts) > 0 {
		var cas []any
		for _, pem := range lc.rootCerts {
			cas = append(cas, map[string]any{"pem": pem})
		}
		meshConfig["caCertificates"] = cas
		pilotEnv[multiRootEnv] = "true"
		proxyMetadata[proxyConfigXDSAgentEnv] = "true"
	}
	b, _ := json.Marshal(map[string]any{"spec": map[string]any{"values": values}})
	return fmt.Sprintf("kubectl patch istio <name> --type=merge -p '%s' (keep values.meshConfig.trustDomain this mesh's trust domain, as the SMCP's spec.security.trust.domain)", b)
}

func missingRootsText(lc lifecycle) string {
	if len(lc.missingRoots) == 0 {
		return ""
	}
	return fmt.Sprintf("; the peers' root certificates (ConfigMap %s, key root-cert.pem) are not among the items: add them so that meshfed sets the OSSM 3 Istio's meshConfig.caCertificates, %s and %s, or set those yourself when the meshes' roots differ", strings.Join(lc.missingRoots, ", "), multiRootEnv, proxyConfigXDSAgentEnv)
}

// retire marks the federation CRs a Cutover config translated as
// local-config, which takes them out of what kustomize, Argo CD and
// `kpt live apply` apply, so the GitOps controller prunes them; they stay in
// the package as meshfed's input, so running again changes nothing. It also
// removes the peers' federation gateways from the ServiceMeshControlPlane.
func retire(in *input, c cutover, f *diag.Findings) {
	var retired, byHand []string
	for _, key := range c.crs {
		o, ok := in.local.federationObjects[key]
		if !ok {
			continue
		}
		if o.GetAnnotation(fromListAnnotation) != "" {
			kind, name, _ := strings.Cut(key, "/")
			byHand = append(byHand, fmt.Sprintf("kubectl delete %s %s -n %s", strings.ToLower(kind), name, o.GetNamespace()))
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
	if len(byHand) > 0 {
		f.Infof(&c.cfg.ref, "spec.phase", "Cutover: these federation resources were read from a v1 List (a cluster's live objects, not in git), which meshfed never changes; once the new objects work, delete them by hand: %s", strings.Join(byHand, "; "))
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

// afterApply says what the tested migration still does by hand once the
// output is applied (maistra/maistra-test-tool
// pkg/tests/tasks/migration/federation_test.go): in Coexist, restart the
// importing clients (lines 185-188: the new ServiceEntries' endpoints are
// not always pushed while the federation registry owns the same host); in
// Cutover, move every namespace to the OSSM 3 revision and restart its
// workloads (migrateWorkloadsToOSSM3, lines 438-466: label the namespace
// maistra.io/ignore-namespace="true", istio-injection-,
// istio.io/rev=<the Istio's status.activeRevisionName>), and label the
// east-west Gateway itself, not its namespace, with the revision and
// maistra.io/ignore=true (lines 468-471).
func afterApply(in *input, lc lifecycle, f *diag.Findings) {
	cp := controlPlaneNamespaces(in.local)
	var namespaces []string
	kinds := map[string][]string{}
	for wk := range in.local.workloadKinds {
		if cp[wk.namespace] {
			continue
		}
		if len(kinds[wk.namespace]) == 0 {
			namespaces = append(namespaces, wk.namespace)
		}
		kinds[wk.namespace] = append(kinds[wk.namespace], wk.kind)
	}
	sort.Strings(namespaces)
	restart := func(ns string) []string {
		var out []string
		ks := kinds[ns]
		sort.Strings(ks)
		for _, k := range ks {
			if k == "Pod" {
				out = append(out, fmt.Sprintf("delete and re-create the bare Pods in %s", ns))
				continue
			}
			out = append(out, fmt.Sprintf("kubectl rollout restart %s -n %s", strings.ToLower(k), ns))
		}
		return out
	}
	if len(namespaces) == 0 {
		namespaces = []string{"<namespace>"}
		kinds["<namespace>"] = []string{"Deployment"}
	}
	cutover := map[string]bool{}
	for _, c := range lc.cutover {
		cutover[c.cfg.key()] = true
	}
	for _, c := range in.configs {
		if c.imp != nil && !cutover[c.key()] {
			var cmds []string
			for _, ns := range namespaces {
				cmds = append(cmds, restart(ns)...)
			}
			f.Infof(&c.ref, "spec.phase", "after applying, restart the client workloads so that their proxies get the new ServiceEntries' endpoints (while the federation registry also has these hosts, they may not be pushed otherwise), then check the imported hosts answer: %s", strings.Join(cmds, "; "))
		}
	}
	if len(lc.cutover) == 0 {
		return
	}
	istio := "<name>"
	for _, o := range in.local.controlPlanes {
		if o.GroupKind().Group == "sailoperator.io" {
			istio = o.GetName()
			break
		}
	}
	cmds := []string{fmt.Sprintf("REV=$(kubectl get istio %s -o jsonpath='{.status.activeRevisionName}')", istio)}
	for _, ns := range namespaces {
		cmds = append(cmds, fmt.Sprintf("kubectl label namespace %s maistra.io/ignore-namespace=true istio-injection- istio.io/rev=$REV --overwrite", ns))
		cmds = append(cmds, restart(ns)...)
	}
	for _, c := range lc.cutover {
		if c.cfg.export != nil {
			g := c.cfg.export.Spec.Gateway
			cmds = append(cmds, fmt.Sprintf("kubectl label gateways.gateway.networking.k8s.io %s -n %s istio.io/rev=$REV maistra.io/ignore=true --overwrite", g.Name, g.Namespace))
		}
	}
	for _, c := range lc.cutover {
		f.Infof(&c.cfg.ref, "spec.phase", "after Cutover is applied, move this mesh's workloads to the OSSM 3 control plane as Red Hat's tested migration does (each namespace off OSSM 2 and onto the Istio's revision, its workloads restarted, the east-west Gateway labelled with the revision rather than its namespace): %s", strings.Join(cmds, "; "))
	}
}

// controlPlaneNamespaces are the namespaces of this mesh's control planes:
// their workloads are the operators', not moved by hand.
func controlPlaneNamespaces(m *mesh) map[string]bool {
	out := map[string]bool{}
	for _, o := range m.controlPlanes {
		ns := o.GetNamespace()
		if o.GroupKind().Group == "sailoperator.io" {
			ns, _, _ = o.NestedString("spec", "namespace")
			if ns == "" {
				ns = "istio-system"
			}
		}
		out[ns] = true
	}
	return out
}
