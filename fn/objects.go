package fn

import (
	"sort"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
)

// Annotations through which kpt and kustomize track where an item came from.
const (
	PathAnnotation         = "internal.config.kubernetes.io/path"
	LegacyPathAnnotation   = "config.kubernetes.io/path"
	LegacyIndexAnnotation  = "config.kubernetes.io/index"
	LocalConfigAnnotation  = "config.kubernetes.io/local-config"
	internalAnnotationsPfx = "internal.config.kubernetes.io/"
)

// trackingAnnotation reports whether an annotation belongs to the
// orchestrator's bookkeeping (file, index, id) rather than to the object.
func trackingAnnotation(key string) bool {
	switch key {
	case LegacyPathAnnotation, LegacyIndexAnnotation, "config.k8s.io/id", "kustomize.config.k8s.io/id":
		return true
	}
	return strings.HasPrefix(key, internalAnnotationsPfx)
}

// ObjectID identifies an object the way orchestrators do: group, kind,
// namespace and name (the version may change between runs).
type ObjectID struct {
	Group, Kind, Namespace, Name string
}

// IDOf returns the ObjectID of o.
func IDOf(o *kfn.KubeObject) ObjectID {
	m := MetaOf(o)
	return ObjectID{Group: m.Group(), Kind: m.Kind, Namespace: m.Namespace, Name: m.Name}
}

// IsLocalConfig reports whether o is marked as never to be applied.
func IsLocalConfig(o *kfn.KubeObject) bool {
	return o.GetAnnotation(LocalConfigAnnotation) == "true"
}

// Generated is an object a function generates, with its ID (known to the
// generator, so it need not be read back from the object).
type Generated struct {
	Object *kfn.KubeObject
	ID     ObjectID
}

// ReplaceOwned returns items with every object for which owned is true
// replaced by generated. A generated object whose ID matches a replaced one
// takes that object's position and its tracking annotations, so that kpt
// keeps writing it to the file the user chose and a second run changes
// nothing; other generated objects are appended in the given order. This is
// what the SDK's Upsert does not do: it drops the path annotation.
func ReplaceOwned(items kfn.KubeObjects, owned func(*kfn.KubeObject) bool, generated []Generated) (kfn.KubeObjects, error) {
	// The index of generated objects is built at the first owned item: a
	// first run (no earlier output among the items) needs none.
	var byID map[ObjectID]*kfn.KubeObject
	placed := map[*kfn.KubeObject]bool{}
	out := make(kfn.KubeObjects, 0, len(items)+len(generated))
	for _, it := range items {
		if !owned(it) {
			out = append(out, it)
			continue
		}
		if byID == nil {
			byID = make(map[ObjectID]*kfn.KubeObject, len(generated))
			for _, g := range generated {
				byID[g.ID] = g.Object
			}
		}
		g, ok := byID[IDOf(it)]
		if !ok || placed[g] {
			continue // stale: no longer generated
		}
		if err := inheritTracking(g, it); err != nil {
			return nil, err
		}
		placed[g] = true
		out = append(out, g)
	}
	for _, g := range generated {
		if !placed[g.Object] {
			out = append(out, g.Object)
		}
	}
	return out, nil
}

// inheritTracking makes g's bookkeeping annotations those of old, so g
// stays in old's file. Unchanged values are left in place: rewriting them
// would reorder the annotations and make a second run differ from the first.
func inheritTracking(g, old *kfn.KubeObject) error {
	// A generated object may carry its metadata as rendered text; the
	// SDK's accessors below need the tree.
	n := ItemNode(g)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "metadata" && isRendered(n.Content[i+1]) {
			if err := expandAt(n, i+1); err != nil {
				return err
			}
		}
	}
	oldAnn, newAnn := old.GetAnnotations(), g.GetAnnotations()
	hasPath := oldAnn[PathAnnotation] != "" || oldAnn[LegacyPathAnnotation] != ""
	for k := range newAnn {
		if _, kept := oldAnn[k]; hasPath && trackingAnnotation(k) && !kept {
			_ = g.RemoveAnnotation(k)
		}
	}
	// Sorted, so that annotations g lacks are appended in the same order on
	// every run.
	keys := make([]string, 0, len(oldAnn))
	for k := range oldAnn {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if cur, ok := newAnn[k]; trackingAnnotation(k) && (!ok || cur != oldAnn[k]) {
			_ = g.SetAnnotation(k, oldAnn[k])
		}
	}
	return nil
}
