package pipeline

import (
	"encoding/json"
	"fmt"
	"strings"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/inventory"
	"github.com/meshfed/meshfed/krm"
	"google.golang.org/protobuf/encoding/protojson"
	networking "istio.io/api/networking/v1alpha3"
)

// readServiceEntry adds a MESH_INTERNAL ServiceEntry's hosts to the export
// candidates: OSSM 2's export server offered every service of istiod's
// registries that is not mesh-external (maistra/istio maistra-2.5
// pkg/servicemesh/federation/server/server.go:404-416, resync over
// env.Services(), skipping svc.External(); common/exports.go:84 skips
// MeshExternal), and a ServiceEntry becomes one service per host, named
// after the host, in the ServiceEntry's namespace, with its labels and its
// exportTo (pilot/pkg/serviceregistry/serviceentry/conversion.go:209-235,
// buildServices). The location defaults to MESH_EXTERNAL (the API's enum 0).
// The spec is decoded as Istio's own type, so that it reads as istiod reads
// it.
func readServiceEntry(m *mesh, o *kfn.KubeObject, meta krm.Meta, namespace string, ref diag.Ref, f *diag.Findings) {
	se, err := decodeServiceEntry(o)
	if err != nil {
		f.Warnf(&ref, "spec", "this ServiceEntry does not decode as an Istio ServiceEntry (%v), so meshfed cannot tell whether it is mesh-internal and does not consider its hosts for export; fix the spec (istiod rejects it too)", err)
		return
	}
	if se.Location != networking.ServiceEntry_MESH_INTERNAL {
		return
	}
	var lbls inventory.Labels
	for k, v := range meta.AllLabels() {
		lbls = append(lbls, inventory.Label{Key: k, Value: v})
	}
	for _, h := range se.Hosts {
		svc := &inventory.Service{
			ServiceName: federation.ServiceName{Name: h, Namespace: namespace},
			Labels:      lbls,
			ExportTo:    strings.Join(se.ExportTo, ","),
			Ref:         ref,
			Entry: &inventory.ServiceEntryRoute{
				Resolution: se.Resolution,
				Endpoints:  se.Endpoints,
				Wildcard:   strings.Contains(h, "*"),
			},
		}
		if se.WorkloadSelector != nil {
			svc.Selector = se.WorkloadSelector.Labels
		}
		for _, p := range se.Ports {
			target := p.TargetPort
			if target == 0 {
				target = p.Number
			}
			svc.Ports = append(svc.Ports, inventory.Port{Name: p.Name, Number: int32(p.Number), AppProtocol: p.Protocol, TargetNumber: int32(target)})
		}
		m.inv.AddService(svc) // a host listed twice is one service, as in istiod
	}
}

// decodeServiceEntry decodes o's spec with protojson, as istiod's CRD
// client does; fields this API version does not know are ignored, as the
// API server prunes them.
func decodeServiceEntry(o *kfn.KubeObject) (*networking.ServiceEntry, error) {
	se := &networking.ServiceEntry{}
	spec, found, err := o.NestedSubObject("spec")
	if err != nil || !found {
		return se, err
	}
	var raw json.RawMessage
	if err := krm.AsJSON(&spec, &raw); err != nil {
		return nil, err
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, se); err != nil {
		return nil, err
	}
	return se, nil
}

// withheldEntry says why meshfed generates nothing for a ServiceEntry host
// an export rule matches, which field says so, and the fix; "" when it is
// exported.
func withheldEntry(svc *inventory.Service) (why, field, fix string) {
	if svc.Entry != nil && svc.Entry.Wildcard {
		return "a wildcard host names no single service, and meshfed exposes and imports exact hostnames only", "spec.hosts", "list the exact hosts peers dial in a ServiceEntry of their own"
	}
	if why, field := unreachableEntry(svc); why != "" {
		return why + ": the east-west gateway only passes the peer's mTLS through, to a sidecar that ends it", field, "give the ServiceEntry a workloadSelector, or endpoints that are sidecars with their serviceAccount"
	}
	return "", "", ""
}

// unreachableEntry says why the east-west gateway cannot pass a peer's
// connection through to a ServiceEntry host's backends, and which field
// says so; "" when it can. A host with a workloadSelector reaches the
// sidecars it selects. Without one, OSSM 2's federation ingress gateway
// terminated the peer's mTLS and opened its own connection to the
// endpoints, so any endpoint did; OSSM 3's east-west gateway only passes
// the peer's mTLS through (AUTO_PASSTHROUGH), so every endpoint must be a
// sidecar that terminates it, with the identity the importer pins:
//   - an endpoint's TLS mode is its security.istio.io/tlsMode label, else
//     istio when it has a serviceAccount, else disabled (istio/istio
//     pilot/pkg/serviceregistry/serviceentry/conversion.go,
//     getTLSModeFromWorkloadEntry), and its identity is that service
//     account in the ServiceEntry's namespace
//     (convertWorkloadEntryToWorkloadInstance);
//   - resolution DNS without endpoints makes the host itself the one
//     endpoint, with TLS disabled (convertServiceEntryToInstances);
//   - a unix:// endpoint is a socket on the gateway's own host, an endpoint
//     without an address one reached through another network's gateway.
func unreachableEntry(svc *inventory.Service) (why, field string) {
	e := svc.Entry
	switch {
	case e == nil || len(svc.Selector) > 0:
		return "", ""
	case len(e.Endpoints) == 0 && (e.Resolution == networking.ServiceEntry_DNS || e.Resolution == networking.ServiceEntry_DNS_ROUND_ROBIN):
		return "it has neither a workloadSelector nor endpoints, so its one endpoint is the host itself, with TLS disabled (resolution " + e.Resolution.String() + ")", "spec.endpoints"
	case len(e.Endpoints) == 0:
		return "it has neither a workloadSelector nor endpoints, so nothing is behind it", "spec.endpoints"
	}
	for i, ep := range e.Endpoints {
		field := fmt.Sprintf("spec.endpoints[%d]", i)
		mode, labelled := ep.Labels["security.istio.io/tlsMode"]
		switch {
		case strings.HasPrefix(ep.Address, "unix://"):
			return fmt.Sprintf("endpoint %d is the Unix domain socket %s, which the east-west gateway cannot reach", i, ep.Address), field + ".address"
		case ep.Address == "":
			return fmt.Sprintf("endpoint %d has no address (it is reached through network %q's gateway)", i, ep.Network), field + ".address"
		case labelled && mode != "istio":
			return fmt.Sprintf("endpoint %d (%s) has security.istio.io/tlsMode %q", i, ep.Address, mode), field + ".labels"
		case ep.ServiceAccount == "":
			return fmt.Sprintf("endpoint %d (%s) has no serviceAccount, so it is no mesh workload the peer can verify (its TLS mode is disabled, or its identity unknown)", i, ep.Address), field + ".serviceAccount"
		}
	}
	return "", ""
}
