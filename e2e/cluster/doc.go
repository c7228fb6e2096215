// Package cluster is an opt-in end-to-end test (make test-cluster) that
// meets meshfed's output with a real Kubernetes API server and real Helm.
//
// It runs kube-apiserver (built from k8s.io/kubernetes with
// install-tools.sh) and Debian's etcd on loopback, installs the CRDs of the
// pinned istio.io/api and sigs.k8s.io/gateway-api modules plus minimal CRDs
// for the OSSM 2 and Sail input kinds, creates the namespaces each scenario's
// cluster has, and applies every generated output of the repository with
// `kubectl apply --server-side`: the goldens of functions/meshfed/testdata,
// the kustomize samples as kustomize builds them and the kpt examples as
// kpt renders them. Every object must be accepted, and each object meshfed
// generated must read back exactly as meshfed wrote it (no field added by
// the server's defaulting, which Argo CD would show as drift). Helm 3 and
// Helm 4 post-render a chart with meshfed, and install it on the server.
//
// It is a separate Go module so that the function's own module and
// `make test` need none of these tools. All the code is in _test.go files.
package cluster
