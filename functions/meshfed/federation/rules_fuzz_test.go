package federation_test

import (
	"strings"
	"testing"

	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/render"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzRulesAndNames evaluates export and import rules built from arbitrary
// strings, then names the resulting hosts as the renderers do. Properties:
// no panic; Export and Import are deterministic and agree with OSSM 2's
// formulas (alias fields replace, wildcards keep; host = name.namespace.
// suffix; importAsLocal lands in svc.<clusterDomain>); when every input is
// a valid DNS label the imported host is an exact, valid hostname; and
// render.Name and render.HashedName of a valid hostname are valid DNS-1123
// labels of at most 63 characters, the same every time.
//
//	go test ./functions/meshfed/federation -run '^$' -fuzz '^FuzzRulesAndNames$' -fuzztime 20s
func FuzzRulesAndNames(f *testing.F) {
	// Seeds: the guide and the worked examples of federation-semantics §5.1.
	f.Add("httpbin", "a", "a", "", "", "", "west-mesh", "", "", false, "cluster.local", "app", "httpbin")
	f.Add("httpbin", "b", "b", "", "b", "", "west-mesh", "", "", true, "cluster.local", "app", "httpbin")
	f.Add("ratings", "red-mesh-bookinfo", "red-mesh-bookinfo", "ratings", "bookinfo", "red-ratings", "red-mesh", "", "", false, "cluster.local", "", "")
	f.Add("a", "ns1", "*", "*", "apps", "a-imported", "primary", "", "", false, "cluster.local", "", "")
	f.Add("bar", "other", "", "", "other-mesh", "", "p", "imported.local", "", false, "cluster.local", "", "")
	f.Add("bar", "other", "", "", "other-mesh", "", "p", "", "rule.local", false, "example.com", "x", "y")
	f.Add(strings.Repeat("s", 63), strings.Repeat("n", 63), "*", "", strings.Repeat("m", 63), "", strings.Repeat("p", 60), "", "", false, "cluster.local", "", "")
	f.Fuzz(func(t *testing.T, name, namespace, selNS, selName, aliasNS, aliasName, peer, issSuffix, ruleSuffix string, asLocal bool, clusterDomain, labelKey, labelValue string) {
		svc := federation.ServiceName{Name: name, Namespace: namespace}
		alias := &federation.Alias{Namespace: aliasNS, Name: aliasName}
		ess := federation.ExportedServiceSet{Name: peer, Namespace: "istio-system", Spec: federation.ExportSpec{ExportRules: []federation.ExportRule{
			{Type: federation.NameSelectorType, NameSelector: &federation.NameMapping{Namespace: selNS, Name: selName, Alias: alias}},
			{Type: federation.LabelSelectorType, LabelSelector: &federation.LabelSelectorRule{
				Namespace: selNS,
				Selector:  &metav1.LabelSelector{MatchLabels: map[string]string{labelKey: labelValue}},
				Aliases:   []federation.NameMapping{{Namespace: namespace, Name: name, Alias: alias}},
			}},
			{Type: labelKey},
		}}}
		svcLabels := labels.Set{labelKey: labelValue}

		ex, _ := federation.NewExporter(ess)
		exported, rule, ok := ex.Export(svc, svcLabels)
		ex2, _ := federation.NewExporter(ess)
		if e2, r2, ok2 := ex2.Export(svc, svcLabels); e2 != exported || r2 != rule || ok2 != ok {
			t.Fatalf("Export not deterministic: %v %d %v, then %v %d %v", exported, rule, ok, e2, r2, ok2)
		}
		if ok {
			if rule < 0 || rule >= 2 {
				t.Fatalf("matched rule %d, which is not a NameSelector or LabelSelector rule", rule)
			}
			checkRename(t, "export", svc, alias, exported)
		} else {
			exported = svc // still exercise the importer
		}

		iss := federation.ImportedServiceSet{Name: peer, Namespace: "istio-system", Spec: federation.ImportSpec{
			DomainSuffix: issSuffix,
			ImportRules: []federation.ImportRule{
				{Type: federation.NameSelectorType, NameSelector: &federation.NameMapping{Namespace: selNS, Name: selName, Alias: alias}, ImportAsLocal: asLocal, DomainSuffix: ruleSuffix},
				{Type: federation.LabelSelectorType, NameSelector: &federation.NameMapping{}},
			},
		}}
		im, skipped := federation.NewImporter(iss, clusterDomain)
		imp, iok := im.Import(exported)
		im2, _ := federation.NewImporter(iss, clusterDomain)
		if imp2, iok2 := im2.Import(exported); imp2 != imp || iok2 != iok {
			t.Fatalf("Import not deterministic: %+v then %+v", imp, imp2)
		}
		for _, s := range skipped {
			if s.Index == 0 && !(asLocal && (aliasNS == "" || aliasNS == "*")) {
				t.Fatalf("rule 0 skipped: %s", s.Reason)
			}
		}
		if iok {
			if imp.Rule != 0 {
				t.Fatalf("imported by rule %d, which OSSM 2 skips", imp.Rule)
			}
			checkRename(t, "import", exported, alias, imp.Name)
			suffix := "svc." + peer + "-imports.local"
			switch {
			case asLocal:
				suffix = "svc." + clusterDomain
			case ruleSuffix != "":
				suffix = ruleSuffix
			case issSuffix != "":
				suffix = issSuffix
			}
			if want := imp.Name.Name + "." + imp.Name.Namespace + "." + suffix; imp.Host != want {
				t.Fatalf("imported host %q, want %q", imp.Host, want)
			}
			if imp.Local != asLocal {
				t.Fatalf("Local = %v for importAsLocal %v", imp.Local, asLocal)
			}
			// A Service, its peer and the cluster domain always have names
			// (the pipeline rejects a Service without one); alias fields and
			// suffixes may be empty, meaning "keep" or "default".
			present := name != "" && namespace != "" && peer != "" && clusterDomain != ""
			if present && allValid(name, namespace, aliasNS, aliasName, peer, issSuffix, ruleSuffix, clusterDomain) && len(imp.Host) <= 253 {
				if strings.Contains(imp.Host, "*") || validation.IsDNS1123Subdomain(imp.Host) != nil {
					t.Fatalf("valid inputs give the invalid host %q", imp.Host)
				}
			}
		}

		for _, h := range []string{imp.Host, exported.Host(clusterDomain), federation.ExportedHost(exported, peer), name} {
			checkNames(t, h)
		}
	})
}

// checkRename: an alias field that is empty or "*" keeps the original
// value, any other replaces it.
func checkRename(t *testing.T, what string, in federation.ServiceName, alias *federation.Alias, out federation.ServiceName) {
	t.Helper()
	if out == in {
		return // no alias matched, or it renames to the same
	}
	wantNS, wantName := in.Namespace, in.Name
	if alias.Namespace != "" && alias.Namespace != "*" {
		wantNS = alias.Namespace
	}
	if alias.Name != "" && alias.Name != "*" {
		wantName = alias.Name
	}
	if out.Namespace != wantNS || out.Name != wantName {
		t.Fatalf("%s renamed %v to %v with alias %+v", what, in, out, *alias)
	}
}

func allValid(parts ...string) bool {
	for _, p := range parts {
		if p == "" {
			continue // defaulted
		}
		if validation.IsDNS1123Subdomain(p) != nil || strings.Contains(p, "*") {
			return false
		}
	}
	return true
}

// checkNames: whatever the string, the names never panic and never exceed
// 63 characters, and are deterministic; for a valid hostname they are
// valid DNS-1123 labels.
func checkNames(t *testing.T, host string) {
	t.Helper()
	n, h := render.Name(host), render.HashedName(host)
	if n != render.Name(host) || h != render.HashedName(host) {
		t.Fatalf("names of %q are not deterministic", host)
	}
	if len(n) > 63 || len(h) > 63 {
		t.Fatalf("names of %q are too long: %q (%d), %q (%d)", host, n, len(n), h, len(h))
	}
	if host == "" || len(host) > 253 || validation.IsDNS1123Subdomain(host) != nil {
		return
	}
	for _, name := range []string{n, h} {
		if errs := validation.IsDNS1123Label(name); errs != nil {
			t.Fatalf("name %q of host %q is not a DNS-1123 label: %v", name, host, errs)
		}
	}
	if len(host) <= 63 && n != strings.ReplaceAll(host, ".", "-") {
		t.Fatalf("short host %q named %q, want dots as dashes", host, n)
	}
	// A long host's Name already ends in its hash, so HashedName may equal
	// it; a short one's must differ to break a collision (hosts that differ
	// only in dots and dashes).
	if len(host) <= 63 && n == h {
		t.Fatalf("HashedName(%q) equals Name: it would not break a collision", host)
	}
	if len(host) > 63 && !strings.HasSuffix(n, h[len(h)-8:]) {
		t.Fatalf("long host %q named %q without its hash", host, n)
	}
}
