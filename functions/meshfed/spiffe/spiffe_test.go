package spiffe

import (
	"strings"
	"testing"
)

// Trust domains from configs and ServiceMeshPeers: the rule is what both
// Istio (pkg/config/validation/agent ValidateTrustDomain) and SPIFFE
// (standards/SPIFFE-ID.md 2.1, 2.3) accept; the bad ones are those that
// became subjectAltNames and trustDomainAliases before (issue 13 item 5).
func TestCheckTrustDomain(t *testing.T) {
	for _, c := range []struct {
		td   string
		want string // "" valid, else a substring of the error
	}{
		{"west.local", ""},
		{"cluster.local", ""},
		{"td-1", ""},
		{"k8s-west.example.com", ""},
		{strings.Repeat("a.", 127) + "a", ""}, // 255 characters
		{"", "must not be empty"},
		{"*", "wildcard"},
		{"*.local", "wildcard"},
		{"spiffe://west.local", "is a URI"},
		{"https://west.local", "is a URI"},
		{"west.local/ns/b/sa/admin", "contains a path"},
		{"west local", "not a valid trust domain"},
		{" west.local", "not a valid trust domain"},
		{"West.Local", "not a valid trust domain"},
		{"west.local.", "not a valid trust domain"},
		{"west..local", "not a valid trust domain"},
		{"west_local", "not a valid trust domain"},
		{"west.local:15443", "not a valid trust domain"},
		{"user@west.local", "not a valid trust domain"},
		{"-west.local", "not a valid trust domain"},
		{strings.Repeat("a", 64) + ".local", "not a valid trust domain"},
		{strings.Repeat("a.", 128), "longer than 255"},
	} {
		err := CheckTrustDomain(c.td)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("CheckTrustDomain(%q) = %v, want nil", c.td, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("CheckTrustDomain(%q) = %v, want an error containing %q", c.td, err, c.want)
		case err != nil && !strings.Contains(err.Error(), "e.g. `west.local`"):
			t.Errorf("CheckTrustDomain(%q) = %v: the message must say what to write", c.td, err)
		}
	}
}

// Service account names as the API server validates them (apimachinery
// ValidateServiceAccountName): `x/sa/admin`, `*` and `HTTPBIN` became
// identities before.
func TestCheckServiceAccount(t *testing.T) {
	for _, c := range []struct {
		sa string
		ok bool
	}{
		{"httpbin", true},
		{"default", true},
		{"my.sa-1", true},
		{"x/sa/admin", false},
		{"*", false},
		{"HTTPBIN", false},
		{"", false},
		{"sa admin", false},
		{strings.Repeat("a", 254), false},
	} {
		if err := CheckServiceAccount(c.sa); (err == nil) != c.ok {
			t.Errorf("CheckServiceAccount(%q) = %v, want ok=%v", c.sa, err, c.ok)
		}
	}
}

func TestCheckNamespace(t *testing.T) {
	for _, c := range []struct {
		ns string
		ok bool
	}{
		{"b", true},
		{"istio-system", true},
		{"a.b", false},
		{"B", false},
		{"*", false},
		{"", false},
	} {
		if err := CheckNamespace(c.ns); (err == nil) != c.ok {
			t.Errorf("CheckNamespace(%q) = %v, want ok=%v", c.ns, err, c.ok)
		}
	}
}
