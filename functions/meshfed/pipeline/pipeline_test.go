package pipeline

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/functions/meshfed/render"
)

// sortObjects moves objects along the cycles of the sorting permutation;
// it must give what a stable sort of the objects themselves gives, for
// inputs in order, reversed, with ties and shuffled.
func TestSortObjects(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 40 {
		objs := make([]render.Object, n)
		for i := range objs {
			// Few distinct keys, so that ties are common; Labels tell
			// equal keys apart.
			objs[i] = render.Object{
				APIVersion: []string{"v1", "networking.istio.io/v1"}[rng.IntN(2)],
				Kind:       []string{"Gateway", "ServiceEntry"}[rng.IntN(2)],
				Namespace:  fmt.Sprint("ns-", rng.IntN(3)),
				Name:       fmt.Sprint("o-", rng.IntN(4)),
				Labels:     map[string]string{"i": fmt.Sprint(i)},
			}
		}
		sorted := stableByKey(objs)
		reversed := slices.Clone(sorted)
		slices.Reverse(reversed)
		for order, in := range map[string][]render.Object{"shuffled": objs, "sorted": sorted, "reversed": reversed} {
			in = slices.Clone(in)
			want := stableByKey(in)
			sortObjects(in)
			if got, w := describe(in), describe(want); got != w {
				t.Fatalf("%d objects, %s:\ngot  %s\nwant %s", n, order, got, w)
			}
		}
	}
}

func stableByKey(in []render.Object) []render.Object {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b render.Object) int {
		return strings.Compare(a.APIVersion+" "+a.Kind+" "+a.Namespace+" "+a.Name, b.APIVersion+" "+b.Kind+" "+b.Namespace+" "+b.Name)
	})
	return out
}

func describe(objs []render.Object) string {
	var b strings.Builder
	for _, o := range objs {
		fmt.Fprintf(&b, "%s/%s/%s/%s#%s ", o.APIVersion, o.Kind, o.Namespace, o.Name, o.Labels["i"])
	}
	return b.String()
}
