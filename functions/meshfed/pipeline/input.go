package pipeline

import (
	"fmt"
	"sort"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/inventory"
	"github.com/meshfed/meshfed/functions/meshfed/render"
	"github.com/meshfed/meshfed/functions/meshfed/spiffe"
	"github.com/meshfed/meshfed/krm"
)

// Annotations meshfed reads on input items.
const (
	// PeerAnnotation marks an item as reference data of the peer mesh that
	// this mesh calls by the annotation's value.
	PeerAnnotation = "meshfed.dev/peer"
	// kustomize records the names an item had before a namePrefix or a
	// namespace change, comma-separated, oldest first.
	previousNamesAnnotation      = "internal.config.kubernetes.io/previousNames"
	previousNamespacesAnnotation = "internal.config.kubernetes.io/previousNamespaces"
	prefixesAnnotation           = "internal.config.kubernetes.io/prefixes"
	suffixesAnnotation           = "internal.config.kubernetes.io/suffixes"
)

// mesh is what the items say about one mesh: this one, or a peer.
type mesh struct {
	name string // "" for this mesh, else the peer annotation value
	// first is a peer mesh's first item, to point at when no config names
	// the peer.
	first      diag.Ref
	inv        *inventory.Inventory
	peers      map[string]item[federation.ServiceMeshPeer]
	exportSets map[string]item[federation.ExportedServiceSet]
	importSets map[string]item[federation.ImportedServiceSet]
	// Only read for this mesh: what the migration lifecycle patches or checks.
	controlPlanes         []*kfn.KubeObject
	authorizationPolicies []*kfn.KubeObject
	configMaps            map[federation.ServiceName]*kfn.KubeObject
	federationObjects     map[string]*kfn.KubeObject // by "<Kind>/<name>"
	// namespaces this mesh's items show to exist: a Namespace object, or
	// any item applied in it (local-config items are never applied).
	namespaces map[string]bool
	// smcpNamespaces are the namespaces of the mesh's
	// ServiceMeshControlPlanes; pendingFederation its federation CRs until
	// registerFederation knows which of them OSSM 2 read.
	smcpNamespaces    map[string]bool
	pendingFederation []pendingCR
	// workloadKinds: the kinds of this mesh's workloads in each namespace,
	// for the commands that move them to the OSSM 3 control plane.
	workloadKinds map[workloadKind]bool
}

type workloadKind struct{ namespace, kind string }

// item is a decoded input item with a reference back to it.
type item[T any] struct {
	val T
	ref diag.Ref
}

// newMesh returns an empty mesh with room for about items items (a
// package's items are mostly Services and their workloads, half each).
func newMesh(name string, items int) *mesh {
	return &mesh{
		name:              name,
		inv:               inventory.NewSized(items / 2),
		peers:             map[string]item[federation.ServiceMeshPeer]{},
		exportSets:        map[string]item[federation.ExportedServiceSet]{},
		importSets:        map[string]item[federation.ImportedServiceSet]{},
		configMaps:        map[federation.ServiceName]*kfn.KubeObject{},
		federationObjects: map[string]*kfn.KubeObject{},
		namespaces:        map[string]bool{},
		workloadKinds:     map[workloadKind]bool{},
		smcpNamespaces:    map[string]bool{},
	}
}

// describe names the mesh in messages.
func (m *mesh) describe() string {
	if m.name == "" {
		return "this mesh's items"
	}
	return fmt.Sprintf("the items annotated %s: %s", PeerAnnotation, m.name)
}

// config is one MeshExport or MeshImport to process.
type config struct {
	kind, name string
	export     *v1alpha1.MeshExport
	imp        *v1alpha1.MeshImport
	ref        diag.Ref
}

func (c config) key() string { return c.kind + "/" + c.name }

// input is everything read from the ResourceList.
type input struct {
	local   *mesh
	peers   map[string]*mesh
	configs []config
	// generatedBy: meshfed's earlier output among the items, and the
	// config that generated each (meshfed.dev/generated-by).
	generatedBy map[*kfn.KubeObject]string
	// ids are every item's ID (ownership.go).
	ids itemIDs
}

// peer returns the peer mesh of that name, empty when no item mentions it.
func (in *input) peer(name string) *mesh {
	if m, ok := in.peers[name]; ok {
		return m
	}
	return newMesh(name, 0)
}

func isConfigKind(meta krm.Meta) bool {
	return meta.Group() == v1alpha1.Group && (meta.Kind == v1alpha1.KindMeshExport || meta.Kind == v1alpha1.KindMeshImport)
}

// inputReader classifies and decodes the input: the items one at a time,
// and the configs once all items are in, the functionConfig first: its problems are reported once, and configs given
// as functionConfig win over items of the same kind and name.
type inputReader struct {
	in          *input
	f           *diag.Findings
	configItems []*kfn.KubeObject
	n           int // items read so far
	total       int // items announced
}

// newInputReader returns a reader for n items.
func newInputReader(f *diag.Findings, n int) *inputReader {
	return &inputReader{in: &input{local: newMesh("", n), peers: map[string]*mesh{}, generatedBy: map[*kfn.KubeObject]string{}, ids: make(itemIDs, n)}, f: f, total: n}
}

// item reads one item. It never changes it.
func (r *inputReader) item(o *kfn.KubeObject) {
	in, f, i := r.in, r.f, r.n
	r.n++
	meta := krm.MetaOf(o)
	// A null or kind-less entry (a stray `-` in the items list) is no
	// Kubernetes object: echoing it would make the output unreadable
	// to kpt, so refuse it. Found by FuzzRun.
	if meta.Kind == "" || meta.APIVersion == "" {
		f.Errorf(nil, fmt.Sprintf("items[%d]", i), "item %d (counting from 0) has no apiVersion or kind, so it is not a Kubernetes object: complete it or remove it from the package", i)
		return
	}
	if meta.APIVersion == "v1" && meta.Kind == "List" {
		r.list(o, meta, i)
		return
	}
	if isConfigKind(meta) {
		r.configItems = append(r.configItems, o)
		return
	}
	if problems := metadataProblems(meta); len(problems) > 0 {
		ref := diag.RefOfMeta(meta)
		for _, e := range problems {
			f.Errorf(&ref, e.Path, "%s", e.Message)
		}
		return
	}
	if by := meta.Annotation(render.GeneratedByAnnotation); by != "" && meta.Annotation(PeerAnnotation) == "" {
		if why, own := isOwnOutput(meta); !own {
			ref := diag.RefOfMeta(meta)
			f.Errorf(&ref, "metadata.annotations."+render.GeneratedByAnnotation, "this item carries meshfed's annotation (%s: %s) but is not meshfed's output: %s. meshfed replaces or removes only its own output, so it neither deletes nor ignores this item; remove the annotation (it was probably copied from generated output)", render.GeneratedByAnnotation, by, why)
			return
		}
		in.generatedBy[o] = by
		in.ids.add(meta, by)
		return // meshfed's own earlier output: replaced, never read
	}
	in.ids.add(meta, "")
	m := in.local
	name, namespace := meta.Name, meta.Namespace
	if p := meta.Annotation(PeerAnnotation); p != "" {
		if meta.Annotation(fn.LocalConfigAnnotation) != "true" {
			ref := diag.RefOfMeta(meta)
			f.Errorf(&ref, "metadata.annotations", "peer item (annotated %s: %s) must also be annotated %s: \"true\": a peer's resources must never be applied to this cluster; add the annotation (with kustomize, in the peer's commonAnnotations)", PeerAnnotation, p, fn.LocalConfigAnnotation)
			return
		}
		if in.peers[p] == nil {
			// Sized for the items still to come: peer items usually come
			// together.
			in.peers[p] = newMesh(p, r.total-i)
			in.peers[p].first = diag.RefOfMeta(meta)
		}
		m = in.peers[p]
		var err error
		if name, namespace, err = originalName(meta); err != nil {
			ref := diag.RefOfMeta(meta)
			f.Errorf(&ref, "metadata.annotations."+previousNamesAnnotation, "%v", err)
			return
		}
	}
	if m == in.local && meta.Annotation(fn.LocalConfigAnnotation) != "true" {
		// What this cluster has: the namespaces of the items applied to it.
		if namespace != "" {
			m.namespaces[namespace] = true
		}
		if meta.Group() == "" && meta.Kind == "Namespace" {
			m.namespaces[name] = true
		}
	}
	readItem(m, o, meta, name, namespace, f)
}

// list reads the items of a v1 List, the form `kubectl get
// servicemeshpeers,exportedservicesets,importedservicesets -o yaml` prints
// (kustomize expands a List itself; kpt passes it as one item). Its items
// inherit the List's peer and local-config annotations. The List comes
// out unchanged: meshfed never edits what it read from a cluster's dump.
func (r *inputReader) list(o *kfn.KubeObject, meta krm.Meta, index int) {
	ref := diag.RefOfMeta(meta)
	items, _, err := o.NestedSlice("items")
	if err != nil {
		r.f.Errorf(&ref, "items", "a v1 List's items must be a list of objects: fix the item")
		return
	}
	next := r.n
	r.total += len(items)
	for j, it := range items {
		// A copy, so that nothing meshfed does to what it read (Cutover
		// marks federation CRs) reaches the List.
		c, err := kfn.ParseKubeObject([]byte(it.String()))
		if err != nil {
			r.f.Errorf(&ref, fmt.Sprintf("items[%d]", j), "is not a Kubernetes object: %v; fix the item", err)
			continue
		}
		for _, a := range []string{PeerAnnotation, fn.LocalConfigAnnotation, "internal.config.kubernetes.io/path", "config.kubernetes.io/path"} {
			if v := meta.Annotation(a); v != "" && c.GetAnnotation(a) == "" {
				_ = c.SetAnnotation(a, v)
			}
		}
		_ = c.SetAnnotation(fromListAnnotation, fmt.Sprint(index))
		r.item(c)
	}
	r.n = next
}

// fromListAnnotation marks, on meshfed's own copy, an object read from a
// v1 List: a live CR, which meshfed never changes.
const fromListAnnotation = "meshfed.dev/from-list"

func (r *inputReader) finish(functionConfig *kfn.KubeObject) *input {
	in, f := r.in, r.f
	seenConfig := map[string]bool{}
	addConfig := func(o *kfn.KubeObject, asItem bool) {
		ref := diag.RefOfMeta(krm.MetaOf(o))
		if asItem && !fn.IsLocalConfig(o) {
			f.Errorf(&ref, "metadata.annotations", "a %s among the items must be annotated %s: \"true\", or it would be applied to the cluster; add the annotation", o.GetKind(), fn.LocalConfigAnnotation)
			return
		}
		// kpt passes the functionConfig file as an item too: read it once.
		if seenConfig[o.GetKind()+"/"+o.GetName()] {
			return
		}
		seenConfig[o.GetKind()+"/"+o.GetName()] = true
		c, ok := decodeConfig(o, f)
		if !ok {
			return
		}
		in.configs = append(in.configs, c)
	}

	if functionConfig != nil && !functionConfig.IsEmpty() {
		switch {
		case isConfigKind(krm.MetaOf(functionConfig)):
			addConfig(functionConfig, false)
		case functionConfig.GetKind() == "ConfigMap" && isEmptyConfigMap(functionConfig):
			// kpt's placeholder when no config is given; configs may be items.
		default:
			ref := diag.RefOfMeta(krm.MetaOf(functionConfig))
			f.Errorf(&ref, "kind", "functionConfig must be a %s or %s (apiVersion %s), not %s %s; see the README's configuration reference", v1alpha1.KindMeshExport, v1alpha1.KindMeshImport, v1alpha1.APIVersion, functionConfig.GetAPIVersion(), functionConfig.GetKind())
		}
	}
	for _, o := range r.configItems {
		addConfig(o, true)
	}
	if len(in.configs) == 0 && !f.HasErrors() {
		f.Errorf(nil, "", "no configuration: give a %s or %s as the functionConfig, or among the items annotated %s: \"true\"", v1alpha1.KindMeshExport, v1alpha1.KindMeshImport, fn.LocalConfigAnnotation)
	}
	sort.Slice(in.configs, func(i, j int) bool { return in.configs[i].key() < in.configs[j].key() })
	registerFederation(in.local, f)
	for _, name := range sortedKeys(in.peers) {
		registerFederation(in.peers[name], f)
	}
	return in
}

func isEmptyConfigMap(o *kfn.KubeObject) bool {
	data, _, _ := o.NestedStringMap("data")
	return len(data) == 0
}

// originalName is a peer item's name and namespace in the peer mesh: the
// first recorded ones when kustomize renamed it to avoid an ID collision.
//
// The recorded first name must be what kustomize's recorded prefixes and
// suffixes turn into the item's name: each namePrefix is put before the
// name and appended to the prefixes annotation, each nameSuffix after it
// and to the suffixes annotation (verified with kustomize v5.8.2: orig with
// p1-/-s1 then p2-/-s2 becomes p2-p1-orig-s1-s2, prefixes "p1-,p2-",
// suffixes "-s1,-s2"; a namespace change alone records the name unchanged).
// Anything else was not written by kustomize, and would let an item
// choose which peer object it stands for.
func originalName(meta krm.Meta) (name, namespace string, err error) {
	name, namespace = meta.Name, meta.Namespace
	if prev := meta.Annotation(previousNamesAnnotation); prev != "" {
		name, _, _ = strings.Cut(prev, ",")
		prefixes, suffixes := meta.Annotation(prefixesAnnotation), meta.Annotation(suffixesAnnotation)
		if want := renamed(name, prefixes, suffixes); want != meta.Name {
			return "", "", fmt.Errorf("%s %q records the first name %q, but kustomize's recorded prefixes %q and suffixes %q turn that into %q, not this item's name %q: the annotation was not written by kustomize's namePrefix/nameSuffix; remove it (or the edit that renamed the item)", previousNamesAnnotation, prev, name, prefixes, suffixes, want, meta.Name)
		}
	}
	if prev := meta.Annotation(previousNamespacesAnnotation); prev != "" {
		namespace, _, _ = strings.Cut(prev, ",")
	}
	return name, namespace, nil
}

// renamed is name after kustomize's recorded prefixes and suffixes (comma
// lists, first applied first).
func renamed(name, prefixes, suffixes string) string {
	if prefixes != "" {
		for _, p := range strings.Split(prefixes, ",") {
			name = p + name
		}
	}
	if suffixes != "" {
		for _, s := range strings.Split(suffixes, ",") {
			name += s
		}
	}
	return name
}

func decodeConfig(o *kfn.KubeObject, f *diag.Findings) (config, bool) {
	ref := diag.RefOfMeta(krm.MetaOf(o))
	c := config{kind: o.GetKind(), name: o.GetName(), ref: ref}
	var errs []krm.FieldError
	switch c.kind {
	case v1alpha1.KindMeshExport:
		c.export = &v1alpha1.MeshExport{}
		errs = krm.DecodeStrict(&o.SubObject, c.export, "metadata")
		if len(errs) == 0 {
			c.export.Default()
			errs = c.export.Validate()
		}
	case v1alpha1.KindMeshImport:
		c.imp = &v1alpha1.MeshImport{}
		errs = krm.DecodeStrict(&o.SubObject, c.imp, "metadata")
		if len(errs) == 0 {
			c.imp.Default()
			errs = c.imp.Validate()
		}
	}
	if o.GetAPIVersion() != v1alpha1.APIVersion {
		errs = append(errs, krm.FieldError{Path: "apiVersion", Message: fmt.Sprintf("%q is not supported: use %s", o.GetAPIVersion(), v1alpha1.APIVersion)})
	}
	if c.name == "" {
		errs = append(errs, krm.FieldError{Path: "metadata.name", Message: "is required: it names the generated objects' owner (meshfed.dev/generated-by)"})
	}
	for _, e := range errs {
		f.Errorf(&ref, e.Path, "%s", e.Message)
	}
	return c, len(errs) == 0
}

// readItem adds one item of a mesh to its model.
// readItem reads an item into m and reports whether m keeps the item
// itself (to patch or check it later).
func readItem(m *mesh, o *kfn.KubeObject, meta krm.Meta, name, namespace string, f *diag.Findings) (kept bool) {
	// The reference is made only for a message: this runs for every item.
	ref := func() *diag.Ref { r := diag.RefOfMeta(meta); return &r }
	report := func(errs []krm.FieldError) bool {
		for _, e := range errs {
			f.Errorf(ref(), e.Path, "%s: fix the item (meshfed reads it as %s)", e.Message, m.describe())
		}
		return len(errs) == 0
	}
	switch {
	case inventory.IsService(meta):
		var manifest inventory.ServiceManifest
		decoded := krm.DecodeNode(meta.Node(), &manifest)
		s, errs := inventory.NewService(meta, name, &manifest)
		s.Namespace = namespace
		if report(krm.Beside(decoded, errs)) && !m.inv.AddService(s) {
			f.Errorf(ref(), "metadata.name", "Service %s appears twice in %s: remove one", s.ServiceName, m.describe())
		}
	case inventory.IsWorkload(meta):
		manifest := inventory.NewWorkloadManifest(meta)
		decoded := krm.DecodeNode(meta.Node(), manifest)
		w, errs := inventory.NewWorkload(meta, manifest)
		w.Namespace = namespace
		if report(krm.Beside(decoded, errs)) {
			m.inv.AddWorkload(w)
			if m.name == "" {
				m.workloadKinds[workloadKind{namespace, meta.Kind}] = true
			}
		}
	case meta.Group() == federation.Group:
		readFederation(m, o, name, namespace, *ref(), f)
		return m.name == ""
	case meta.Group() == "networking.istio.io" && meta.Kind == "ServiceEntry":
		readServiceEntry(m, o, meta, namespace, *ref(), f)
		return false
	case meta.Group() == "maistra.io" && meta.Kind == "ServiceMeshControlPlane" && m.name != "":
		// A peer's control plane is not this mesh's to patch, but it says
		// where the peer's federation CRs count.
		m.smcpNamespaces[namespace] = true
	case m.name != "":
		// Peers' control planes and policies are not this mesh's to patch.
	case isControlPlane(o):
		m.controlPlanes = append(m.controlPlanes, o)
		if meta.Group() == "maistra.io" {
			m.smcpNamespaces[namespace] = true
		}
		return true
	case meta.Group() == "security.istio.io" && meta.Kind == "AuthorizationPolicy":
		m.authorizationPolicies = append(m.authorizationPolicies, o)
		return true
	case meta.Group() == "" && meta.Kind == "ConfigMap":
		m.configMaps[federation.ServiceName{Name: name, Namespace: namespace}] = o
		return true
	}
	return false
}

func readFederation(m *mesh, o *kfn.KubeObject, name, namespace string, ref diag.Ref, f *diag.Findings) {
	spec, found, err := o.NestedSubObject("spec")
	if err != nil {
		f.Errorf(&ref, "spec", "must be an object: fix the item")
		return
	}
	decode := func(out any) bool {
		if !found {
			return true
		}
		ok := true
		for _, e := range krm.DecodeStrict(&spec, out) {
			if strings.HasPrefix(e.Message, "unknown field") {
				// The API server prunes unknown fields, so OSSM 2 never saw
				// it; meshfed keeps OSSM 2's behaviour but says so.
				f.Warnf(&ref, "spec."+e.Path, "%s; the API server drops it, so OSSM 2 ignored it and so does meshfed (a documented pitfall: `importAsLocal` belongs beside `nameSelector`, not inside it)", e.Message)
				continue
			}
			ok = false
			f.Errorf(&ref, "spec."+e.Path, "%s: fix the item", e.Message)
		}
		return ok
	}
	// Registered once the control-plane namespace is known (all items
	// read): OSSM 2 never saw federation CRs elsewhere.
	add := func(register func() bool) {
		m.pendingFederation = append(m.pendingFederation, pendingCR{kind: o.GetKind(), name: name, namespace: namespace, ref: ref, obj: o, register: register})
	}
	switch o.GetKind() {
	case federation.KindServiceMeshPeer:
		v := federation.ServiceMeshPeer{Name: name, Namespace: namespace}
		if decode(&v.Spec) && validTrustDomain(v, ref, f) {
			add(func() bool { return register(m.peers, name, v, ref) })
		}
	case federation.KindExportedServiceSet:
		v := federation.ExportedServiceSet{Name: name, Namespace: namespace}
		if decode(&v.Spec) && readStatus(o, "exportedServices", &v.Status, ref, f) {
			add(func() bool { return register(m.exportSets, name, v, ref) })
		}
	case federation.KindImportedServiceSet:
		v := federation.ImportedServiceSet{Name: name, Namespace: namespace}
		if decode(&v.Spec) && readStatus(o, "importedServices", &v.Status, ref, f) {
			add(func() bool { return register(m.importSets, name, v, ref) })
		}
	}
}

// readStatus reads a live CR's status.<key> (what OSSM 2 resolved), which
// meshfed compares with its own resolution. An absent list leaves out nil;
// a present one, even empty, is a non-nil slice.
func readStatus(o *kfn.KubeObject, key string, out *[]federation.PeerServiceMapping, ref diag.Ref, f *diag.Findings) bool {
	list, found, err := o.NestedSlice("status", key)
	if err != nil {
		f.Errorf(&ref, "status."+key, "must be a list, as OSSM 2 writes it: fix the item or remove its status")
		return false
	}
	if !found {
		return true
	}
	*out = make([]federation.PeerServiceMapping, 0, len(list))
	for i, e := range list {
		var m federation.PeerServiceMapping
		if err := krm.AsJSON(e, &m); err != nil || m.ExportedName == "" {
			f.Errorf(&ref, fmt.Sprintf("status.%s[%d]", key, i), "is not an entry OSSM 2 writes ({exportedName, localService: {name, namespace, hostname}}): fix the item or remove its status")
			return false
		}
		*out = append(*out, m)
	}
	return true
}

// validTrustDomain checks a ServiceMeshPeer's trust domain, which becomes
// imported services' subjectAltNames and the control plane's
// trustDomainAliases.
func validTrustDomain(smp federation.ServiceMeshPeer, ref diag.Ref, f *diag.Findings) bool {
	td := smp.Spec.Security.TrustDomain
	if td == "" {
		return true
	}
	if err := spiffe.CheckTrustDomain(td); err != nil {
		f.Errorf(&ref, "spec.security.trustDomain", "%v", err)
		return false
	}
	return true
}

// register adds a decoded federation CR under its name, unless one of that
// name is already there.
func register[T any](sets map[string]item[T], name string, v T, ref diag.Ref) bool {
	if _, dup := sets[name]; dup {
		return false
	}
	sets[name] = item[T]{v, ref}
	return true
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pendingCR is a decoded federation CR waiting for registerFederation.
type pendingCR struct {
	kind, name, namespace string
	ref                   diag.Ref
	obj                   *kfn.KubeObject
	register              func() bool
}

// registerFederation registers the federation CRs OSSM 2 read: those in
// the control-plane namespace, where istiod's federation informers watched
// (maistra/istio maistra-2.5 pkg/servicemesh/federation/common/resources.go:56-57,
// WithNamespaces(opts.Namespace)). That namespace is the
// ServiceMeshControlPlane's when the mesh's items have one, else the one
// namespace all its federation CRs share. A CR elsewhere was never seen by
// OSSM 2, so it never exported or imported anything: it is ignored with a
// warning (exporting through it would open a service that was never open).
func registerFederation(m *mesh, f *diag.Findings) {
	crs := m.pendingFederation
	m.pendingFederation = nil
	if len(crs) == 0 {
		return
	}
	cp := m.smcpNamespaces
	where := "the namespace of " + m.describe() + "'s ServiceMeshControlPlane"
	if len(cp) == 0 {
		cp = map[string]bool{}
		for _, c := range crs {
			cp[c.namespace] = true
		}
		if len(cp) > 1 {
			names := sortedKeys(cp)
			f.Errorf(&crs[0].ref, "metadata.namespace", "the federation resources of %s are in several namespaces (%s), but OSSM 2 read them only in its control-plane namespace: add the ServiceMeshControlPlane to the items so that meshfed knows which namespace that is, or remove the resources OSSM 2 never read", m.describe(), strings.Join(names, ", "))
			return
		}
		where = "the namespace of the other federation resources"
	}
	sort.SliceStable(crs, func(i, j int) bool { return crs[i].kind+"/"+crs[i].name < crs[j].kind+"/"+crs[j].name })
	for _, c := range crs {
		if !cp[c.namespace] {
			f.Warnf(&c.ref, "metadata.namespace", "%s %s is in namespace %q, outside the control-plane namespace %s (%s): OSSM 2 watched federation resources only there, so it never used this one, and neither does meshfed (it exports and imports nothing through it); move it to the control-plane namespace, or delete it", c.kind, c.name, c.namespace, strings.Join(sortedKeys(cp), ", "), where)
			continue
		}
		if !c.register() {
			f.Errorf(&c.ref, "metadata.name", "two %s objects named %q in %s: federation allows one per peer in the control-plane namespace; remove one", c.kind, c.name, m.describe())
			continue
		}
		if m.name == "" {
			m.federationObjects[c.kind+"/"+c.name] = c.obj
		}
	}
}
