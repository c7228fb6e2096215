package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	k8syaml "sigs.k8s.io/yaml"
)

const repoURL = "https://github.com/meshfed/meshfed"

// catalogMetadata is the kpt functions catalog's metadata.yaml.
type catalogMetadata struct {
	Image              string   `json:"image"`
	Description        string   `json:"description"`
	Tags               []string `json:"tags"`
	SourceURL          string   `json:"sourceURL"`
	ExamplePackageURLs []string `json:"examplePackageURLs"`
	Emails             []string `json:"emails"`
	License            string   `json:"license"`
	Keywords           []string `json:"keywords,omitempty"`
	Hidden             bool     `json:"hidden,omitempty"`
}

// repoPath turns a link into this repository's main branch into a path
// relative to the repository root, and checks that it exists.
func repoPath(t *testing.T, url string) {
	t.Helper()
	rest, ok := strings.CutPrefix(url, repoURL+"/")
	if !ok {
		t.Errorf("%s does not point into %s", url, repoURL)
		return
	}
	m := regexp.MustCompile(`^(tree|blob)/main/(.+)$`).FindStringSubmatch(rest)
	if m == nil {
		t.Errorf("%s: want %s/tree/main/<path> or blob/main/<path>", url, repoURL)
		return
	}
	if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(m[2]))); err != nil {
		t.Errorf("%s: %v", url, err)
	}
}

func TestCatalogMetadata(t *testing.T) {
	b, err := os.ReadFile("metadata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var md catalogMetadata
	if err := k8syaml.UnmarshalStrict(b, &md); err != nil {
		t.Fatalf("metadata.yaml has a field the catalog does not know, or a wrong type: %v", err)
	}
	if md.Image != "ghcr.io/meshfed/meshfed" {
		t.Errorf("image %q, want the image make image builds, ghcr.io/meshfed/meshfed (untagged, as in the catalog)", md.Image)
	}
	if strings.Join(md.Tags, ",") != "mutator,generator" {
		t.Errorf("tags %v, want [mutator generator]", md.Tags)
	}
	if md.License != "Apache-2.0" {
		t.Errorf("license %q", md.License)
	}
	if md.Description == "" || len(md.Emails) == 0 || len(md.ExamplePackageURLs) == 0 {
		t.Error("description, emails and examplePackageURLs are required")
	}
	repoPath(t, md.SourceURL)
	for _, u := range md.ExamplePackageURLs {
		repoPath(t, u)
		if rest := strings.TrimPrefix(u, repoURL+"/tree/main/"); rest != u {
			if _, err := os.Stat(filepath.Join(repoRoot, rest, "Kptfile")); err != nil {
				t.Errorf("example package %s has no Kptfile", u)
			}
		}
	}
	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^IMAGE\s*\?=\s*` + regexp.QuoteMeta(md.Image) + `\s*$`).Match(mk) {
		t.Errorf("the Makefile's IMAGE is not %s", md.Image)
	}
}

func TestFunctionDefinitionLinks(t *testing.T) {
	b, err := os.ReadFile("krmfunctiondefinition.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := (&kio.ByteReader{Reader: strings.NewReader(string(b)), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		var def struct {
			Spec struct {
				Group    string   `json:"group"`
				Tags     []string `json:"tags"`
				Versions []struct {
					Name     string   `json:"name"`
					License  string   `json:"license"`
					Usage    string   `json:"usage"`
					Examples []string `json:"examples"`
					Runtime  struct {
						Container struct {
							Image string `json:"image"`
						} `json:"container"`
					} `json:"runtime"`
				} `json:"versions"`
			} `json:"spec"`
		}
		s, _ := d.String()
		if err := k8syaml.Unmarshal([]byte(s), &def); err != nil {
			t.Fatal(err)
		}
		if def.Spec.Group != "meshfed.dev" || len(def.Spec.Versions) != 1 || def.Spec.Versions[0].Name != "v1alpha1" {
			t.Errorf("%s: want group meshfed.dev and one version v1alpha1", d.GetName())
			continue
		}
		v := def.Spec.Versions[0]
		if v.License != "Apache-2.0" {
			t.Errorf("%s: license %q", d.GetName(), v.License)
		}
		if !strings.HasPrefix(v.Runtime.Container.Image, "ghcr.io/meshfed/meshfed:") {
			t.Errorf("%s: runtime image %q", d.GetName(), v.Runtime.Container.Image)
		}
		repoPath(t, v.Usage)
		for _, e := range v.Examples {
			repoPath(t, e)
		}
	}
}
