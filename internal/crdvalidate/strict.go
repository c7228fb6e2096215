package crdvalidate

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// istioSpecs maps Istio kinds to their spec message. The networking
// v1alpha3 messages back the v1alpha3, v1beta1 and v1 API versions alike,
// so the version is not part of the key; whether the version is served is
// the CRD layer's business. The messages come from the istio.io/api pinned
// in go.mod, also when validating against older CRDs: newer messages only
// add fields, so this layer can only be more lenient there, never stricter.
var istioSpecs = map[schema.GroupKind]func() proto.Message{
	{Group: "networking.istio.io", Kind: "Gateway"}:         func() proto.Message { return &networking.Gateway{} },
	{Group: "networking.istio.io", Kind: "ServiceEntry"}:    func() proto.Message { return &networking.ServiceEntry{} },
	{Group: "networking.istio.io", Kind: "WorkloadEntry"}:   func() proto.Message { return &networking.WorkloadEntry{} },
	{Group: "networking.istio.io", Kind: "WorkloadGroup"}:   func() proto.Message { return &networking.WorkloadGroup{} },
	{Group: "networking.istio.io", Kind: "DestinationRule"}: func() proto.Message { return &networking.DestinationRule{} },
	{Group: "networking.istio.io", Kind: "VirtualService"}:  func() proto.Message { return &networking.VirtualService{} },
	{Group: "networking.istio.io", Kind: "Sidecar"}:         func() proto.Message { return &networking.Sidecar{} },

	{Group: "security.istio.io", Kind: "AuthorizationPolicy"}:   func() proto.Message { return &security.AuthorizationPolicy{} },
	{Group: "security.istio.io", Kind: "PeerAuthentication"}:    func() proto.Message { return &security.PeerAuthentication{} },
	{Group: "security.istio.io", Kind: "RequestAuthentication"}: func() proto.Message { return &security.RequestAuthentication{} },
}

// gatewayScheme knows the Gateway API Go types, so any registered kind can
// be decoded without a hand-kept list.
var gatewayScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, install := range []func(*runtime.Scheme) error{gatewayv1.Install, gatewayv1beta1.Install} {
		if err := install(s); err != nil {
			panic(err) // only on a broken registration in the module
		}
	}
	return s
}()

type strictProblem struct{ layer, text string }

// strictDecode runs the decoders that reject unknown fields independently
// of any CRD: protojson for Istio specs, the Go types for Gateway API.
func strictDecode(u *unstructured.Unstructured) []strictProblem {
	gvk := u.GroupVersionKind()
	if newMsg, ok := istioSpecs[gvk.GroupKind()]; ok {
		spec, found := u.Object["spec"]
		if !found {
			return nil
		}
		data, err := json.Marshal(spec)
		if err != nil {
			return []strictProblem{{LayerProtojson, fmt.Sprintf("spec: %v", err)}}
		}
		// DiscardUnknown is false: this is the point of the layer.
		if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(data, newMsg()); err != nil {
			return []strictProblem{{LayerProtojson, fmt.Sprintf("spec: %v", err)}}
		}
		return nil
	}
	if gatewayScheme.Recognizes(gvk) {
		obj, err := gatewayScheme.New(gvk)
		if err != nil {
			return []strictProblem{{LayerTyped, err.Error()}}
		}
		data, err := json.Marshal(u.Object)
		if err != nil {
			return []strictProblem{{LayerTyped, err.Error()}}
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			return []strictProblem{{LayerTyped, fmt.Sprintf("decoding into %T: %v", obj, err)}}
		}
	}
	return nil
}
