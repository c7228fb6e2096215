package v1alpha1_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/functions/meshfed/hostname"
	"github.com/meshfed/meshfed/krm"
	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzDecodeConfig decodes arbitrary YAML as a MeshExport and as a
// MeshImport the way the pipeline does (krm.DecodeStrict, then Default and
// Validate). It must never panic; every problem must name a field and say
// something; Default must be idempotent and Validate deterministic; and a
// config that passes must have what the renderers rely on.
//
//	go test ./functions/meshfed/api/v1alpha1 -run '^$' -fuzz '^FuzzDecodeConfig$' -fuzztime 20s
func FuzzDecodeConfig(f *testing.F) {
	for _, s := range configSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		// A hang shows up as a failure with the input, not as a stalled
		// fuzzer.
		done := make(chan struct{})
		timer := time.AfterFunc(decodeTimeout, func() {
			select {
			case <-done:
			default:
				panic(fmt.Sprintf("decoding took more than %s on %q", decodeTimeout, doc))
			}
		})
		defer func() { close(done); timer.Stop() }()
		o, err := kfn.ParseKubeObject(doc)
		if err != nil {
			return
		}
		var exp v1alpha1.MeshExport
		if errs := krm.DecodeStrict(&o.SubObject, &exp, "metadata"); len(errs) > 0 {
			checkFieldErrors(t, errs)
		} else {
			exp.Default()
			again := exp
			again.Spec.Peers = slices.Clone(exp.Spec.Peers)
			again.Default()
			if !reflect.DeepEqual(exp, again) {
				t.Fatalf("Default is not idempotent:\n%+v\n%+v", exp, again)
			}
			errs := exp.Validate()
			checkFieldErrors(t, errs)
			if !reflect.DeepEqual(errs, exp.Validate()) {
				t.Fatal("Validate is not deterministic")
			}
			if len(errs) == 0 {
				checkValidExport(t, &exp)
			}
		}
		var imp v1alpha1.MeshImport
		if errs := krm.DecodeStrict(&o.SubObject, &imp, "metadata"); len(errs) > 0 {
			checkFieldErrors(t, errs)
		} else {
			imp.Default()
			errs := imp.Validate()
			checkFieldErrors(t, errs)
			if !reflect.DeepEqual(errs, imp.Validate()) {
				t.Fatal("Validate is not deterministic")
			}
			if len(errs) == 0 {
				checkValidImport(t, &imp)
			}
		}
	})
}

// decodeTimeout bounds decoding and validating one document.
const decodeTimeout = 5 * time.Second

func checkFieldErrors(t *testing.T, errs []krm.FieldError) {
	t.Helper()
	for _, e := range errs {
		if e.Path == "" || strings.TrimSpace(e.Message) == "" {
			t.Fatalf("field error without a field or a message: %#v", e)
		}
	}
}

// checkValidExport checks what render and the pipeline assume of a
// MeshExport that passed validation.
func checkValidExport(t *testing.T, c *v1alpha1.MeshExport) {
	t.Helper()
	s := c.Spec
	if s.Network == "" || validation.IsValidLabelValue(s.Network) != nil {
		t.Fatalf("valid config with network %q", s.Network)
	}
	if validation.IsDNS1123Subdomain(s.Gateway.Name) != nil || validation.IsDNS1123Label(s.Gateway.Namespace) != nil {
		t.Fatalf("valid config with gateway %q in %q", s.Gateway.Name, s.Gateway.Namespace)
	}
	checkPort(t, s.Gateway.PortNumber())
	if s.Phase != v1alpha1.PhaseCoexist && s.Phase != v1alpha1.PhaseCutover {
		t.Fatalf("valid config with phase %q", s.Phase)
	}
	for _, svc := range s.Services {
		for _, h := range svc.Hosts {
			if hostname.Check(h) != nil {
				t.Fatalf("valid config exports host %q", h)
			}
		}
		for _, p := range svc.Ports {
			checkPort(t, p.Number)
		}
	}
}

func checkValidImport(t *testing.T, c *v1alpha1.MeshImport) {
	t.Helper()
	s := c.Spec
	if len(s.Peers) == 0 {
		t.Fatal("valid MeshImport without peers")
	}
	for _, p := range s.Peers {
		if p.Network == "" || p.Network == "network-"+p.Name {
			t.Fatalf("valid config with network %q for peer %q", p.Network, p.Name)
		}
		addrs := p.Gateway.AllAddresses()
		if len(addrs) == 0 {
			t.Fatalf("valid config without a gateway address for peer %q", p.Name)
		}
		for i, a := range addrs {
			if _, err := v1alpha1.AddressType(a); err != nil {
				t.Fatalf("valid config with untyped address %q", a)
			}
			if slices.Contains(addrs[:i], a) {
				t.Fatalf("valid config with address %q twice", a)
			}
		}
		checkPort(t, p.Gateway.PortNumber())
		for _, svc := range p.Services {
			if hostname.Check(svc.Host) != nil {
				t.Fatalf("valid config imports host %q", svc.Host)
			}
			for _, port := range svc.Ports {
				checkPort(t, port.Number)
				if port.TargetPort != 0 {
					t.Fatalf("valid import with a targetPort: %+v", port)
				}
			}
		}
	}
}

func checkPort(t *testing.T, p int32) {
	t.Helper()
	if p < 1 || p > 65535 {
		t.Fatalf("valid config with port %d", p)
	}
}

// configSeeds are the MeshExport and MeshImport documents of the guide and
// of the golden cases, plus a few typos and wrong types.
func configSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var seeds [][]byte
	var files []string
	for _, pattern := range []string{
		"../../../../examples/*/*/*.yaml",
		"../../testdata/*/*.yaml",
		"../../testdata/*/*/*.yaml",
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		for _, doc := range strings.Split(string(b), "\n---\n") {
			if strings.Contains(doc, "kind: MeshExport") || strings.Contains(doc, "kind: MeshImport") {
				seeds = append(seeds, []byte(doc))
			}
		}
	}
	seeds = append(seeds,
		[]byte("apiVersion: meshfed.dev/v1alpha1\nkind: MeshExport\nmetadata: {name: w}\nspec: {netwrok: west}\n"),
		[]byte("apiVersion: meshfed.dev/v1alpha1\nkind: MeshExport\nmetadata: {name: w}\nspec: {network: west, gateway: {port: \"x\"}}\n"),
		[]byte("apiVersion: meshfed.dev/v1alpha1\nkind: MeshImport\nmetadata: {name: e}\nspec: {peers: [{name: w, network: network-w, gateway: {address: 'https://h:1'}}]}\n"),
		[]byte("apiVersion: meshfed.dev/v1alpha1\nkind: MeshImport\nmetadata: {name: e}\nspec: {peers: {name: w}}\n"),
	)
	return seeds
}

func TestConfigSeeds(t *testing.T) {
	if n := len(configSeeds(t)); n < 6 {
		t.Fatalf("only %d seeds: the guide's configs were not found", n)
	}
}
