package cluster

import (
	"reflect"
	"strings"
	"testing"
)

func mustDecode(t *testing.T, stream string) ([]object, object) {
	t.Helper()
	items, fc, err := decodeStream([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	return items, fc
}

func TestClusterNamespaces(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []string
	}{{
		name: "the mesh's own items and Namespace objects; not what meshfed generated, not the peer's",
		stream: `apiVersion: v1
kind: Service
metadata: {name: curl, namespace: client}
---
apiVersion: v1
kind: Namespace
metadata: {name: empty}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: b, labels: {app.kubernetes.io/managed-by: meshfed}}
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: west-only, annotations: {meshfed.dev/peer: west-mesh, config.kubernetes.io/local-config: "true"}}
`,
		want: []string{"client", "empty", "istio-system"},
	}, {
		name: "namespaces a meshfed config names for its objects",
		stream: `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: meshfed.dev/v1alpha1
  kind: MeshImport
  metadata: {name: east, annotations: {config.kubernetes.io/local-config: "true"}}
  spec: {namespace: federation-imports}
functionConfig:
  apiVersion: meshfed.dev/v1alpha1
  kind: MeshExport
  metadata: {name: west}
  spec: {gateway: {namespace: gateways}}
`,
		want: []string{"federation-imports", "gateways", "istio-system"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, fc := mustDecode(t, tt.stream)
			if got := clusterNamespaces(items, fc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestForCluster(t *testing.T) {
	items, _ := mustDecode(t, `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: meshfed.dev/v1alpha1
  kind: MeshExport
  metadata: {name: west, annotations: {config.kubernetes.io/local-config: "true"}}
- apiVersion: v1
  kind: Service
  metadata:
    name: httpbin
    namespace: a
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: httpbin.yaml
      internal.config.kubernetes.io/path: httpbin.yaml
- apiVersion: v1
  kind: Service
  metadata:
    name: kept
    namespace: a
    annotations: {config.kubernetes.io/path: x.yaml, team: blue}
`)
	got := forCluster(items)
	if len(got) != 2 {
		t.Fatalf("want the two Services, got %v", got)
	}
	if _, ok := metadata(got[0])["annotations"]; ok {
		t.Errorf("bookkeeping annotations not stripped: %v", got[0])
	}
	if ann := stringMap(got[1], "annotations"); !reflect.DeepEqual(ann, map[string]any{"team": "blue"}) {
		t.Errorf("annotations = %v, want only team: blue", ann)
	}
	if annotation(items[1], "config.kubernetes.io/path") != "httpbin.yaml" {
		t.Error("forCluster changed its input")
	}
}

func TestDiffPaths(t *testing.T) {
	tests := []struct {
		name       string
		want, got  string
		wantDiffs  []string
		wantNoDiff bool
	}{{
		name:       "equal, numbers from YAML and JSON alike",
		want:       "spec: {port: 15443, hosts: [a]}",
		got:        `{"spec": {"port": 15443, "hosts": ["a"]}}`,
		wantNoDiff: true,
	}, {
		name:      "a default added by the server",
		want:      "spec: {listeners: [{name: x}]}",
		got:       `{"spec": {"listeners": [{"name": "x", "allowedRoutes": {"namespaces": {"from": "Same"}}}]}}`,
		wantDiffs: []string{`.spec.listeners[0].allowedRoutes: added by the server: {"namespaces":{"from":"Same"}}`},
	}, {
		name:      "a field pruned and a value changed",
		want:      "spec: {a: 1, b: x}",
		got:       `{"spec": {"b": "y"}}`,
		wantDiffs: []string{".spec.a: dropped by the server (written 1)", `.spec.b: written "x", stored "y"`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := mustDecode(t, tt.want)
			g, _ := mustDecode(t, tt.got)
			diffs := diffPaths(w[0], g[0], "")
			if tt.wantNoDiff {
				if len(diffs) > 0 {
					t.Errorf("unexpected diffs: %v", diffs)
				}
				return
			}
			if !reflect.DeepEqual(diffs, tt.wantDiffs) {
				t.Errorf("diffs:\n%s\nwant:\n%s", strings.Join(diffs, "\n"), strings.Join(tt.wantDiffs, "\n"))
			}
		})
	}
}

func TestAsStoredDropsServerFields(t *testing.T) {
	got, _ := mustDecode(t, `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "uid": "u", "resourceVersion": "1", "generation": 1, "creationTimestamp": "t", "managedFields": []}, "status": {}}`)
	want, _ := mustDecode(t, "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n")
	if d := diffPaths(want[0], asStored(got[0]), ""); len(d) > 0 {
		t.Errorf("server-owned fields kept: %v", d)
	}
}
