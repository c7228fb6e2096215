package v1alpha1_test

import (
	"strings"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/krm"
)

// validateDoc decodes a config as the pipeline does (strictly, then
// defaults, then Validate) and returns its field errors.
func validateDoc(t *testing.T, doc string) []krm.FieldError {
	t.Helper()
	o, err := kfn.ParseKubeObject([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	switch o.GetKind() {
	case v1alpha1.KindMeshExport:
		var c v1alpha1.MeshExport
		if errs := krm.DecodeStrict(&o.SubObject, &c, "metadata"); len(errs) > 0 {
			return errs
		}
		c.Default()
		return c.Validate()
	default:
		var c v1alpha1.MeshImport
		if errs := krm.DecodeStrict(&o.SubObject, &c, "metadata"); len(errs) > 0 {
			return errs
		}
		c.Default()
		return c.Validate()
	}
}

const exportHead = `apiVersion: meshfed.dev/v1alpha1
kind: MeshExport
metadata: {name: west}
spec:
  network: west-network
`

const importHead = `apiVersion: meshfed.dev/v1alpha1
kind: MeshImport
metadata: {name: east}
spec:
  peers:
  - name: west-mesh
    network: west-network
    trustDomain: west.local
`

// What a cluster rejects or that asks for more than was meant is an error
// of the config, naming the field (issue 13 items 5 and 6). Each case is
// the spec's tail after exportHead or importHead; path "" means valid.
func TestValidateRejects(t *testing.T) {
	for _, c := range []struct {
		name, doc, path, want string
	}{
		{"gateway port given as 0", exportHead + "  gateway: {port: 0}\n", "spec.gateway.port", "0 is not a port number"},
		{"gateway port absent", exportHead, "", ""},
		{"gateway port fractional", exportHead + "  gateway: {port: 15443.5}\n", "spec.gateway.port", "must be of type integer"},
		{"gateway port above range", exportHead + "  gateway: {port: 65536}\n", "spec.gateway.port", "not a port number"},
		{"remote gateway port given as 0", importHead + "    gateway: {address: 203.0.113.10, port: 0}\n", "spec.peers[0].gateway.port", "0 is not a port number"},
		{"remote gateway port overflows int32", importHead + "    gateway: {address: 203.0.113.10, port: 4294982739}\n", "spec.peers[0].gateway.port", "out of range"},
		{"address ipv4", importHead + "    gateway: {address: 203.0.113.10}\n", "", ""},
		{"address ipv6", importHead + "    gateway: {address: '2001:db8::10'}\n", "", ""},
		{"address hostname", importHead + "    gateway: {address: gw.west.example.com}\n", "", ""},
		{"address ipv6 zone", importHead + "    gateway: {address: 'fe80::1%eth0'}\n", "spec.peers[0].gateway.address", "IPv6 zone"},
		{"address unspecified v4", importHead + "    gateway: {address: 0.0.0.0}\n", "spec.peers[0].gateway.address", "unspecified"},
		{"address unspecified v6", importHead + "    gateway: {address: '::'}\n", "spec.peers[0].gateway.address", "unspecified"},
		{"address loopback v4", importHead + "    gateway: {address: 127.0.0.1}\n", "spec.peers[0].gateway.address", "loopback"},
		{"address loopback v6", importHead + "    gateway: {address: '::1'}\n", "spec.peers[0].gateway.address", "loopback"},
		{"address localhost", importHead + "    gateway: {address: localhost}\n", "spec.peers[0].gateway.address", "loopback"},
		{"address multicast", importHead + "    gateway: {address: 224.0.0.1}\n", "spec.peers[0].gateway.address", "multicast"},
		{"address numeric last label", importHead + "    gateway: {address: gw.west.123}\n", "spec.peers[0].gateway.address", "all digits"},
		{"address long label", importHead + "    gateway: {address: " + strings.Repeat("g", 64) + ".example.com}\n", "spec.peers[0].gateway.address", "at most 63"},
		{"address given twice", importHead + "    gateway: {addresses: [203.0.113.10, 203.0.113.10]}\n", "spec.peers[0].gateway.addresses[1]", "already given as spec.peers[0].gateway.addresses[0]"},
		{"address and addresses overlap", importHead + "    gateway: {address: 203.0.113.10, addresses: [203.0.113.10]}\n", "spec.peers[0].gateway.addresses[0]", "already given as spec.peers[0].gateway.address"},
		{"import host long label", importHead + "    gateway: {address: 203.0.113.10}\n    services:\n    - {host: " + strings.Repeat("h", 64) + ".b.svc.cluster.local, ports: [{number: 80}], serviceAccount: b/x}\n", "spec.peers[0].services[0].host", "at most 63"},
		{"import host numeric last label", importHead + "    gateway: {address: 203.0.113.10}\n    services:\n    - {host: httpbin.b.0, ports: [{number: 80}], serviceAccount: b/x}\n", "spec.peers[0].services[0].host", "all digits"},
		{"export host numeric last label", exportHead + "  services:\n  - {name: httpbin, namespace: a, hosts: [httpbin.a.1]}\n", "spec.services[0].hosts[0]", "all digits"},
		{"export port fractional", exportHead + "  services:\n  - {name: httpbin, namespace: a, ports: [{number: 8000.5}]}\n", "spec.services[0].ports[0].number", "must be of type integer"},
		{"trust domain upper case", strings.Replace(importHead, "west.local", "West.Local", 1) + "    gateway: {address: 203.0.113.10}\n", "spec.peers[0].trustDomain", "not a valid trust domain"},
		{"trust domain with spaces", strings.Replace(importHead, "west.local", "'west local'", 1) + "    gateway: {address: 203.0.113.10}\n", "spec.peers[0].trustDomain", "not a valid trust domain"},
		{"trust domain spiffe URI", strings.Replace(importHead, "west.local", "'spiffe://west.local'", 1) + "    gateway: {address: 203.0.113.10}\n", "spec.peers[0].trustDomain", "is a URI"},
		{"service account with path", importHead + "    gateway: {address: 203.0.113.10}\n    services:\n    - {host: httpbin.b.svc.cluster.local, ports: [{number: 80}], serviceAccount: x/sa/admin}\n", "spec.peers[0].services[0].serviceAccount", "not a valid service account name"},
		{"service account wildcard", importHead + "    gateway: {address: 203.0.113.10}\n    services:\n    - {host: httpbin.b.svc.cluster.local, ports: [{number: 80}], serviceAccount: 'b/*'}\n", "spec.peers[0].services[0].serviceAccount", "not a valid service account name"},
		{"service account upper case", importHead + "    gateway: {address: 203.0.113.10}\n    services:\n    - {host: httpbin.b.svc.cluster.local, ports: [{number: 80}], serviceAccount: b/HTTPBIN}\n", "spec.peers[0].services[0].serviceAccount", "not a valid service account name"},
		{"service account namespace invalid", importHead + "    gateway: {address: 203.0.113.10}\n    services:\n    - {host: httpbin.b.svc.cluster.local, ports: [{number: 80}], serviceAccount: B/httpbin}\n", "spec.peers[0].services[0].serviceAccount", "not a valid namespace name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			errs := validateDoc(t, c.doc)
			if c.path == "" {
				if len(errs) > 0 {
					t.Fatalf("want no error, got %v", errs)
				}
				return
			}
			for _, e := range errs {
				if e.Path == c.path && strings.Contains(e.Message, c.want) {
					return
				}
			}
			t.Fatalf("want an error at %s containing %q, got %v", c.path, c.want, errs)
		})
	}
}
