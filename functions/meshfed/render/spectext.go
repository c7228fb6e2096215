package render

import (
	"bytes"
	"maps"
	"slices"
	"strconv"

	"github.com/meshfed/meshfed/fn"
	"google.golang.org/protobuf/reflect/protoreflect"
	networking "istio.io/api/networking/v1alpha3"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// specText writes an Istio spec as protoText does, taking a direct path for
// the kinds generated once per Service (ServiceEntry, WorkloadEntry): going
// through protoreflect cost more than all the rest of rendering them.
// TestSpecTextMatchesProtoText fills every field of those messages at
// random and requires the same bytes (or the same refusal) as protoText, so
// a field the direct path does not know (a new one in istio.io/api) fails
// the test instead of silently disappearing from the output.
func specText(buf *bytes.Buffer, m protoreflect.ProtoMessage) bool {
	switch s := m.(type) {
	case *networking.ServiceEntry:
		return serviceEntryText(buf, s)
	case *networking.WorkloadEntry:
		return workloadEntryText(buf, s)
	}
	return protoText(buf, m.ProtoReflect(), 0, false)
}

// serviceEntryText: fields in declaration order, as protoText writes them.
func serviceEntryText(buf *bytes.Buffer, s *networking.ServiceEntry) bool {
	if len(s.Endpoints) > 0 {
		return protoText(buf, s.ProtoReflect(), 0, false)
	}
	ok := stringList(buf, "hosts", s.Hosts) && stringList(buf, "addresses", s.Addresses)
	if len(s.Ports) > 0 {
		buf.WriteString("ports:\n")
		for _, p := range s.Ports {
			if p == nil || (p.Number == 0 && p.Protocol == "" && p.Name == "" && p.TargetPort == 0) {
				return false // protoText refuses an empty list element too
			}
			buf.WriteString("- ")
			first := true
			field := func(k string) {
				if !first {
					buf.WriteString("  ")
				}
				first = false
				buf.WriteString(k)
			}
			if p.Number != 0 {
				field("number: ")
				uintLine(buf, p.Number)
			}
			if p.Protocol != "" {
				field("protocol: ")
				ok = ok && scalarLine(buf, p.Protocol)
			}
			if p.Name != "" {
				field("name: ")
				ok = ok && scalarLine(buf, p.Name)
			}
			if p.TargetPort != 0 {
				field("targetPort: ")
				uintLine(buf, p.TargetPort)
			}
		}
	}
	if s.Location != 0 {
		ok = ok && enumLine(buf, "location: ", s.Location)
	}
	if s.Resolution != 0 {
		ok = ok && enumLine(buf, "resolution: ", s.Resolution)
	}
	if s.WorkloadSelector != nil {
		buf.WriteString("workloadSelector:")
		if len(s.WorkloadSelector.Labels) == 0 {
			buf.WriteString(" {}\n")
		} else {
			buf.WriteString("\n  labels:\n")
			ok = ok && stringMapText(buf, s.WorkloadSelector.Labels, 4)
		}
	}
	return ok && stringList(buf, "exportTo", s.ExportTo) && stringList(buf, "subjectAltNames", s.SubjectAltNames)
}

func workloadEntryText(buf *bytes.Buffer, w *networking.WorkloadEntry) bool {
	ok := stringField(buf, "address: ", w.Address)
	if len(w.Ports) > 0 {
		buf.WriteString("ports:\n")
		keys := slices.Sorted(maps.Keys(w.Ports))
		for _, k := range keys {
			buf.WriteString("  ")
			if !fn.AppendScalar(buf, yaml.NodeTagString, k) {
				return false
			}
			buf.WriteString(": ")
			uintLine(buf, w.Ports[k])
		}
	}
	if len(w.Labels) > 0 {
		buf.WriteString("labels:\n")
		ok = ok && stringMapText(buf, w.Labels, 2)
	}
	ok = ok && stringField(buf, "network: ", w.Network) && stringField(buf, "locality: ", w.Locality)
	if w.Weight != 0 {
		buf.WriteString("weight: ")
		uintLine(buf, w.Weight)
	}
	return ok && stringField(buf, "serviceAccount: ", w.ServiceAccount)
}

// stringList writes a top-level list of strings (compact, as the writer does).
func stringList(buf *bytes.Buffer, key string, l []string) bool {
	if len(l) == 0 {
		return true
	}
	buf.WriteString(key)
	buf.WriteString(":\n")
	for _, s := range l {
		buf.WriteString("- ")
		if !scalarLine(buf, s) {
			return false
		}
	}
	return true
}

// stringField writes a top-level string field unless it is unset ("").
func stringField(buf *bytes.Buffer, key, s string) bool {
	if s == "" {
		return true
	}
	buf.WriteString(key)
	return scalarLine(buf, s)
}

// stringMapText writes a map's entries, keys sorted, at indent.
func stringMapText(buf *bytes.Buffer, m map[string]string, indent int) bool {
	// Most maps here are a selector of a label or two: their keys are
	// sorted in an array on the stack.
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		writeIndent(buf, indent)
		if !fn.AppendScalar(buf, yaml.NodeTagString, k) {
			return false
		}
		buf.WriteString(": ")
		if !scalarLine(buf, m[k]) {
			return false
		}
	}
	return true
}

func scalarLine(buf *bytes.Buffer, s string) bool {
	if !fn.AppendScalar(buf, yaml.NodeTagString, s) {
		return false
	}
	buf.WriteByte('\n')
	return true
}

func uintLine(buf *bytes.Buffer, n uint32) {
	var b [12]byte
	buf.Write(strconv.AppendUint(b[:0], uint64(n), 10))
	buf.WriteByte('\n')
}

func enumLine(buf *bytes.Buffer, key string, e protoreflect.Enum) bool {
	v := e.Descriptor().Values().ByNumber(e.Number())
	if v == nil {
		return false
	}
	buf.WriteString(key)
	return scalarLine(buf, string(v.Name()))
}
