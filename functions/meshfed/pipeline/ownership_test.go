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
		// An unquoted date is not the text a reader of the annotation
		// sees (krm.Meta reads strings only): it says so, not "is empty".
		{"name: x\n  annotations: {meshfed.dev/peer: 2024-05-01}", "metadata.annotations.meshfed.dev/peer", "must be a string, not a date"},
		{"name: x\n  annotations: {meshfed.dev/peer: null}", "metadata.annotations.meshfed.dev/peer", "must be a string, not null"},
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

// A peer item's original name is read from kustomize's previousNames only
// where kustomize's recorded prefixes and suffixes explain its name
// (issue 13 item 4); the annotations are what kustomize v5.8.2 writes for
// namePrefix p1-/nameSuffix -s1 under p2-/-s2 with a namespace change.
func TestOriginalName(t *testing.T) {
	const (
		prev = "internal.config.kubernetes.io/previousNames"
		pre  = "internal.config.kubernetes.io/prefixes"
		suf  = "internal.config.kubernetes.io/suffixes"
		ns   = "internal.config.kubernetes.io/previousNamespaces"
	)
	for _, c := range []struct {
		name         string
		annotations  map[string]string
		want, wantNS string // want "" when refused
	}{
		{"httpbin", nil, "httpbin", "a"},
		{"peer-west-mesh-httpbin", map[string]string{prev: "httpbin", pre: "peer-west-mesh-", ns: "a"}, "httpbin", "a"},
		{"p2-p1-orig-s1-s2", map[string]string{prev: "orig,p1-orig,p1-orig-s1,p1-orig-s1,p2-p1-orig-s1", pre: "p1-,p2-", suf: "-s1,-s2", ns: "default,default,default,x,x"}, "orig", "default"},
		{"httpbin", map[string]string{prev: "httpbin,httpbin", ns: "b,a"}, "httpbin", "b"}, // a namespace change alone
		{"httpbin", map[string]string{prev: "kubernetes"}, "", ""},                         // no prefix explains the rename
		{"peer-httpbin", map[string]string{prev: "other", pre: "peer-"}, "", ""},
		{"peer-httpbin", map[string]string{prev: "httpbin", suf: "peer-"}, "", ""},
	} {
		o := kfn.NewEmptyKubeObject()
		_ = o.SetAPIVersion("v1")
		_ = o.SetKind("Service")
		_ = o.SetName(c.name)
		_ = o.SetNamespace("a")
		for k, v := range c.annotations {
			_ = o.SetAnnotation(k, v)
		}
		name, namespace, err := originalName(krm.MetaOf(o))
		switch {
		case c.want == "" && (err == nil || !strings.Contains(err.Error(), "not written by kustomize")):
			t.Errorf("%s %v: want refused, got %q, %v", c.name, c.annotations, name, err)
		case c.want != "" && (err != nil || name != c.want || namespace != c.wantNS):
			t.Errorf("%s %v: got %s/%s, %v; want %s/%s", c.name, c.annotations, namespace, name, err, c.wantNS, c.want)
		}
	}
}
