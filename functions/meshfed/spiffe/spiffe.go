// Package spiffe holds the rules for the identities meshfed writes into
// ServiceEntry subjectAltNames and control-plane trustDomainAliases:
// spiffe://<trust domain>/ns/<namespace>/sa/<service account>.
package spiffe

import (
	"fmt"
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
)

// maxTrustDomain is the SPIFFE limit on a trust domain name: it is the
// host part of a URI, which RFC 3986 caps at 255 characters (spiffe/spiffe
// standards/SPIFFE-ID.md, sections 2.1 and 2.3).
const maxTrustDomain = 255

// CheckTrustDomain returns nil when td is a trust domain both SPIFFE and
// Istio accept, else why not and what to write instead.
//
// Istio's rule (istio/istio pkg/config/validation/agent/validation.go,
// ValidateTrustDomain, applied to meshConfig.trustDomain and
// trustDomainAliases) is dot-separated DNS-1123 labels; SPIFFE's
// (standards/SPIFFE-ID.md section 2.1) is the host part of a URI, without
// scheme, user info, port or path. meshfed takes what both accept and what
// makes one identity: lowercase labels, no trailing dot (istiod would treat
// `west.local.` as a different trust domain from `west.local`), at most 255
// characters. A `/` would also break istiod's own parsing of the identity
// (pkg/spiffe/spiffe.go, ParseIdentity splits on it into exactly five
// parts), and `*` is not a trust domain at all.
func CheckTrustDomain(td string) error {
	const fix = "give the bare trust domain of the peer's control plane (its meshConfig.trustDomain, ServiceMeshPeer spec.security.trustDomain), e.g. `west.local`"
	switch {
	case td == "":
		return fmt.Errorf("must not be empty: %s", fix)
	case strings.HasPrefix(td, "spiffe://") || strings.Contains(td, "://"):
		return fmt.Errorf("%q is a URI, not a trust domain: %s", td, fix)
	case strings.Contains(td, "/"):
		return fmt.Errorf("%q contains a path: a trust domain is only the part before /ns/...; %s", td, fix)
	case strings.Contains(td, "*"):
		return fmt.Errorf("%q is a wildcard: a trust domain names exactly one control plane; %s", td, fix)
	case len(td) > maxTrustDomain:
		return fmt.Errorf("%q is longer than %d characters: %s", td, maxTrustDomain, fix)
	}
	for _, label := range strings.Split(td, ".") {
		if errs := validation.IsDNS1123Label(label); errs != nil {
			return fmt.Errorf("%q is not a valid trust domain (dot-separated lowercase DNS labels; label %q: %s): %s", td, label, strings.Join(errs, "; "), fix)
		}
	}
	return nil
}

// CheckServiceAccount returns nil when sa is a Kubernetes service account
// name, by the API server's own rule (k8s.io/apimachinery
// pkg/api/validation, ValidateServiceAccountName: a DNS-1123 subdomain), so
// lowercase, without `/` or `*`.
func CheckServiceAccount(sa string) error {
	if errs := apivalidation.ValidateServiceAccountName(sa, false); errs != nil {
		return fmt.Errorf("%q is not a valid service account name: Kubernetes allows lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters; write the name of the ServiceAccount object the pods run as, e.g. `httpbin`", sa)
	}
	return nil
}

// CheckNamespace returns nil when ns is a Kubernetes namespace name
// (k8s.io/apimachinery pkg/api/validation, ValidateNamespaceName: a
// DNS-1123 label).
func CheckNamespace(ns string) error {
	if errs := apivalidation.ValidateNamespaceName(ns, false); errs != nil {
		return fmt.Errorf("%q is not a valid namespace name: Kubernetes allows lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters", ns)
	}
	return nil
}

// ID is the SPIFFE identity Istio gives a workload (istio/istio
// pkg/spiffe/spiffe.go, Identity.String). Its parts must have passed the
// checks above.
func ID(trustDomain, namespace, serviceAccount string) string {
	return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount
}
