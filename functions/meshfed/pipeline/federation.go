package pipeline

import (
	"fmt"
	"strings"

	"github.com/meshfed/meshfed/functions/meshfed/diag"
	"github.com/meshfed/meshfed/functions/meshfed/federation"
	"github.com/meshfed/meshfed/functions/meshfed/hostname"
	"github.com/meshfed/meshfed/functions/meshfed/inventory"
)

// exportedService is a Service an ExportedServiceSet exports, under its
// exported (post-alias) name.
type exportedService struct {
	svc      *inventory.Service
	exported federation.ServiceName
	// withheld: OSSM 2 exported it, but meshfed cannot (withheldEntry), so
	// nothing is generated for it on either side.
	withheld bool
}

// importedService is an exported service that an ImportedServiceSet rule
// imports.
type importedService struct {
	exportedService
	imported federation.Imported
}

// exportedSet evaluates ess over the Services of m exactly as OSSM 2 did:
// never ExternalName Services, only those whose exportTo annotation lets
// the control plane see them, first matching rule wins.
func exportedSet(m *mesh, ess item[federation.ExportedServiceSet], f *diag.Findings) []exportedService {
	ex, skipped := federation.NewExporter(ess.val)
	for _, s := range skipped {
		f.Warnf(&ess.ref, fmt.Sprintf("spec.exportRules[%d]", s.Index), "rule skipped: %s; OSSM 2 skipped it silently, so it exported nothing through it; fix or remove the rule", s.Reason)
	}
	services := m.inv.Services()
	out := make([]exportedService, 0, len(services))
	for _, svc := range services {
		exported, rule, ok := ex.Export(svc.ServiceName, svc.Labels)
		if !ok {
			continue
		}
		switch {
		case svc.Type == "ExternalName":
			f.Infof(&ess.ref, fmt.Sprintf("spec.exportRules[%d]", rule), "Service %s matches this rule but is of type ExternalName, which federation never exports; not exported", svc.ServiceName)
			continue
		case !federation.Exportable(svc.ExportTo, svc.Namespace, ess.val.Namespace):
			if svc.Entry != nil {
				f.Warnf(&svc.Ref, "spec.exportTo", "ServiceEntry host %s/%s matches rule %d of ExportedServiceSet %s, but its exportTo %q hides it from the control-plane namespace %q, so OSSM 2 did not export it and neither does meshfed; add %q to spec.exportTo to export it", svc.Namespace, svc.Name, rule, ess.val.Name, svc.ExportTo, ess.val.Namespace, ess.val.Namespace)
				continue
			}
			f.Warnf(&svc.Ref, "metadata.annotations", "Service %s matches rule %d of ExportedServiceSet %s, but its %s annotation %q hides it from the control-plane namespace %q, so OSSM 2 did not export it and neither does meshfed; add %q to the annotation to export it", svc.ServiceName, rule, ess.val.Name, inventory.ExportToAnnotation, svc.ExportTo, ess.val.Namespace, ess.val.Namespace)
			continue
		}
		e := exportedService{svc: svc, exported: exported}
		if why, field, fix := withheldEntry(svc); why != "" {
			// OSSM 2 exported it: it stays in the set (status and import
			// rules see it as OSSM 2 did), but nothing is generated for it.
			f.Warnf(&svc.Ref, field, "ServiceEntry host %s/%s matches rule %d of ExportedServiceSet %s, and OSSM 2 exported it (its federation gateway relayed to it), but %s; so meshfed does not expose the host, and peers importing it get nothing for it: %s", svc.Namespace, svc.Name, rule, ess.val.Name, why, fix)
			e.withheld = true
		}
		out = append(out, e)
	}
	for i, r := range ess.val.Spec.ExportRules {
		if r.Type != federation.NameSelectorType || r.NameSelector == nil {
			continue
		}
		if name, one := r.NameSelector.Names(); one {
			if _, ok := m.inv.Service(name); !ok {
				f.Warnf(&ess.ref, fmt.Sprintf("spec.exportRules[%d]", i), "this rule names Service %s, which is not among %s, so nothing is exported through it; add the Service (and its workloads) to the items, or fix the rule's namespace/name", name, m.describe())
			}
		}
	}
	return out
}

// importedSet matches exported services against iss's rules.
func importedSet(exported []exportedService, iss item[federation.ImportedServiceSet], clusterDomain string, f *diag.Findings) []importedService {
	im, skipped := federation.NewImporter(iss.val, clusterDomain)
	for _, s := range skipped {
		f.Warnf(&iss.ref, fmt.Sprintf("spec.importRules[%d]", s.Index), "rule skipped: %s; OSSM 2 skipped it silently, so nothing was imported through it; fix or remove the rule", s.Reason)
	}
	out := make([]importedService, 0, len(exported))
	used := make(map[int]bool, len(iss.val.Spec.ImportRules))
	for _, e := range exported {
		imp, ok := im.Import(e.exported)
		if !ok {
			f.Infof(&iss.ref, "spec.importRules", "exported service %s (from %s) matches no import rule: not imported, as in OSSM 2", e.exported, e.svc.ServiceName)
			continue
		}
		used[imp.Rule] = true
		if e.withheld {
			// As OSSM 2 imported it, for the status comparison; nothing is
			// generated for it (said in exportedSet).
			out = append(out, importedService{exportedService: e, imported: imp})
			continue
		}
		// An alias or domainSuffix can spell a host no API server accepts
		// (`HttpBin_V2`); say which rule does it instead of failing later
		// with a "meshfed bug" validation error. Found by the bad-input corpus.
		if err := hostname.Check(imp.Host); err != nil {
			f.Errorf(&iss.ref, fmt.Sprintf("spec.importRules[%d]", imp.Rule), "this rule imports %s (from %s) as %q, which is not a valid hostname (%v): fix the rule's nameSelector.alias or domainSuffix to lowercase DNS labels without wildcards", e.exported, e.svc.ServiceName, imp.Host, err)
			continue
		}
		out = append(out, importedService{exportedService: e, imported: imp})
	}
	skippedRule := make(map[int]bool, len(skipped))
	for _, s := range skipped {
		skippedRule[s.Index] = true
	}
	for i := range iss.val.Spec.ImportRules {
		if !used[i] && !skippedRule[i] {
			f.Warnf(&iss.ref, fmt.Sprintf("spec.importRules[%d]", i), "this rule imports nothing: none of the %d exported services it is matched against (%s) matches it before an earlier rule does; fix its namespace/name to an exported (post-alias) name, or remove it", len(exported), exportedNames(exported))
		}
	}
	return out
}

// exportedNames lists the first few exported names for a message.
func exportedNames(exported []exportedService) string {
	const most = 5
	var b strings.Builder
	for i, e := range exported {
		if i == most {
			fmt.Fprintf(&b, ", and %d more", len(exported)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.exported.String())
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// onlySet returns the single object of a kind in a mesh, for defaulting a
// peer's name for this mesh; ok is false with a message when there is none
// or several.
func onlySet[T any](sets map[string]item[T], kind string, m *mesh) (string, string, bool) {
	names := sortedKeys(sets)
	switch len(names) {
	case 1:
		return names[0], "", true
	case 0:
		return "", fmt.Sprintf("there is no %s among %s", kind, m.describe()), false
	default:
		return "", fmt.Sprintf("there are several %s objects among %s (%s)", kind, m.describe(), strings.Join(names, ", ")), false
	}
}
