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
