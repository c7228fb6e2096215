// Package hostname holds the rules for the exact hostnames meshfed
// exposes on the east-west gateway, writes into ServiceEntries and takes
// as gateway addresses.
package hostname

import (
	"fmt"
	"strings"
)

// Check returns nil when h is an exact hostname that both the API server
// and istiod accept, else what is wrong with it.
//
// The rule is the intersection of what the generated objects must pass:
// Kubernetes' DNS-1123 subdomain (k8s.io/apimachinery
// pkg/util/validation IsDNS1123Subdomain: lowercase alphanumerics, '-' and
// '.', at most 253 characters), which is also the shape of Gateway API's
// Hostname type without its wildcard; and istiod's FQDN rule for
// ServiceEntry hosts and Gateway hosts (istio/istio
// pkg/config/validation/agent/validation.go, ValidateFQDN and
// ValidateDNS1123Labels: every label at most 63 characters, and a last
// label that is not all digits, which would make the name read as an IP
// address). Wildcards are refused: meshfed exposes and imports exact names
// only.
func Check(h string) error {
	switch {
	case h == "":
		return fmt.Errorf("is empty")
	case strings.Contains(h, "*"):
		return fmt.Errorf("%q is a wildcard: meshfed exposes and imports exact hostnames only", h)
	case len(h) > 253:
		return fmt.Errorf("%q is %d characters long: a hostname has at most 253", h, len(h))
	}
	last := ""
	for label := range strings.SplitSeq(h, ".") {
		if err := checkLabel(label); err != nil {
			return fmt.Errorf("%q is not a valid hostname: %v", h, err)
		}
		last = label
	}
	if allDigits(last) {
		return fmt.Errorf("%q is not a valid hostname: its last label %q is all digits, so it reads as an IP address (istiod rejects it)", h, last)
	}
	return nil
}

// checkLabel is the DNS-1123 label rule, without a regular expression:
// Check runs for every host of a large fleet.
func checkLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("it has an empty label (two dots in a row, or a dot at an end)")
	case len(l) > 63:
		return fmt.Errorf("label %q is %d characters long: a label has at most 63", l, len(l))
	case !isAlnum(l[0]) || !isAlnum(l[len(l)-1]):
		return fmt.Errorf("label %q must start and end with a lowercase letter or digit", l)
	}
	for i := 1; i < len(l)-1; i++ {
		if !isAlnum(l[i]) && l[i] != '-' {
			return fmt.Errorf("label %q may contain only lowercase letters, digits and '-'", l)
		}
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
