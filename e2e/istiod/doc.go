// Package istiod is an opt-in end-to-end check that runs Istio's in-process fake discovery
// server (istio.io/istio/pilot/test/xds) on the resources meshfed generates for the
// migration guide's scenario, and asserts what istiod would send to the proxies: EDS for the
// importing cluster's client sidecar and SNI listeners, clusters and endpoints for the exporting
// cluster's east-west gateway.
//
// It is a separate Go module because istio.io/istio pulls in well over a hundred modules; the
// function's own module must not depend on it. All the code is in the _test.go files.
package istiod
