package crdvalidate

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// AssertValidObjects validates objs against every Istio version in
// IstioVersions (each with the Gateway API CRDs) and reports each problem
// with t.Errorf, prefixed by source (a file name or test case) and the
// Istio version. Objects of kinds without a CRD pass unchecked; use
// Validator.Unchecked to see which.
func AssertValidObjects(t testing.TB, source string, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, ver := range IstioVersions {
		v, err := ForIstio(ver)
		if err != nil {
			t.Fatalf("crdvalidate: loading CRDs for Istio %s: %v", versionName(ver), err)
		}
		var problems []Problem
		for _, u := range objs {
			problems = append(problems, v.ValidateObject(u)...)
		}
		if len(problems) > 0 {
			t.Errorf("%s: rejected by Istio %s CRDs:\n%s", source, versionName(ver), FormatProblems(problems))
		}
	}
}

// AssertValidYAML is AssertValidObjects for a YAML stream or ResourceList.
func AssertValidYAML(t testing.TB, source string, stream []byte) {
	t.Helper()
	objs, err := DecodeObjects(stream)
	if err != nil {
		t.Fatalf("%s: %v", source, err)
	}
	AssertValidObjects(t, source, objs)
}

func versionName(istioAPIVersion string) string {
	if istioAPIVersion == IstioPinned {
		return "pinned"
	}
	return istioAPIVersion
}
