package federation

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func nameRule(ns, name string, alias *Alias) ExportRule {
	return ExportRule{Type: NameSelectorType, NameSelector: &NameMapping{Namespace: ns, Name: name, Alias: alias}}
}

func newImportRule(ns, name string, alias *Alias, local bool) ImportRule {
	return ImportRule{Type: NameSelectorType, NameSelector: &NameMapping{Namespace: ns, Name: name, Alias: alias}, ImportAsLocal: local}
}

// TestWorkedExamples runs every worked example of the federation semantics
// reference (§5.1) end to end: export rule, exported host, import rule,
// imported host.
func TestWorkedExamples(t *testing.T) {
	tests := []struct {
		name         string
		svc          ServiceName
		peerE        string
		export       []ExportRule
		wantExported string
		iss          ImportedServiceSet
		wantHost     string
		wantLocal    bool
	}{
		{
			name: "guide a/httpbin", svc: ServiceName{"httpbin", "a"}, peerE: "east-mesh",
			export:       []ExportRule{nameRule("a", "httpbin", nil), nameRule("b", "httpbin", nil)},
			wantExported: "httpbin.a.svc.east-mesh-exports.local",
			iss: ImportedServiceSet{Name: "west-mesh", Spec: ImportSpec{ImportRules: []ImportRule{
				newImportRule("a", "", nil, false), newImportRule("b", "", &Alias{Namespace: "b"}, true)}}},
			wantHost: "httpbin.a.svc.west-mesh-imports.local",
		},
		{
			name: "guide b/httpbin imported as local", svc: ServiceName{"httpbin", "b"}, peerE: "east-mesh",
			export:       []ExportRule{nameRule("a", "httpbin", nil), nameRule("b", "httpbin", nil)},
			wantExported: "httpbin.b.svc.east-mesh-exports.local",
			iss: ImportedServiceSet{Name: "west-mesh", Spec: ImportSpec{ImportRules: []ImportRule{
				newImportRule("a", "", nil, false), newImportRule("b", "", &Alias{Namespace: "b"}, true)}}},
			wantHost: "httpbin.b.svc.cluster.local", wantLocal: true,
		},
		{
			name: "docs red-ratings alias both ways", svc: ServiceName{"ratings", "red-mesh-bookinfo"}, peerE: "green-mesh",
			export:       []ExportRule{nameRule("red-mesh-bookinfo", "ratings", &Alias{Namespace: "bookinfo", Name: "red-ratings"})},
			wantExported: "red-ratings.bookinfo.svc.green-mesh-exports.local",
			iss: ImportedServiceSet{Name: "red-mesh", Spec: ImportSpec{ImportRules: []ImportRule{
				newImportRule("bookinfo", "red-ratings", &Alias{Namespace: "bookinfo", Name: "ratings"}, false)}}},
			wantHost: "ratings.bookinfo.svc.red-mesh-imports.local",
		},
		{
			name: "failover bookinfo-ha as local", svc: ServiceName{"ratings", "bookinfo-ha"}, peerE: "east-mesh",
			export:       []ExportRule{nameRule("bookinfo-ha", "ratings", &Alias{Namespace: "bookinfo", Name: "ratings"})},
			wantExported: "ratings.bookinfo.svc.east-mesh-exports.local",
			iss: ImportedServiceSet{Name: "west-mesh", Spec: ImportSpec{
				Locality:    &Locality{Region: "us-east", Zone: "a"},
				ImportRules: []ImportRule{newImportRule("bookinfo", "", &Alias{Namespace: "bookinfo-ha", Name: "ratings"}, true)}}},
			wantHost: "ratings.bookinfo-ha.svc.cluster.local", wantLocal: true,
		},
		{
			name: "traffic splitting alias namespace only", svc: ServiceName{"ratings", "west-mesh-bookinfo"}, peerE: "east-mesh",
			export:       []ExportRule{nameRule("west-mesh-bookinfo", "ratings", &Alias{Namespace: "bookinfo", Name: "ratings"})},
			wantExported: "ratings.bookinfo.svc.east-mesh-exports.local",
			iss: ImportedServiceSet{Name: "west-mesh", Spec: ImportSpec{ImportRules: []ImportRule{
				newImportRule("bookinfo", "", &Alias{Namespace: "east-mesh-bookinfo"}, false)}}},
			wantHost: "ratings.east-mesh-bookinfo.svc.west-mesh-imports.local",
		},
		{
			name: "integration alias to apps/a-imported", svc: ServiceName{"a", "ns1"}, peerE: "secondary",
			export:       []ExportRule{nameRule("ns1", "a", &Alias{Namespace: "apps", Name: "a-imported"})},
			wantExported: "a-imported.apps.svc.secondary-exports.local",
			iss:          ImportedServiceSet{Name: "primary", Spec: ImportSpec{ImportRules: []ImportRule{newImportRule("apps", "", nil, false)}}},
			wantHost:     "a-imported.apps.svc.primary-imports.local",
		},
		{
			name: "integration */* alias apps/*", svc: ServiceName{"b", "ns2"}, peerE: "secondary",
			export:       []ExportRule{nameRule("*", "*", &Alias{Namespace: "apps", Name: "*"})},
			wantExported: "b.apps.svc.secondary-exports.local",
			iss:          ImportedServiceSet{Name: "primary", Spec: ImportSpec{ImportRules: []ImportRule{newImportRule("apps", "", nil, false)}}},
			wantHost:     "b.apps.svc.primary-imports.local",
		},
		{
			name: "integration ns1/* as local with wildcard alias name", svc: ServiceName{"c", "ns1"}, peerE: "secondary",
			export:       []ExportRule{nameRule("ns1", "*", nil)},
			wantExported: "c.ns1.svc.secondary-exports.local",
			iss: ImportedServiceSet{Name: "primary", Spec: ImportSpec{ImportRules: []ImportRule{
				newImportRule("ns1", "", &Alias{Namespace: "ns1", Name: "*"}, true)}}},
			wantHost: "c.ns1.svc.cluster.local", wantLocal: true,
		},
		{
			name: "docs ISS domainSuffix", svc: ServiceName{"bar", "foo"}, peerE: "mine",
			export:       []ExportRule{nameRule("", "", nil)},
			wantExported: "bar.foo.svc.mine-exports.local",
			iss: ImportedServiceSet{Name: "other", Spec: ImportSpec{DomainSuffix: "imported.local", ImportRules: []ImportRule{
				newImportRule("foo", "", &Alias{Namespace: "other-mesh"}, false)}}},
			wantHost: "bar.other-mesh.imported.local",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex, skipped := NewExporter(ExportedServiceSet{Name: tc.peerE, Spec: ExportSpec{ExportRules: tc.export}})
			if len(skipped) != 0 {
				t.Fatalf("unexpected skipped export rules: %v", skipped)
			}
			exported, _, ok := ex.Export(tc.svc, nil)
			if !ok {
				t.Fatalf("%s not exported", tc.svc)
			}
			if got := ExportedHost(exported, tc.peerE); got != tc.wantExported {
				t.Errorf("exported host = %q, want %q", got, tc.wantExported)
			}
			im, skipped := NewImporter(tc.iss, "cluster.local")
			if len(skipped) != 0 {
				t.Fatalf("unexpected skipped import rules: %v", skipped)
			}
			got, ok := im.Import(exported)
			if !ok {
				t.Fatalf("%s not imported", exported)
			}
			if got.Host != tc.wantHost || got.Local != tc.wantLocal {
				t.Errorf("imported = %+v, want host %q local %v", got, tc.wantHost, tc.wantLocal)
			}
		})
	}
}

func TestExportFirstMatchWins(t *testing.T) {
	ex, _ := NewExporter(ExportedServiceSet{Name: "p", Spec: ExportSpec{ExportRules: []ExportRule{
		nameRule("a", "httpbin", &Alias{Name: "first"}),
		nameRule("a", "*", &Alias{Name: "second"}),
	}}})
	got, idx, ok := ex.Export(ServiceName{"httpbin", "a"}, nil)
	if !ok || got.Name != "first" || idx != 0 {
		t.Errorf("got %v rule %d ok %v, want first by rule 0", got, idx, ok)
	}
	got, idx, _ = ex.Export(ServiceName{"other", "a"}, nil)
	if got.Name != "second" || idx != 1 {
		t.Errorf("got %v rule %d, want second by rule 1", got, idx)
	}
	if _, _, ok := ex.Export(ServiceName{"httpbin", "b"}, nil); ok {
		t.Error("b/httpbin matched no rule but was exported")
	}
}

func TestExportNameSelectorIsExact(t *testing.T) {
	ex, _ := NewExporter(ExportedServiceSet{Name: "p", Spec: ExportSpec{ExportRules: []ExportRule{nameRule("a", "http", nil)}}})
	if _, _, ok := ex.Export(ServiceName{"httpbin", "a"}, nil); ok {
		t.Error("name selector `http` matched `httpbin`: selectors are exact, not prefixes")
	}
}

func TestExportAliasWildcardFields(t *testing.T) {
	tests := []struct {
		alias *Alias
		want  ServiceName
	}{
		{nil, ServiceName{"httpbin", "a"}},
		{&Alias{}, ServiceName{"httpbin", "a"}},
		{&Alias{Namespace: "*", Name: "*"}, ServiceName{"httpbin", "a"}},
		{&Alias{Namespace: "x"}, ServiceName{"httpbin", "x"}},
		{&Alias{Name: "y", Namespace: "*"}, ServiceName{"y", "a"}},
	}
	for _, tc := range tests {
		ex, _ := NewExporter(ExportedServiceSet{Name: "p", Spec: ExportSpec{ExportRules: []ExportRule{nameRule("", "", tc.alias)}}})
		if got, _, _ := ex.Export(ServiceName{"httpbin", "a"}, nil); got != tc.want {
			t.Errorf("alias %+v: got %v, want %v", tc.alias, got, tc.want)
		}
	}
}

func TestExportLabelSelector(t *testing.T) {
	rule := ExportRule{Type: LabelSelectorType, LabelSelector: &LabelSelectorRule{
		Namespace: "bookinfo",
		Selector:  &metav1.LabelSelector{MatchLabels: map[string]string{"export": "true"}},
		Aliases: []NameMapping{
			{Name: "ratings", Alias: &Alias{Name: "red-ratings"}},
			{Namespace: "*", Name: "*", Alias: &Alias{Namespace: "shared"}},
		},
	}}
	ex, skipped := NewExporter(ExportedServiceSet{Name: "p", Spec: ExportSpec{ExportRules: []ExportRule{rule}}})
	if len(skipped) != 0 {
		t.Fatal(skipped)
	}
	tests := []struct {
		svc    ServiceName
		labels labels.Set
		want   ServiceName
		ok     bool
	}{
		{ServiceName{"ratings", "bookinfo"}, map[string]string{"export": "true"}, ServiceName{"red-ratings", "bookinfo"}, true},
		{ServiceName{"reviews", "bookinfo"}, map[string]string{"export": "true"}, ServiceName{"reviews", "shared"}, true},
		{ServiceName{"reviews", "bookinfo"}, map[string]string{"export": "false"}, ServiceName{}, false},
		{ServiceName{"reviews", "other"}, map[string]string{"export": "true"}, ServiceName{}, false},
	}
	for _, tc := range tests {
		got, _, ok := ex.Export(tc.svc, tc.labels)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s %v: got %v %v, want %v %v", tc.svc, tc.labels, got, ok, tc.want, tc.ok)
		}
	}
}

func TestExportLabelSelectorWithoutAliasesOrSelector(t *testing.T) {
	ex, _ := NewExporter(ExportedServiceSet{Name: "p", Spec: ExportSpec{ExportRules: []ExportRule{
		{Type: LabelSelectorType, LabelSelector: &LabelSelectorRule{}},
	}}})
	got, _, ok := ex.Export(ServiceName{"x", "y"}, nil)
	if !ok || got != (ServiceName{"x", "y"}) {
		t.Errorf("an empty label selector must match everything unchanged, got %v %v", got, ok)
	}
}

func TestSkippedRules(t *testing.T) {
	_, skipped := NewExporter(ExportedServiceSet{Name: "p", Spec: ExportSpec{ExportRules: []ExportRule{
		{Type: "Regex"},
		{Type: NameSelectorType},
		{Type: LabelSelectorType},
		{Type: LabelSelectorType, LabelSelector: &LabelSelectorRule{Selector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}}},
		nameRule("a", "b", nil),
	}}})
	if len(skipped) != 4 {
		t.Fatalf("skipped %v, want rules 0-3", skipped)
	}
	for i, s := range skipped {
		if s.Index != i {
			t.Errorf("skipped[%d].Index = %d", i, s.Index)
		}
	}
	_, skipped = NewImporter(ImportedServiceSet{Name: "p", Spec: ImportSpec{ImportRules: []ImportRule{
		{Type: LabelSelectorType},
		{Type: NameSelectorType},
		newImportRule("b", "", nil, true),
		newImportRule("b", "", &Alias{Namespace: "*"}, true),
		newImportRule("b", "", &Alias{Namespace: "b"}, true),
	}}}, "cluster.local")
	if len(skipped) != 4 {
		t.Fatalf("skipped %v, want rules 0-3", skipped)
	}
}

func TestImportDomainSuffixPrecedence(t *testing.T) {
	iss := ImportedServiceSet{Name: "west-mesh", Spec: ImportSpec{DomainSuffix: "set.example", ImportRules: []ImportRule{
		{Type: NameSelectorType, NameSelector: &NameMapping{Namespace: "rule"}, DomainSuffix: "rule.example"},
		{Type: NameSelectorType, NameSelector: &NameMapping{Namespace: "local", Alias: &Alias{Namespace: "local"}}, DomainSuffix: "ignored.example", ImportAsLocal: true},
		{Type: NameSelectorType, NameSelector: &NameMapping{}},
	}}}
	im, _ := NewImporter(iss, "corp.internal")
	tests := map[ServiceName]string{
		{"s", "rule"}:  "s.rule.rule.example",
		{"s", "local"}: "s.local.svc.corp.internal",
		{"s", "other"}: "s.other.set.example",
	}
	for in, want := range tests {
		if got, _ := im.Import(in); got.Host != want {
			t.Errorf("%s: got %q, want %q", in, got.Host, want)
		}
	}
	im, _ = NewImporter(ImportedServiceSet{Name: "west-mesh", Spec: ImportSpec{ImportRules: []ImportRule{{Type: NameSelectorType, NameSelector: &NameMapping{}}}}}, "cluster.local")
	if got, _ := im.Import(ServiceName{"s", "n"}); got.Host != "s.n.svc.west-mesh-imports.local" {
		t.Errorf("default suffix: got %q", got.Host)
	}
}

func TestImportNoMatch(t *testing.T) {
	im, _ := NewImporter(ImportedServiceSet{Name: "p", Spec: ImportSpec{ImportRules: []ImportRule{newImportRule("a", "x", nil, false)}}}, "cluster.local")
	if _, ok := im.Import(ServiceName{"y", "a"}); ok {
		t.Error("imported a service no rule matches")
	}
}

func TestExportable(t *testing.T) {
	tests := []struct {
		exportTo, ns, cp string
		want             bool
	}{
		{"", "a", "istio-system", true},
		{"*", "a", "istio-system", true},
		{".", "a", "istio-system", false},
		{".", "istio-system", "istio-system", true},
		{"a,istio-system", "a", "istio-system", true},
		{"a, b", "a", "istio-system", false},
		{"~", "a", "istio-system", false},
		// Split on "," exactly, as Istio's Kubernetes conversion did
		// (maistra-2.5 pilot/pkg/serviceregistry/kube/conversion.go:99-105):
		// a space is part of the namespace name, so these name no
		// namespace that exists.
		{"a, istio-system", "a", "istio-system", false},
		{"a, *", "a", "istio-system", false},
		{" .", "istio-system", "istio-system", false},
		{"a,*", "a", "istio-system", true},
		// A blank annotation is not empty: it names the namespace " ".
		{" ", "a", "istio-system", false},
	}
	for _, tc := range tests {
		if got := Exportable(tc.exportTo, tc.ns, tc.cp); got != tc.want {
			t.Errorf("Exportable(%q, %q, %q) = %v, want %v", tc.exportTo, tc.ns, tc.cp, got, tc.want)
		}
	}
}

func TestLocality(t *testing.T) {
	tests := []struct {
		l     Locality
		valid bool
		str   string
	}{
		{Locality{Region: "r"}, true, "r"},
		{Locality{Region: "r", Zone: "z"}, true, "r/z"},
		{Locality{Region: "r", Zone: "z", Subzone: "s"}, true, "r/z/s"},
		{Locality{Zone: "z"}, false, ""},
		{Locality{Region: "r", Subzone: "s"}, false, ""},
		{Locality{}, false, ""},
	}
	for _, tc := range tests {
		if tc.l.Valid() != tc.valid {
			t.Errorf("%+v.Valid() = %v", tc.l, !tc.valid)
		}
		if tc.valid && tc.l.String() != tc.str {
			t.Errorf("%+v.String() = %q, want %q", tc.l, tc.l.String(), tc.str)
		}
	}
}

func TestServiceNameIsHost(t *testing.T) {
	s := ServiceName{Name: "a.b", Namespace: "c"}
	for _, tc := range []struct {
		host, domain string
		want         bool
	}{
		{"a.b.c.svc.cluster.local", "cluster.local", true},
		{"a.b.c.svc.cluster.local", "east.local", false},
		{"a.b.c.svc.cluster.localx", "cluster.local", false},
		{"a.b.cc.svc.cluster.local", "cluster.local", false},
		{"a.bc.svc.cluster.local", "cluster.local", false},
		{"a.b.c.svc", "", false},
		{"a.b.c.svc.", "", true},
		{"", "cluster.local", false},
	} {
		if got := s.IsHost(tc.host, tc.domain); got != tc.want || got != (tc.host == s.Host(tc.domain)) {
			t.Errorf("%v.IsHost(%q, %q) = %v, want %v (Host gives %q)", s, tc.host, tc.domain, got, tc.want, s.Host(tc.domain))
		}
	}
}

// A rule without importAsLocal whose domainSuffix, its own or the one it
// inherits from spec.domainSuffix, is svc.<clusterDomain> is skipped and
// the next rule applies (maistra/istio maistra-2.5
// pkg/servicemesh/federation/common/imports.go:70-78: the rule's suffix,
// else the spec's, compared with the local suffix "svc." + cluster domain,
// pilot/pkg/serviceregistry/federation/controller.go:175-180).
func TestImportRuleIntoTheClusterDomainIsSkipped(t *testing.T) {
	cases := []struct {
		name        string
		specSuffix  string
		ruleSuffix  string
		domain      string
		wantSkipped bool
		wantHost    string // of a/httpbin
	}{
		{"own suffix", "", "svc.cluster.local", "cluster.local", true, "httpbin.a.svc.west-mesh-imports.local"},
		{"inherited suffix", "svc.cluster.local", "", "cluster.local", true, "httpbin.a.svc.cluster.local"},
		{"another cluster domain", "", "svc.corp.internal", "corp.internal", true, "httpbin.a.svc.west-mesh-imports.local"},
		{"only equal counts, not a longer suffix", "", "mirror.svc.cluster.local", "cluster.local", false, "httpbin.a.mirror.svc.cluster.local"},
		{"the cluster domain of another cluster", "", "svc.cluster.local", "corp.internal", false, "httpbin.a.svc.cluster.local"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			iss := ImportedServiceSet{Name: "west-mesh", Spec: ImportSpec{DomainSuffix: c.specSuffix, ImportRules: []ImportRule{
				{Type: NameSelectorType, NameSelector: &NameMapping{Namespace: "a"}, DomainSuffix: c.ruleSuffix},
				// The next rule: with the spec's suffix when it is the
				// cluster domain too, importAsLocal.
				{Type: NameSelectorType, NameSelector: &NameMapping{Alias: &Alias{Namespace: "a"}}, ImportAsLocal: c.specSuffix != ""},
			}}}
			if c.specSuffix == "" {
				iss.Spec.ImportRules[1] = ImportRule{Type: NameSelectorType, NameSelector: &NameMapping{}}
			}
			im, skipped := NewImporter(iss, c.domain)
			if got := len(skipped) > 0 && skipped[0].Index == 0; got != c.wantSkipped {
				t.Fatalf("rule 0 skipped = %v (%v), want %v", got, skipped, c.wantSkipped)
			}
			if c.wantSkipped && !strings.Contains(skipped[0].Reason, "use importAsLocal instead") {
				t.Errorf("reason %q does not say what OSSM 2 said", skipped[0].Reason)
			}
			got, ok := im.Import(ServiceName{"httpbin", "a"})
			if !ok || got.Host != c.wantHost {
				t.Errorf("a/httpbin imported as %q (%v), want %q", got.Host, ok, c.wantHost)
			}
		})
	}
}

// OSSM 2 put an imported service in its (alias) namespace, instead of the
// control-plane namespace, when its host ends in svc.<clusterDomain> as a
// plain string suffix (maistra/istio maistra-2.5
// pilot/pkg/serviceregistry/federation/controller.go:374,
// strings.HasSuffix(importedName.Hostname, c.localDomainSuffix)): every
// importAsLocal import, a domainSuffix such as foo.svc.cluster.local, and
// even one such as mysvc.cluster.local.
func TestImportedInLocalNamespace(t *testing.T) {
	cases := []struct {
		suffix string
		local  bool
		want   bool
	}{
		{"", true, true},
		{"foo.svc.cluster.local", false, true},
		{"mysvc.cluster.local", false, true},
		{"svc.west-mesh-imports.local", false, false},
		{"cluster.local", false, false},
	}
	for _, c := range cases {
		rule := ImportRule{Type: NameSelectorType, NameSelector: &NameMapping{Alias: &Alias{Namespace: "b"}}, DomainSuffix: c.suffix, ImportAsLocal: c.local}
		im, skipped := NewImporter(ImportedServiceSet{Name: "west-mesh", Spec: ImportSpec{ImportRules: []ImportRule{rule}}}, "cluster.local")
		if len(skipped) > 0 {
			t.Fatalf("%+v skipped: %v", rule, skipped)
		}
		got, _ := im.Import(ServiceName{"httpbin", "a"})
		if got.InLocalNamespace != c.want || got.Name.Namespace != "b" {
			t.Errorf("suffix %q importAsLocal %v: host %q InLocalNamespace %v in %q, want %v in b", c.suffix, c.local, got.Host, got.InLocalNamespace, got.Name.Namespace, c.want)
		}
	}
}
