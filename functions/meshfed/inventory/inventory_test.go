package inventory

import (
	"fmt"
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/krm"
	"k8s.io/apimachinery/pkg/labels"
)

func object(t *testing.T, s string) *kfn.KubeObject {
	t.Helper()
	o, err := kfn.ParseKubeObject([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// readService and readWorkload read an item as the pipeline does.
func readService(o *kfn.KubeObject, name string) (*Service, []krm.FieldError) {
	meta := krm.MetaOf(o)
	var m ServiceManifest
	decoded := krm.DecodeNode(meta.Node(), &m)
	s, errs := NewService(meta, name, &m)
	return s, krm.Beside(decoded, errs)
}

func readWorkload(o *kfn.KubeObject) (*Workload, []krm.FieldError) {
	meta := krm.MetaOf(o)
	m := NewWorkloadManifest(meta)
	decoded := krm.DecodeNode(meta.Node(), m)
	w, errs := NewWorkload(meta, m)
	return w, krm.Beside(decoded, errs)
}

func service(t *testing.T, s string) *Service {
	t.Helper()
	o := object(t, s)
	svc, errs := readService(o, o.GetName())
	if len(errs) > 0 {
		t.Fatalf("readService: %v", errs)
	}
	return svc
}

func workload(t *testing.T, s string) *Workload {
	t.Helper()
	w, errs := readWorkload(object(t, s))
	if len(errs) > 0 {
		t.Fatalf("readWorkload: %v", errs)
	}
	return w
}

const httpbin = `apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: a}
spec:
  selector: {app: httpbin}
  ports:
  - {name: http, port: 8000, targetPort: 8080}
  - {name: web, port: 9000, targetPort: http-alt}
  - {name: plain, port: 7000}
  - {name: quoted, port: 7100, targetPort: "7101"}
`

func TestParseServiceAndTargetPorts(t *testing.T) {
	inv := New()
	svc := service(t, httpbin)
	inv.AddService(svc)
	inv.AddWorkload(workload(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: httpbin, namespace: a}
spec:
  template:
    metadata: {labels: {app: httpbin, version: v1}}
    spec:
      containers:
      - name: c
        ports: [{name: http-alt, containerPort: 8081}]
`))
	want := []struct {
		port int32
		ok   bool
	}{{8080, true}, {8081, true}, {7000, true}, {7101, true}}
	for i, p := range svc.Ports {
		got, ok := inv.TargetPort(svc, p)
		if got != want[i].port || ok != want[i].ok {
			t.Errorf("port %s: TargetPort = %d, %v; want %d, %v", p.Name, got, ok, want[i].port, want[i].ok)
		}
	}
}

func TestTargetPortUnresolvable(t *testing.T) {
	inv := New()
	svc := service(t, httpbin)
	inv.AddService(svc)
	if _, ok := inv.TargetPort(svc, svc.Ports[1]); ok {
		t.Error("a named targetPort with no workload behind the Service must not resolve")
	}
	for _, port := range []string{"8081", "8082"} {
		inv.AddWorkload(workload(t, `apiVersion: v1
kind: Pod
metadata: {name: p`+port+`, namespace: a, labels: {app: httpbin}}
spec:
  containers: [{name: c, ports: [{name: http-alt, containerPort: `+port+`}]}]
`))
	}
	if _, ok := inv.TargetPort(svc, svc.Ports[1]); ok {
		t.Error("workloads that disagree on the named port must not resolve")
	}
}

func TestParseServiceErrors(t *testing.T) {
	tests := []struct {
		name, yaml, field string
	}{
		{"port not a number", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {ports: [{port: eighty}]}\n", "spec.ports[0].port"},
		{"selector not a map", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {selector: [app]}\n", "spec.selector"},
		{"no namespace", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {}\n", "metadata.namespace"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := object(t, tc.yaml)
			_, errs := readService(o, "s")
			var paths []string
			for _, e := range errs {
				paths = append(paths, e.Path)
			}
			if !strings.Contains(strings.Join(paths, " "), tc.field) {
				t.Errorf("errors %v, want one on %s", errs, tc.field)
			}
		})
	}
}

func TestParseWorkloadPorts(t *testing.T) {
	const head = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\nspec: {template: {spec: {containers: "
	tests := []struct {
		name, containers string
		ports            map[string]int32
		errors           string // paths and messages, "; "-separated
	}{
		{"named and unnamed", "[{ports: [{name: http, containerPort: 8080}, {containerPort: 9090}]}, {ports: [{name: grpc, containerPort: 0x1F90}]}]", map[string]int32{"http": 8080, "grpc": 8080}, ""},
		{"no ports", "[{name: app}]", nil, ""},
		{"a name twice: the last counts", "[{ports: [{name: http, containerPort: 1}]}, {ports: [{name: http, containerPort: 2}]}]", map[string]int32{"http": 2}, ""},
		{"ports not a list", "[{name: app}, {ports: {http: 80}}]", nil, "spec.template.spec.containers[1].ports must be a list of objects"},
		{"name not a string", "[{ports: [{name: [http], containerPort: 80}]}]", nil, "spec.template.spec.containers[0].ports[0].name must be a string"},
		{"port not a number", "[{ports: [{name: x}, {name: http, containerPort: eighty}]}]", map[string]int32{"x": 0, "http": 0}, "spec.template.spec.containers[0].ports[1].containerPort must be an integer; spec.template.spec.containers[0].ports[0].containerPort is missing or 0: give the port number, 1-65535"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, errs := readWorkload(object(t, head+tc.containers+"}}}\n"))
			var got []string
			for _, e := range errs {
				got = append(got, e.Path+" "+e.Message)
			}
			if strings.Join(got, "; ") != tc.errors {
				t.Errorf("errors %q, want %q", strings.Join(got, "; "), tc.errors)
			}
			ports := map[string]int32{}
			for _, p := range w.ContainerPorts {
				ports[p.Name], _ = w.ContainerPort(p.Name)
			}
			if fmt.Sprint(ports) != fmt.Sprint(tc.ports) && len(ports)+len(tc.ports) > 0 {
				t.Errorf("ports %v, want %v", ports, tc.ports)
			}
		})
	}
}

func TestParseWorkloadKinds(t *testing.T) {
	tests := []struct {
		name, yaml, sa string
		labels         string
	}{
		{"deployment default account", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\nspec: {template: {metadata: {labels: {app: x}}, spec: {containers: []}}}\n", "default", "x"},
		{"statefulset deprecated field", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: d, namespace: a}\nspec: {template: {metadata: {labels: {app: x}}, spec: {serviceAccount: old}}}\n", "old", "x"},
		{"cronjob nested template", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: d, namespace: a}\nspec: {jobTemplate: {spec: {template: {metadata: {labels: {app: job}}, spec: {serviceAccountName: runner}}}}}\n", "runner", "job"},
		{"openshift deploymentconfig", "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {name: d, namespace: a}\nspec: {template: {metadata: {labels: {app: dc}}, spec: {serviceAccountName: dc}}}\n", "dc", "dc"},
		{"pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a, labels: {app: pod}}\nspec: {serviceAccountName: pod-sa}\n", "pod-sa", "pod"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := object(t, tc.yaml)
			if !IsWorkload(krm.MetaOf(o)) {
				t.Fatal("not recognised as a workload")
			}
			w, errs := readWorkload(o)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if w.ServiceAccount != tc.sa || w.PodLabels.Get("app") != tc.labels {
				t.Errorf("got account %q labels %v, want %q app=%s", w.ServiceAccount, w.PodLabels, tc.sa, tc.labels)
			}
		})
	}
}

func TestSelectedAndServiceAccounts(t *testing.T) {
	inv := New()
	svc := &Service{ServiceName: federation.ServiceName{Name: "s", Namespace: "a"}, Selector: map[string]string{"app": "x", "tier": "web"}}
	add := func(ns, name, sa string, labels Labels) {
		inv.AddWorkload(&Workload{Namespace: ns, ServiceAccount: sa, PodLabels: labels})
	}
	add("a", "match-1", "sa-b", Labels{{"app", "x"}, {"tier", "web"}, {"v", "1"}})
	add("a", "match-2", "sa-a", Labels{{"app", "x"}, {"tier", "web"}})
	add("a", "match-3", "sa-a", Labels{{"app", "x"}, {"tier", "web"}, {"v", "3"}})
	add("a", "partial", "sa-partial", Labels{{"app", "x"}})
	add("b", "other-namespace", "sa-other", Labels{{"app", "x"}, {"tier", "web"}})
	if got := strings.Join(inv.ServiceAccounts(svc), ","); got != "sa-a,sa-b" {
		t.Errorf("ServiceAccounts = %s, want sa-a,sa-b (sorted, distinct, same namespace, all labels)", got)
	}
	if got := inv.Selected("a", nil); got != nil {
		t.Errorf("an empty selector selects nothing, got %d workloads", len(got))
	}
	// Backends are cached per Service; a workload added later counts.
	// A key written twice counts with its last value.
	add("a", "match-4", "sa-c", Labels{{"tier", "db"}, {"app", "x"}, {"tier", "web"}})
	add("a", "overwritten", "sa-overwritten", Labels{{"tier", "web"}, {"app", "x"}, {"tier", "db"}})
	if got := strings.Join(inv.ServiceAccounts(svc), ","); got != "sa-a,sa-b,sa-c" {
		t.Errorf("ServiceAccounts after adding a workload = %s, want sa-a,sa-b,sa-c", got)
	}
	if n := len(inv.Backends(svc)); n != 4 {
		t.Errorf("%d backends, want 4", n)
	}
}

func TestServicesSortedAndDuplicates(t *testing.T) {
	inv := New()
	for _, n := range []federation.ServiceName{{Name: "z", Namespace: "b"}, {Name: "a", Namespace: "b"}, {Name: "z", Namespace: "a"}} {
		if !inv.AddService(&Service{ServiceName: n}) {
			t.Fatalf("AddService(%s) = false", n)
		}
	}
	if inv.AddService(&Service{ServiceName: federation.ServiceName{Name: "z", Namespace: "a"}}) {
		t.Error("a duplicate Service was accepted")
	}
	var got []string
	for _, s := range inv.Services() {
		got = append(got, s.String())
	}
	if strings.Join(got, " ") != "a/z b/a b/z" {
		t.Errorf("Services() = %v", got)
	}
}

func TestParseServiceWithoutName(t *testing.T) {
	o := object(t, "apiVersion: v1\nkind: Service\nmetadata: {namespace: a}\nspec: {}\n")
	if _, errs := readService(o, ""); len(errs) == 0 || errs[0].Path != "metadata.name" {
		t.Errorf("errors %v, want one on metadata.name", errs)
	}
}

// Labels read like a map, so apimachinery's label selectors match them as
// they match a labels.Set.
func TestLabelsAsSelectorInput(t *testing.T) {
	l := Labels{{"app", "x"}, {"tier", "db"}, {"tier", "web"}}
	if v, ok := l.Lookup("tier"); !ok || v != "web" || !l.Has("app") || l.Has("v") || l.Get("v") != "" {
		t.Errorf("Lookup(tier) = %q, %v; Has(app) %v; Has(v) %v", v, ok, l.Has("app"), l.Has("v"))
	}
	for _, tc := range []struct {
		selector string
		want     bool
	}{
		{"tier=web", true}, {"tier=db", false}, {"app in (x,y),!v", true}, {"v", false},
	} {
		sel, err := labels.Parse(tc.selector)
		if err != nil {
			t.Fatal(err)
		}
		if got := sel.Matches(l); got != tc.want || got != sel.Matches(labels.Set{"app": "x", "tier": "web"}) {
			t.Errorf("%q matches %v, want %v", tc.selector, got, tc.want)
		}
	}
}
