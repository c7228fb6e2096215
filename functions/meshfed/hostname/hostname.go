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

// ClusterService splits a host in a cluster domain: ok is true when it is
// the name Kubernetes gives a Service, <name>.<namespace>.svc.<domain>.
// inDomain reports whether the host is in the domain at all (the domain
// itself, a Service name, a pod's name such as
// 10-0-0-1.ns.pod.cluster.local, or any other name under it).
func ClusterService(h, domain string) (name, namespace string, inDomain, ok bool) {
	if h == domain {
		return "", "", true, false
	}
	rest, found := strings.CutSuffix(h, "."+domain)
	if !found {
		return "", "", false, false
	}
	rest, found = strings.CutSuffix(rest, ".svc")
	if !found {
		return "", "", true, false
	}
	name, namespace, found = strings.Cut(rest, ".")
	if !found || name == "" || namespace == "" || strings.Contains(namespace, ".") {
		return "", "", true, false
	}
	return name, namespace, true, true
}

// PodOfService splits a host of the form Kubernetes DNS gives a pod that
// sets hostname and subdomain under a headless Service:
// <pod>.<service>.<namespace>.svc.<domain> (StatefulSet pods get such names).
func PodOfService(h, domain string) (pod, service, namespace string, ok bool) {
	rest, found := strings.CutSuffix(h, ".svc."+domain)
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// Reserved says why a Service name in a cluster's own domain belongs to the
// cluster itself, so that no ServiceEntry meshfed generates may take it
// (a mesh-wide entry for such a name decides where every client of the
// mesh that dials it goes). extra are more namespaces of the platform: the
// control plane's and the east-west gateway's.
//
// The list, and why each is on it:
//   - kubernetes.default: the API server's own Service (every in-cluster
//     client, kubectl in pods and operators, dials it);
//   - kube-* namespaces (kube-system's kube-dns/CoreDNS and metrics-server,
//     kube-public, kube-node-lease): Kubernetes reserves the kube- prefix
//     for its system namespaces;
//   - istio-system: istiod (the control plane sidecars fetch
//     configuration and certificates from) and the mesh's gateways;
//   - openshift and openshift-* namespaces (openshift-dns's dns-default,
//     openshift-ingress, openshift-monitoring, ...): OpenShift reserves them
//     for the platform, and OSSM runs on OpenShift.
func Reserved(name, namespace string, extra ...string) (string, bool) {
	switch {
	case name == "kubernetes" && namespace == "default":
		return "it is the Kubernetes API server's own Service", true
	case strings.HasPrefix(namespace, "kube-"):
		return fmt.Sprintf("namespace %s is a Kubernetes system namespace (the kube- prefix is reserved), where cluster services such as kube-dns live", namespace), true
	case namespace == "istio-system":
		return "namespace istio-system holds the mesh's control plane (istiod) and gateways", true
	case namespace == "openshift" || strings.HasPrefix(namespace, "openshift-"):
		return fmt.Sprintf("namespace %s is an OpenShift system namespace", namespace), true
	}
	for _, ns := range extra {
		if ns == namespace {
			return fmt.Sprintf("namespace %s holds this mesh's control plane or east-west gateway", namespace), true
		}
	}
	return "", false
}
