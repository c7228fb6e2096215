package crdvalidate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// DecodeObjects splits a YAML (or JSON) stream into objects. A document of
// kind ResourceList (the KRM function wire format) contributes its items
// instead of itself. Empty documents are skipped.
//
// Numbers decode as int64 where integral, as they do in the apiserver;
// a plain map from sigs.k8s.io/yaml would hold float64 and CEL rules on
// integer fields would then fail with a type error.
func DecodeObjects(stream []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		jsonDoc, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		if bytes.Equal(bytes.TrimSpace(jsonDoc), []byte("null")) {
			continue // empty document or comments only
		}
		var m map[string]interface{}
		if err := utiljson.Unmarshal(jsonDoc, &m); err != nil {
			return nil, fmt.Errorf("document %d: not an object: %w", doc, err)
		}
		if m["kind"] != "ResourceList" {
			out = append(out, &unstructured.Unstructured{Object: m})
			continue
		}
		items, _ := m["items"].([]interface{})
		for i, item := range items {
			im, ok := item.(map[string]interface{})
			if !ok {
				return nil, fmt.Errorf("document %d: ResourceList item %d is not an object", doc, i)
			}
			out = append(out, &unstructured.Unstructured{Object: im})
		}
	}
}

// ValidateYAML decodes a stream with DecodeObjects and validates every
// object. The error is only for input that does not parse.
func (v *Validator) ValidateYAML(stream []byte) ([]Problem, error) {
	objs, err := DecodeObjects(stream)
	if err != nil {
		return nil, err
	}
	var problems []Problem
	for _, u := range objs {
		problems = append(problems, v.ValidateObject(u)...)
	}
	return problems, nil
}
