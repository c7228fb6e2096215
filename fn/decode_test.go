package fn

import "testing"

// Found by FuzzDecodeConfig: an empty key gave a FieldError with no path,
// so the KRM result named no field.
func TestDecodeStrictEmptyKeyHasPath(t *testing.T) {
	var out struct {
		Spec struct {
			Network string `json:"network"`
		} `json:"spec"`
	}
	for _, raw := range []map[string]any{
		{"": "x"},
		{"spec": map[string]any{"": "x"}},
	} {
		errs := DecodeMapStrict(raw, &out)
		if len(errs) != 1 {
			t.Fatalf("%v: want one error, got %v", raw, errs)
		}
		if errs[0].Path == "" || errs[0].Path == "spec." {
			t.Errorf("%v: error names no field: %#v", raw, errs[0])
		}
	}
}
