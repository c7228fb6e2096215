package krm

import (
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
)

func TestMetaLabels(t *testing.T) {
	for _, tc := range []struct{ labels, want string }{
		{"{app: x, tier: web, app: y}", "app=x tier=web app=y"},
		{"{}", ""},
		{"[app]", ""},
		{"null", ""},
	} {
		o, err := kfn.ParseKubeObject([]byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: " + tc.labels + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		m := MetaOf(o)
		var got []string
		for k, v := range m.AllLabels() {
			got = append(got, k+"="+v)
		}
		if strings.Join(got, " ") != tc.want || m.NumLabels() != len(got) {
			t.Errorf("labels %s: AllLabels %q, NumLabels %d, want %q", tc.labels, got, m.NumLabels(), tc.want)
		}
		for range m.AllLabels() {
			break // stopping early must not panic
		}
	}
}
