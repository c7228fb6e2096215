package krm

import (
	"fmt"
	"testing"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
)

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

// Type errors inside lists name the element (issue 13 item 7): encoding/json
// alone says spec.peers.gateway.port. A whole number too large for the
// field says so instead of "not number".
func TestDecodeStrictTypeErrorsCarryListIndexes(t *testing.T) {
	type gateway struct {
		Port int32 `json:"port"`
	}
	type peer struct {
		Name    string  `json:"name"`
		Gateway gateway `json:"gateway"`
	}
	type spec struct {
		Spec struct {
			Peers []peer `json:"peers"`
		} `json:"spec"`
	}
	peers := func(ps ...map[string]any) map[string]any {
		list := make([]any, len(ps))
		for i, p := range ps {
			list[i] = p
		}
		return map[string]any{"spec": map[string]any{"peers": list}}
	}
	ok := map[string]any{"name": "a", "gateway": map[string]any{"port": 15443.0}}
	for _, tc := range []struct {
		raw  map[string]any
		want string
	}{
		{peers(ok, map[string]any{"gateway": map[string]any{"port": "x"}}), "spec.peers[1].gateway.port: must be of type integer, not string: write a number without quotes, e.g. 15443"},
		{peers(map[string]any{"name": 5.0}), "spec.peers[0].name: must be of type string, not number: write text, in quotes if YAML would read it as something else (e.g. \"8080\", \"true\")"},
		{peers(ok, ok, map[string]any{"gateway": map[string]any{"port": 4294982739.0}}), "spec.peers[2].gateway.port: 4294982739 is out of range: write a smaller number"},
		{peers(map[string]any{"gateway": map[string]any{"port": 1.5}}), "spec.peers[0].gateway.port: must be of type integer, not number 1.5: write a number without quotes, e.g. 15443"},
	} {
		var out spec
		errs := DecodeMapStrict(tc.raw, &out)
		if len(errs) != 1 || errs[0].Path+": "+errs[0].Message != tc.want {
			t.Errorf("%v: got %v, want %s", tc.raw, errs, tc.want)
		}
	}
}

// AsJSON reads YAML as kubectl sends it to the API server
// (sigs.k8s.io/yaml): an unquoted date stays its text, a key YAML reads as
// a number is a string, YAML 1.1's yes is a boolean (and its on, as a
// key, "true": kubectl's reading, which the cluster stores), and a number
// keeps its digits.
func TestAsJSONReadsAsKubectl(t *testing.T) {
	o, err := kfn.ParseKubeObject([]byte("apiVersion: v1\nkind: X\nmetadata: {name: x}\nspec:\n  date: 2024-05-01\n  keys: {1: one}\n  on: yes\n  big: 9007199254740993\n"))
	if err != nil {
		t.Fatal(err)
	}
	spec, _, err := o.NestedSubObject("spec")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := AsJSON(&spec, &got); err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(got); s != "map[big:9007199254740993 date:2024-05-01 keys:map[1:one] true:true]" {
		t.Errorf("AsJSON = %s", s)
	}
}
