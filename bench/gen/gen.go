// Package gen writes synthetic meshfed inputs of any size: the ResourceList
// an exporting cluster (MeshExport) or an importing cluster (MeshImport)
// feeds to the function, shaped like examples/guide but with n Services.
//
// Every Service has a Deployment behind it and two ports, one with a
// numeric targetPort and one with a named targetPort that must be resolved
// through the Deployment's container ports. Services are spread over
// namespaces of servicesPerNamespace each; the export and import rules use
// wildcards, one LabelSelector rule and one importAsLocal rule, so that the
// benchmark exercises every rule kind on every Service.
package gen

import (
	"bytes"
	"fmt"
)

// servicesPerNamespace is how many Services share a namespace.
const servicesPerNamespace = 50

// Kind says which cluster's input to generate.
type Kind string

const (
	Exporter Kind = "exporter"
	Importer Kind = "importer"
)

// ResourceList returns the input of kind with n Services, as kpt sends it.
func ResourceList(kind Kind, n int) []byte {
	switch kind {
	case Exporter:
		return ExporterInput(n)
	case Importer:
		return ImporterInput(n)
	}
	panic(fmt.Sprintf("gen: unknown kind %q", kind))
}

// ExporterInput is the exporting cluster (West): a MeshExport as the
// functionConfig, this mesh's ServiceMeshPeer and ExportedServiceSet for
// east-mesh, the peer's ImportedServiceSet (reference data) and n Services
// with their Deployments.
func ExporterInput(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`apiVersion: config.kubernetes.io/v1
kind: ResourceList
functionConfig:
  apiVersion: meshfed.dev/v1alpha1
  kind: MeshExport
  metadata:
    name: west
    annotations:
      config.kubernetes.io/local-config: "true"
  spec:
    network: west-network
items:
`)
	peer(&b, "east-mesh", "east.local", "198.51.100.20")
	exportedServiceSet(&b, "east-mesh", "")
	importedServiceSet(&b, "west-mesh", "east-mesh")
	for i := 0; i < n; i++ {
		service(&b, i, "")
		deployment(&b, i, "")
	}
	return b.Bytes()
}

// ImporterInput is the importing cluster (East): a MeshImport as the
// functionConfig, this mesh's ServiceMeshPeer and ImportedServiceSet for
// west-mesh, and the peer's ExportedServiceSet with n Services and their
// Deployments as peer items.
func ImporterInput(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`apiVersion: config.kubernetes.io/v1
kind: ResourceList
functionConfig:
  apiVersion: meshfed.dev/v1alpha1
  kind: MeshImport
  metadata:
    name: east
    annotations:
      config.kubernetes.io/local-config: "true"
  spec:
    network: network-east-mesh
    peers:
    - name: west-mesh
      network: west-network
      gateway:
        address: 203.0.113.10
items:
`)
	peer(&b, "west-mesh", "west.local", "198.51.100.10")
	importedServiceSet(&b, "west-mesh", "")
	exportedServiceSet(&b, "east-mesh", "west-mesh")
	for i := 0; i < n; i++ {
		service(&b, i, "west-mesh")
		deployment(&b, i, "west-mesh")
	}
	return b.Bytes()
}

// annotations writes the metadata.annotations of an item: kpt's file
// location, and for a peer item the peer and local-config annotations.
func annotations(b *bytes.Buffer, path, peerName string) {
	fmt.Fprintf(b, "    annotations:\n      internal.config.kubernetes.io/path: %s\n", path)
	if peerName != "" {
		fmt.Fprintf(b, "      meshfed.dev/peer: %s\n      config.kubernetes.io/local-config: \"true\"\n", peerName)
	}
}

func peer(b *bytes.Buffer, name, trustDomain, address string) {
	fmt.Fprintf(b, `- apiVersion: federation.maistra.io/v1
  kind: ServiceMeshPeer
  metadata:
    name: %[1]s
    namespace: istio-system
`, name)
	annotations(b, "federation/peer.yaml", "")
	fmt.Fprintf(b, `  spec:
    remote:
      addresses:
      - %[3]s
      discoveryPort: 8188
      servicePort: 15443
    gateways:
      ingress:
        name: federation-ingress
      egress:
        name: federation-egress
    security:
      trustDomain: %[2]s
      clientID: %[2]s/ns/istio-system/sa/federation-egress-service-account
      certificateChain:
        kind: ConfigMap
        name: %[1]s-ca-root-cert
`, name, trustDomain, address)
}

// exportedServiceSet exports every Service: those labelled tier: backend
// through a LabelSelector rule, the rest through a wildcard NameSelector.
func exportedServiceSet(b *bytes.Buffer, name, peerName string) {
	fmt.Fprintf(b, `- apiVersion: federation.maistra.io/v1
  kind: ExportedServiceSet
  metadata:
    name: %s
    namespace: istio-system
`, name)
	annotations(b, "federation/exports.yaml", peerName)
	b.WriteString(`  spec:
    exportRules:
    - type: LabelSelector
      labelSelector:
        namespace: "*"
        selector:
          matchLabels:
            tier: backend
    - type: NameSelector
      nameSelector:
        namespace: "*"
        name: "*"
`)
}

// importedServiceSet imports everything, Service svc-00000 of ns-000 as
// local.
//
// One Service, not a namespace: the importAsLocal rule once named the
// whole namespace ns-000, a fixed 50 Services, which the exporter does not
// generate a ServiceEntry for. So the exporter's output was not
// proportional to n (52 objects at 100 Services, 952 at 1,000, 9,952 at
// 10,000: 18x the objects for the first 10x the Services), and the core's
// 100->1,000 scaling check timed that change of mix rather than how
// meshfed scales. With one Service the mix is the same at every size
// (n+1 objects) and every rule kind is still exercised.
func importedServiceSet(b *bytes.Buffer, name, peerName string) {
	fmt.Fprintf(b, `- apiVersion: federation.maistra.io/v1
  kind: ImportedServiceSet
  metadata:
    name: %s
    namespace: istio-system
`, name)
	annotations(b, "federation/imports.yaml", peerName)
	b.WriteString(`  spec:
    importRules:
    - type: NameSelector
      importAsLocal: true
      nameSelector:
        namespace: ns-000
        name: svc-00000
        alias:
          namespace: ns-000
    - type: NameSelector
      nameSelector:
        namespace: "*"
`)
}

func names(i int) (name, namespace string) {
	return fmt.Sprintf("svc-%05d", i), fmt.Sprintf("ns-%03d", i/servicesPerNamespace)
}

func tier(i int) string {
	if i%2 == 0 {
		return "backend"
	}
	return "frontend"
}

func service(b *bytes.Buffer, i int, peerName string) {
	name, ns := names(i)
	fmt.Fprintf(b, `- apiVersion: v1
  kind: Service
  metadata:
    name: %[1]s
    namespace: %[2]s
    labels:
      app: %[1]s
      tier: %[3]s
`, name, ns, tier(i))
	annotations(b, ns+"/"+name+".yaml", peerName)
	fmt.Fprintf(b, `  spec:
    selector:
      app: %[1]s
    ports:
    - name: http
      port: 8000
      targetPort: 8080
    - name: grpc
      port: 9000
      targetPort: grpc
`, name)
}

func deployment(b *bytes.Buffer, i int, peerName string) {
	name, ns := names(i)
	fmt.Fprintf(b, `- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: %[1]s
    namespace: %[2]s
`, name, ns)
	annotations(b, ns+"/"+name+".yaml", peerName)
	fmt.Fprintf(b, `  spec:
    replicas: 2
    selector:
      matchLabels:
        app: %[1]s
    template:
      metadata:
        labels:
          app: %[1]s
          version: v1
      spec:
        serviceAccountName: %[1]s
        containers:
        - name: app
          image: registry.example.com/%[2]s/%[1]s:v1
          ports:
          - name: http
            containerPort: 8080
          - name: grpc
            containerPort: 9090
`, name, ns)
}
