package hostname

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Check accepts what the API server's DNS-1123 subdomain rule and istiod's
// ValidateFQDN (istio/istio pkg/config/validation/agent/validation.go)
// both accept; the bad hosts below were accepted before and rejected only
// by a cluster (issue 13 item 6).
func TestCheck(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	for _, c := range []struct {
		host string
		want string // "" valid, else a substring of the error
	}{
		{"httpbin.a.svc.cluster.local", ""},
		{"httpbin.a.svc.west-mesh-imports.local", ""},
		{"a", ""},
		{"1a.b2", ""},
		{label63 + ".local", ""},
		{strings.Repeat(label63+".", 3) + strings.Repeat("a", 61), ""}, // 253 characters
		{"", "is empty"},
		{"*.local", "wildcard"},
		{"a.*", "wildcard"},
		{strings.Repeat("a", 64) + ".local", "at most 63"},
		{"httpbin.a.svc.cluster." + strings.Repeat("x", 64), "at most 63"},
		{strings.Repeat(label63+".", 4), "at most 253"},
		{"10.0.0.1", "all digits"},
		{"httpbin.a.123", "all digits"},
		{"Httpbin.a", "lowercase"},
		{"httpbin_v2.a", "only lowercase letters, digits and '-'"},
		{"-a.b", "start and end"},
		{"a..b", "empty label"},
		{"a.b.", "empty label"},
		{".a", "empty label"},
		{"a b", "only lowercase"},
	} {
		err := Check(c.host)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("Check(%q) = %v, want nil", c.host, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("Check(%q) = %v, want an error containing %q", c.host, err, c.want)
		}
		// Never more lenient than the API server's rule.
		if err == nil && validation.IsDNS1123Subdomain(c.host) != nil {
			t.Errorf("Check(%q) accepts what IsDNS1123Subdomain rejects", c.host)
		}
	}
}

func TestClusterService(t *testing.T) {
	for _, c := range []struct {
		host, name, namespace string
		inDomain, ok          bool
	}{
		{"httpbin.b.svc.cluster.local", "httpbin", "b", true, true},
		{"kubernetes.default.svc.cluster.local", "kubernetes", "default", true, true},
		{"httpbin.a.svc.west-mesh-imports.local", "", "", false, false},
		{"cluster.local", "", "", true, false},
		{"svc.cluster.local", "", "", true, false},
		{"b.svc.cluster.local", "", "", true, false},
		{"web-0.httpbin.b.svc.cluster.local", "", "", true, false}, // a StatefulSet pod
		{"10-0-0-1.b.pod.cluster.local", "", "", true, false},
		{"notcluster.local", "", "", false, false},
		{"httpbin.b.svc.cluster.local.evil", "", "", false, false},
	} {
		name, ns, in, ok := ClusterService(c.host, "cluster.local")
		if name != c.name || ns != c.namespace || in != c.inDomain || ok != c.ok {
			t.Errorf("ClusterService(%q) = %q, %q, %v, %v; want %q, %q, %v, %v", c.host, name, ns, in, ok, c.name, c.namespace, c.inDomain, c.ok)
		}
	}
}

func TestReserved(t *testing.T) {
	for _, c := range []struct {
		name, namespace string
		extra           []string
		reserved        bool
	}{
		{"kubernetes", "default", nil, true},
		{"httpbin", "default", nil, false}, // apps do run in default
		{"kube-dns", "kube-system", nil, true},
		{"anything", "kube-public", nil, true},
		{"istiod", "istio-system", nil, true},
		{"dns-default", "openshift-dns", nil, true},
		{"x", "openshift", nil, true},
		{"istiod-basic", "cp", []string{"cp"}, true},
		{"httpbin", "b", []string{"cp"}, false},
		{"httpbin", "kube", nil, false},
	} {
		why, reserved := Reserved(c.name, c.namespace, c.extra...)
		if reserved != c.reserved || reserved == (why == "") {
			t.Errorf("Reserved(%q, %q, %v) = %q, %v; want reserved=%v with a reason", c.name, c.namespace, c.extra, why, reserved, c.reserved)
		}
	}
}

func TestPodOfService(t *testing.T) {
	for _, c := range []struct {
		host         string
		pod, svc, ns string
		ok           bool
	}{
		{"web-0.httpbin.a.svc.cluster.local", "web-0", "httpbin", "a", true},
		{"httpbin.c.mirror.svc.cluster.local", "httpbin", "c", "mirror", true},
		{"httpbin.a.svc.cluster.local", "", "", "", false},
		{"a.b.c.d.svc.cluster.local", "", "", "", false},
		{"10-0-0-1.a.pod.cluster.local", "", "", "", false},
	} {
		pod, svc, ns, ok := PodOfService(c.host, "cluster.local")
		if pod != c.pod || svc != c.svc || ns != c.ns || ok != c.ok {
			t.Errorf("PodOfService(%q) = %q, %q, %q, %v", c.host, pod, svc, ns, ok)
		}
	}
}
