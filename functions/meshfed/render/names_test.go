package render

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// TestFastNameChecksAgreeWithApimachinery compares the regexp-free checks
// with apimachinery's on valid, invalid and edge-case values.
func TestFastNameChecksAgreeWithApimachinery(t *testing.T) {
	values := []string{"", "a", "A", "-", "a-", "-a", "a-b", "a_b", "a.b", "a..b", ".a", "a.", "0", "0a",
		"httpbin-a-svc-west-mesh-imports-local", "x.a.svc.cluster.local", "Upper.case", "a/b", "a/", "/a",
		"meshfed.dev/generated-by", "app.kubernetes.io/managed-by", "security.istio.io/tlsMode", "a b", "é",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 127) + "a",
		strings.Repeat("b", 64) + ".c", "a/" + strings.Repeat("b", 64), "under_score", "dot.ted", "-_-", "a.-b"}
	for _, v := range values {
		check := func(name string, fast bool, slow []string) {
			if fast != (len(slow) == 0) {
				t.Errorf("%s(%q): fast %v, apimachinery %v", name, v, fast, slow)
			}
		}
		check("IsDNS1123Label", isDNS1123Label(v), validation.IsDNS1123Label(v))
		check("IsDNS1123Subdomain", isDNS1123Subdomain(v), validation.IsDNS1123Subdomain(v))
		check("IsValidLabelValue", isLabelValue(v), validation.IsValidLabelValue(v))
		check("IsQualifiedName", isQualifiedName(v), validation.IsQualifiedName(v))
	}
}
