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

// A value of the wrong type is reported with its path, both types and how
// to write the expected one.
func TestDecodeStrictTypeErrorsSayTheFix(t *testing.T) {
	type spec struct {
		Name  string          `json:"name"`
		Port  int32           `json:"port"`
		On    bool            `json:"on"`
		Peers []string        `json:"peers"`
		Sub   struct{ A int } `json:"sub"`
	}
	for _, tc := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"port": "15443"}, `port: must be of type integer, not string: write a number without quotes, e.g. 15443`},
		{map[string]any{"name": 8080.0}, `name: must be of type string, not number: write text, in quotes if YAML would read it as something else (e.g. "8080", "true")`},
		{map[string]any{"on": "yes"}, `on: must be of type boolean, not string: write true or false, without quotes`},
		{map[string]any{"peers": map[string]any{"a": "b"}}, "peers: must be of type list, not object: write a YAML list, one `- ` entry a line (or [a, b])"},
		{map[string]any{"sub": "x"}, "sub: must be of type object, not string: write a mapping of fields, `key: value` on indented lines below it"},
	} {
		var out spec
		errs := DecodeMapStrict(tc.raw, &out)
		if len(errs) != 1 || errs[0].Path+": "+errs[0].Message != tc.want {
			t.Errorf("%v: got %v, want %s", tc.raw, errs, tc.want)
		}
	}
}
