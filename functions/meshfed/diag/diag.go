// Package diag carries what meshfed reports: findings about an item and one
// of its fields, each saying what is wrong and how to fix it. The pipeline
// turns them into KRM results at the edge.
package diag

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/meshfed/meshfed/krm"
)

// Severity of a finding.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

// Ref identifies the item a finding is about.
type Ref struct {
	APIVersion, Kind, Namespace, Name string
	// File and Index locate the item in a kpt package, when known.
	File  string
	Index int
}

// RefOfMeta returns the Ref of an item with metadata m (krm.MetaOf), with
// its file location when the orchestrator recorded one.
func RefOfMeta(m krm.Meta) Ref {
	r := Ref{APIVersion: m.APIVersion, Kind: m.Kind, Namespace: m.Namespace, Name: m.Name}
	if r.File = m.Annotation("internal.config.kubernetes.io/path"); r.File == "" {
		r.File = m.Annotation("config.kubernetes.io/path")
	}
	idx := m.Annotation("internal.config.kubernetes.io/index")
	if idx == "" {
		idx = m.Annotation("config.kubernetes.io/index")
	}
	if idx != "" {
		r.Index, _ = strconv.Atoi(idx)
	}
	return r
}

func (r Ref) String() string {
	s := r.Kind
	if r.Namespace != "" {
		s += " " + r.Namespace + "/" + r.Name
	} else {
		s += " " + r.Name
	}
	return s
}

// Finding is one reported problem or note.
type Finding struct {
	Severity Severity
	Ref      *Ref
	Field    string
	Message  string
}

// Findings accumulates findings.
type Findings []Finding

// Add appends a finding.
func (f *Findings) Add(sev Severity, ref *Ref, field, format string, args ...any) {
	*f = append(*f, Finding{Severity: sev, Ref: ref, Field: field, Message: fmt.Sprintf(format, args...)})
}

// Errorf appends an error.
func (f *Findings) Errorf(ref *Ref, field, format string, args ...any) {
	f.Add(Error, ref, field, format, args...)
}

// Warnf appends a warning.
func (f *Findings) Warnf(ref *Ref, field, format string, args ...any) {
	f.Add(Warning, ref, field, format, args...)
}

// Infof appends an informational note.
func (f *Findings) Infof(ref *Ref, field, format string, args ...any) {
	f.Add(Info, ref, field, format, args...)
}

// HasErrors reports whether any finding is an error.
func (f Findings) HasErrors() bool {
	for _, x := range f {
		if x.Severity == Error {
			return true
		}
	}
	return false
}

// Sorted returns the findings in a stable order that does not depend on
// the order of the input items: severity first (errors on top), then item,
// field and message.
func (f Findings) Sorted() Findings {
	out := append(Findings(nil), f...)
	ref := func(x *Finding) Ref {
		if x.Ref == nil {
			return Ref{}
		}
		return *x.Ref
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		ra, rb := ref(a), ref(b)
		switch {
		case ra.Kind != rb.Kind:
			return ra.Kind < rb.Kind
		case ra.Namespace != rb.Namespace:
			return ra.Namespace < rb.Namespace
		case ra.Name != rb.Name:
			return ra.Name < rb.Name
		case a.Field != b.Field:
			return a.Field < b.Field
		}
		return a.Message < b.Message
	})
	return out
}
