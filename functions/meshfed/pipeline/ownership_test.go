package pipeline

import (
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/krm"
)

// What decides how meshfed treats an item must be readable exactly
// (issue 13 item 4); each case is an item's metadata.
func TestMetadataProblems(t *testing.T) {
	for _, c := range []struct {
		metadata   string
		path, want string // "" when valid
	}{
		{"name: x\n  annotations: {a: b}\n  labels: {c: d}", "", ""},
		{"name: x\n  annotations: null", "", ""},
		{"name: x\n  annotations: [meshfed.dev/peer]", "metadata.annotations", "must be a map of strings (key: \"value\" lines), not a list"},
		{"name: x\n  annotations: some text", "metadata.annotations", "not a string"},
		{"name: x\n  labels: app=x", "metadata.labels", "not a string"},
		{"name: x\n  labels: [a]", "metadata.labels", "not a list"},
		{"name: x\n  annotations: {meshfed.dev/peer: 5}", "metadata.annotations.meshfed.dev/peer", "must be a string, not a number"},
		{"name: x\n  annotations: {meshfed.dev/peer: true}", "metadata.annotations.meshfed.dev/peer", "must be a string, not a boolean"},
		{"name: x\n  annotations: {meshfed.dev/peer: [a]}", "metadata.annotations.meshfed.dev/peer", "must be a string, not a list"},
		{"name: x\n  annotations: {meshfed.dev/peer: ''}", "metadata.annotations.meshfed.dev/peer", "is empty"},
		{"name: x\n  annotations: {meshfed.dev/peer: east-mesh}", "", ""},
	} {
		o, err := kfn.ParseKubeObject([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  " + c.metadata + "\n"))
		if err != nil {
			t.Fatalf("%q: %v", c.metadata, err)
		}
		errs := metadataProblems(krm.MetaOf(o))
		switch {
		case c.path == "" && len(errs) > 0:
			t.Errorf("%q: want no problem, got %v", c.metadata, errs)
		case c.path != "" && (len(errs) != 1 || errs[0].Path != c.path || !strings.Contains(errs[0].Message, c.want)):
			t.Errorf("%q: want one problem at %s containing %q, got %v", c.metadata, c.path, c.want, errs)
		}
	}
}
