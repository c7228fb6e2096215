// Package pipeline is meshfed's function: it reads the ResourceList's
// configs and items, resolves the OSSM 2 federation rules over them,
// renders the Istio objects that replace federation, and puts them into the
// ResourceList, or reports why it cannot.
package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/render"
)

// Process runs meshfed on a ResourceList. On any error the items are left
// exactly as they came and only results are added.
func Process(rl *kfn.ResourceList) { fn.ItemsFunc(ProcessItems).Process(rl) }

// ProcessItems is Process with the output returned as fn.Items, in which
// the generated objects are still JSON: the edge converts each one just
// before writing it (fn.Item says why). On any error it returns the items
// exactly as they came; results are added to rl.Results.
func ProcessItems(rl *kfn.ResourceList) fn.Items {
	var f diag.Findings
	reader := newInputReader(&f, len(rl.Items))
	for _, o := range rl.Items {
		reader.item(o)
	}
	in := reader.finish(rl.FunctionConfig)
	items, ok := run(in, rl.Items, &f)
	if !ok {
		items = fn.ItemsOf(rl.Items)
	}
	rl.Results = append(rl.Results, krmResults(f.Sorted())...)
	return items
}

// generated is the rendered output of one config.
type generated struct {
	cfg  config
	objs []render.Object
}

func run(in *input, items kfn.KubeObjects, f *diag.Findings) (fn.Items, bool) {
	if f.HasErrors() {
		return nil, false
	}
	var outs []generated
	var exports []*exportPlan
	var imports []*importPlan
	importHosts := map[string]importer{}
	exportHosts := map[string]*exportPlan{}
	for _, c := range in.configs {
		var objs []render.Object
		switch {
		case c.export != nil:
			plan := resolveExport(in, c, f)
			exports = append(exports, plan)
			checkExportHosts(plan, exportHosts, f)
			objs = renderExport(plan)
		case c.imp != nil:
			plan := resolveImport(in, c, f)
			imports = append(imports, plan)
			checkImportHosts(plan, importHosts, f)
			objs = renderImport(plan)
		}
		outs = append(outs, generated{cfg: c, objs: objs})
	}
	warnUnnamedPeers(in, exports, imports, f)
	lc := planLifecycle(in, exports, imports, f)
	if f.HasErrors() {
		return nil, false
	}
	objs, ok := emit(outs, f)
	if !ok {
		return nil, false
	}
	owners := map[string]bool{}
	ownerOf := make(map[fn.ObjectID]string, len(objs))
	for _, g := range outs {
		owners[g.cfg.key()] = true
		for _, o := range g.objs {
			ownerOf[objectID(o)] = g.cfg.key()
		}
	}
	if checkCollisions(in.ids, objs, ownerOf, owners, f); f.HasErrors() {
		return nil, false
	}
	for _, g := range outs {
		f.Infof(&g.cfg.ref, "", "%s", summary(g))
	}
	owned := func(o *kfn.KubeObject) bool { return owners[in.generatedBy[o]] }
	out, err := fn.ReplaceOwned(items, owned, objs)
	if err != nil {
		f.Errorf(nil, "", "replacing meshfed's earlier output: %v; this is a meshfed bug, please report it with your input", err)
		return nil, false
	}
	// Items are patched in place only now that nothing can fail.
	applyLifecycle(in, lc, f)
	return out, true
}

// warnUnnamedPeers says which peers' items no config reads: a peer
// annotation spelled differently from the config's peer name would
// otherwise leave that peer's exports or imports out without a word.
func warnUnnamedPeers(in *input, exports []*exportPlan, imports []*importPlan, f *diag.Findings) {
	named := map[string]bool{}
	for _, plan := range exports {
		for _, p := range plan.peers {
			named[p] = true
		}
	}
	for _, plan := range imports {
		for _, pp := range plan.peers {
			named[pp.peer.Name] = true
		}
	}
	var names []string
	for n := range named {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, p := range sortedKeys(in.peers) {
		if !named[p] {
			f.Warnf(&in.peers[p].first, "metadata.annotations."+PeerAnnotation, "%s are not read: no MeshExport or MeshImport here has a peer named %q (peers named: %s), so they decide nothing; fix the annotation to the name of this mesh's ServiceMeshPeer for that mesh, add the peer to a config's spec.peers, or remove the items", in.peers[p].describe(), p, orNone(names))
		}
	}
}

// checkImportHosts rejects a hostname imported twice: one ServiceEntry
// host can stand for only one peer service.
func checkImportHosts(plan *importPlan, seen map[string]importer, f *diag.Findings) {
	for i, pp := range plan.peers {
		for _, e := range pp.entries {
			who := importer{plan, pp, e}
			if prev, dup := seen[e.host]; dup {
				f.Errorf(&plan.cfg.ref, fmt.Sprintf("spec.peers[%d]", i), "two imports resolve to the hostname %q: %s and %s; a host can stand for only one service: change an import alias or domainSuffix so they differ", e.host, prev, who)
				continue
			}
			seen[e.host] = who
		}
	}
}

// checkExportHosts rejects a hostname exposed by two MeshExports: each
// would route its SNI on its own east-west gateway, and its ServiceEntries
// would compete for the name.
func checkExportHosts(plan *exportPlan, seen map[string]*exportPlan, f *diag.Findings) {
	for _, e := range plan.exposed {
		if prev, dup := seen[e.host]; dup {
			f.Errorf(&plan.cfg.ref, "spec", "the hostname %q is exported by both %s (Service %s, via %s) and %s (Service %s, via %s): a host can be exported by one config only; export it from one of them", e.host, prev.cfg.key(), prev.exposures[e.host].service, prev.exposures[e.host].via, plan.cfg.key(), e.service, e.via)
			continue
		}
		seen[e.host] = plan
	}
}

// importer is what imports a host, for checkImportHosts's message.
type importer struct {
	plan  *importPlan
	peer  *importPeerPlan
	entry *importEntry
}

func (w importer) String() string {
	return fmt.Sprintf("MeshImport %s peer %q (%s)", w.plan.cfg.name, w.peer.peer.Name, w.entry.source(w.plan.cfg))
}

// emit validates the rendered objects, marks them as meshfed's and renders
// them as JSON, in a deterministic order; the edge makes KRM items of them
// (fn.ObjectFromJSON) as it writes them.
func emit(outs []generated, f *diag.Findings) ([]fn.Generated, bool) {
	total := 0
	for _, g := range outs {
		total += len(g.objs)
	}
	result := make([]fn.Generated, 0, total)
	owner := make(map[fn.ObjectID]string, total)
	for _, g := range outs {
		ref := g.cfg.ref
		path := fmt.Sprintf("meshfed-generated/%s-%s.yaml", strings.ToLower(g.cfg.kind), g.cfg.name)
		sortObjects(g.objs)
		for i, o := range g.objs {
			for _, p := range o.Validate() {
				f.Errorf(&ref, "", "generated %s %s/%s would be rejected: %s; this is a meshfed bug or an input it should have rejected, please report it with your input", o.Kind, o.Namespace, o.Name, p)
			}
			// What every generated object is stamped with.
			o.Labels = with(o.Labels, map[string]string{render.ManagedByLabel: render.ManagedByValue})
			o.Annotations = with(o.Annotations, map[string]string{
				render.GeneratedByAnnotation:          g.cfg.key(),
				fn.PathAnnotation:                     path,
				"internal.config.kubernetes.io/index": strconv.Itoa(i),
			})
			js, err := o.JSON()
			if err != nil {
				f.Errorf(&ref, "", "rendering %s %s/%s: %v; this is a meshfed bug, please report it with your input", o.Kind, o.Namespace, o.Name, err)
				continue
			}
			id := objectID(o)
			if prev, dup := owner[id]; dup {
				f.Errorf(&ref, "", "%s and %s both generate %s %s/%s: give them different gateway names or peers, or merge them into one config", prev, g.cfg.key(), o.Kind, o.Namespace, o.Name)
				continue
			}
			owner[id] = g.cfg.key()
			result = append(result, fn.Generated{JSON: js, ID: id})
		}
	}
	return result, !f.HasErrors()
}

// with returns m with extra's entries added or overriding, as a new map.
func with(m, extra map[string]string) map[string]string {
	out := make(map[string]string, len(m)+len(extra))
	maps.Copy(out, m)
	maps.Copy(out, extra)
	return out
}

// objectID is a generated object's identity as orchestrators see it.
func objectID(o render.Object) fn.ObjectID {
	group, _, found := strings.Cut(o.APIVersion, "/")
	if !found {
		group = ""
	}
	return fn.ObjectID{Group: group, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// sortObjects orders objects by apiVersion, kind, namespace and name,
// stably. It sorts indices and then moves each object once: swapping the
// objects themselves (a few hundred bytes each) made sorting a large
// fleet's objects grow faster than their number.
func sortObjects(objs []render.Object) {
	order := make([]int32, len(objs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(i, j int32) int {
		a, b := &objs[i], &objs[j]
		if c := strings.Compare(a.APIVersion, b.APIVersion); c != 0 {
			return c
		}
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	// Position i takes objs[order[i]]: follow each cycle of the
	// permutation, moving every object once, without a second slice.
	for i := range order {
		if order[i] == int32(i) {
			continue
		}
		saved, j := objs[i], int32(i)
		for {
			k := order[j]
			order[j] = j
			if k == int32(i) {
				objs[j] = saved
				break
			}
			objs[j] = objs[k]
			j = k
		}
	}
}

// summary is the one info result per config: what was generated.
func summary(g generated) string {
	type kind struct{ kind, apiVersion string }
	counts := map[kind]int{}
	for _, o := range g.objs {
		counts[kind{o.Kind, o.APIVersion}]++
	}
	parts := make([]string, 0, len(counts))
	for k, n := range counts {
		parts = append(parts, fmt.Sprintf("%d %s (%s)", n, k.kind, k.apiVersion))
	}
	// By kind and apiVersion, as the keys "<kind> (<apiVersion>)" sort.
	slices.SortFunc(parts, func(a, b string) int {
		_, ka, _ := strings.Cut(a, " ")
		_, kb, _ := strings.Cut(b, " ")
		return strings.Compare(ka, kb)
	})
	return fmt.Sprintf("%s generated %s", g.cfg.key(), strings.Join(parts, ", "))
}

// krmResults converts findings to KRM results, for the ResourceList.
func krmResults(f diag.Findings) kfn.Results {
	out := make(kfn.Results, 0, len(f))
	for _, x := range f {
		r := &kfn.Result{Message: x.Message, Severity: severityOf(x.Severity)}
		if x.Ref != nil {
			r.ResourceRef = &kfn.ResourceRef{APIVersion: x.Ref.APIVersion, Kind: x.Ref.Kind, Namespace: x.Ref.Namespace, Name: x.Ref.Name}
			if x.Ref.File != "" {
				r.File = &kfn.File{Path: x.Ref.File, Index: x.Ref.Index}
			}
		}
		if x.Field != "" {
			r.Field = &kfn.Field{Path: x.Field}
		}
		out = append(out, r)
	}
	return out
}

func severityOf(s diag.Severity) kfn.Severity {
	switch s {
	case diag.Error:
		return kfn.Error
	case diag.Warning:
		return kfn.Warning
	}
	return kfn.Info
}
