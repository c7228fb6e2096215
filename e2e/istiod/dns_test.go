package istiod

import (
	"encoding/json"
	"net/netip"
	"os"
	"regexp"
	"testing"
	"time"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"istio.io/istio/pilot/pkg/controllers/ipallocate"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/schema/gvr"
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/kube/kclient/clienttest"
	"istio.io/istio/pkg/network"
	"istio.io/istio/pkg/test"
	"istio.io/istio/pkg/test/util/retry"
	"sigs.k8s.io/yaml"
)

// meshfedOSSM3Settings are the OSSM 3 control-plane values meshfed prints for the
// importing cluster (the "kubectl patch istio" info result of the golden output),
// the ones that decide name resolution.
type meshfedOSSM3Settings struct {
	dnsCapture     bool // values.meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE
	ipAutoallocate bool // values.pilot.env.PILOT_ENABLE_IP_AUTOALLOCATE
}

var istioPatch = regexp.MustCompile(`kubectl patch istio [^']*-p '([^']*)'`)

// printedOSSM3Settings reads them from the golden ResourceList's results.
func printedOSSM3Settings(t *testing.T, sc *scenario) meshfedOSSM3Settings {
	t.Helper()
	if !sc.golden {
		t.Fatalf("%s is a fixture: the control-plane settings come from meshfed's golden output only", sc.source)
	}
	data, err := os.ReadFile(sc.source)
	if err != nil {
		t.Fatal(err)
	}
	var rl struct {
		Results []struct {
			Message string `json:"message"`
		} `json:"results"`
	}
	if err := yaml.Unmarshal(data, &rl); err != nil {
		t.Fatal(err)
	}
	for _, r := range rl.Results {
		m := istioPatch.FindStringSubmatch(r.Message)
		if m == nil {
			continue
		}
		var patch struct {
			Spec struct {
				Values struct {
					MeshConfig struct {
						DefaultConfig struct {
							ProxyMetadata map[string]string `json:"proxyMetadata"`
						} `json:"defaultConfig"`
					} `json:"meshConfig"`
					Pilot struct {
						Env map[string]string `json:"env"`
					} `json:"pilot"`
				} `json:"values"`
			} `json:"spec"`
		}
		if err := json.Unmarshal([]byte(m[1]), &patch); err != nil {
			t.Fatalf("the printed Istio patch is not JSON: %v: %s", err, m[1])
		}
		v := patch.Spec.Values
		return meshfedOSSM3Settings{
			dnsCapture:     v.MeshConfig.DefaultConfig.ProxyMetadata["ISTIO_META_DNS_CAPTURE"] == "true",
			ipAutoallocate: v.Pilot.Env["PILOT_ENABLE_IP_AUTOALLOCATE"] == "true",
		}
	}
	t.Fatalf("%s: no result prints the OSSM 3 Istio patch (kubectl patch istio ...)", sc.source)
	return meshfedOSSM3Settings{}
}

// allocateAddresses runs istiod's own ServiceEntry address allocator (the
// controller PILOT_ENABLE_IP_AUTOALLOCATE starts, pilot/pkg/controllers/ipallocate) on a
// fake API server holding the generated ServiceEntries, and returns the status
// addresses it wrote, by "namespace/name".
func allocateAddresses(t *testing.T, config []obj) map[string][]any {
	t.Helper()
	stop := test.NewStop(t)
	c := kubelib.NewFakeClient()
	clienttest.MakeCRD(t, c, gvr.ServiceEntry)
	ses := clienttest.NewDirectClient[*networkingv1.ServiceEntry, networkingv1.ServiceEntry, *networkingv1.ServiceEntryList](t, c)
	allocator := ipallocate.NewIPAllocator(stop, c)
	go allocator.Run(stop)
	c.RunAndWait(stop)
	retry.UntilOrFail(t, allocator.HasSynced, retry.Delay(time.Millisecond))

	var keys []string
	for _, o := range config {
		if str(o, "kind") != "ServiceEntry" || !generated(o) {
			continue
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		se := &networkingv1.ServiceEntry{}
		if err := json.Unmarshal(b, se); err != nil {
			t.Fatalf("%s: %v", ref(o), err)
		}
		ses.Create(se)
		keys = append(keys, namespace(o)+"/"+str(o, "metadata", "name"))
	}
	out := map[string][]any{}
	retry.UntilOrFail(t, func() bool {
		for _, k := range keys {
			ns, name := splitKey(k)
			got := ses.Get(name, ns)
			if got == nil || len(got.Status.Addresses) == 0 {
				return false
			}
			var addrs []any
			for _, a := range got.Status.Addresses {
				addrs = append(addrs, map[string]any{"host": a.Host, "value": a.Value})
			}
			out[k] = addrs
		}
		return true
	}, retry.Timeout(10*time.Second), retry.Delay(10*time.Millisecond))
	return out
}

func splitKey(k string) (string, string) {
	for i := range k {
		if k[i] == '/' {
			return k[:i], k[i+1:]
		}
	}
	return "", k
}

// withStatus returns config with each generated ServiceEntry's status.addresses set.
func withStatus(config []obj, addrs map[string][]any) []obj {
	out := clone(config)
	for _, o := range out {
		if a, ok := addrs[namespace(o)+"/"+str(o, "metadata", "name")]; ok && str(o, "kind") == "ServiceEntry" {
			o["status"] = map[string]any{"addresses": a}
		}
	}
	return out
}

// nameTable is istiod's DNS name table (NDS) for a client sidecar on the local network:
// host -> IPs. dnsCapture is the proxy's ISTIO_META_DNS_CAPTURE metadata.
func nameTable(t *testing.T, sc *scenario, config []obj, localNetwork string, dnsCapture bool) map[string][]string {
	t.Helper()
	kube, wls := withWorkloads(t, sc.kube, localNetwork, eastIPs)
	f := newFake(t, kube, config)
	w := clientWorkload(wls, localNetwork)
	p := f.SetupProxy(&model.Proxy{
		Type:            model.SidecarProxy,
		ID:              w.name + "." + w.namespace,
		ConfigNamespace: w.namespace,
		IPAddresses:     []string{w.ip},
		Labels:          w.labels,
		Metadata: &model.NodeMetadata{
			Namespace:  w.namespace,
			Network:    network.ID(localNetwork),
			ClusterID:  cluster.ID(constants.DefaultClusterName),
			Labels:     w.labels,
			DNSCapture: model.StringBool(dnsCapture),
		},
	})
	nt := f.ConfigGen.BuildNameTable(p, f.PushContext())
	out := map[string][]string{}
	if nt == nil {
		return out
	}
	for host, info := range nt.Table {
		out[host] = info.Ips
	}
	return out
}

// importedHosts are the hosts of the generated ServiceEntries (every import).
func importedHosts(config []obj) []string {
	var out []string
	for _, o := range config {
		if str(o, "kind") == "ServiceEntry" && generated(o) {
			for _, h := range list(nested(o, "spec", "hosts")) {
				out = append(out, h.(string))
			}
		}
	}
	return sortedCopy(out)
}

// TestImportedNamesResolve: on EAST, with the OSSM 3 control-plane settings meshfed
// prints, a client sidecar's DNS proxy gets a name-table entry with an address for
// every imported host, the importAsLocal one included; these hosts have no DNS record
// anywhere else (httpbin.a.svc.west-mesh-imports.local), and httpbin.b.svc.cluster.local
// has no Kubernetes Service on EAST. Without DNS capture, or without the address
// allocator, the same proxy gets no entry for them: both settings are needed.
// The name table is istiod's own (pilot/pkg/networking/core BuildNameTable, what the NDS
// generator sends, pilot/pkg/xds/nds.go); addresses are those istiod's allocator
// controller writes into the ServiceEntries' status, as in a cluster.
func TestImportedNamesResolve(t *testing.T) {
	sc := loadScenario(t, "guide-east")
	settings := printedOSSM3Settings(t, sc)
	if !settings.dnsCapture || !settings.ipAutoallocate {
		t.Fatalf("meshfed's printed OSSM 3 settings: DNS capture %v, IP auto-allocation %v; both must be on", settings.dnsCapture, settings.ipAutoallocate)
	}
	hosts := importedHosts(sc.config)
	if len(hosts) < 2 {
		t.Fatalf("want the guide's two imported hosts, got %v", hosts)
	}
	localNetwork := eastNetworkOf(sc)
	allocatorRange := netip.MustParsePrefix(features.IPAutoallocateIPv4Prefix)

	t.Run("with meshfed's settings every imported host resolves", func(t *testing.T) {
		test.SetForTest(t, &features.EnableIPAutoallocate, settings.ipAutoallocate)
		addrs := allocateAddresses(t, sc.config)
		table := nameTable(t, sc, withStatus(sc.config, addrs), localNetwork, settings.dnsCapture)
		for _, h := range hosts {
			ips := table[h]
			if len(ips) == 0 {
				t.Errorf("%s: no name-table entry", h)
				continue
			}
			for _, ip := range ips {
				a, err := netip.ParseAddr(ip)
				if err != nil || (a.Is4() && !allocatorRange.Contains(a)) {
					t.Errorf("%s: address %q is not one istiod's allocator gives (%s)", h, ip, allocatorRange)
				}
			}
			t.Logf("%s -> %v", h, ips)
		}
	})

	t.Run("without DNS capture nothing resolves them", func(t *testing.T) {
		test.SetForTest(t, &features.EnableIPAutoallocate, settings.ipAutoallocate)
		addrs := allocateAddresses(t, sc.config)
		table := nameTable(t, sc, withStatus(sc.config, addrs), localNetwork, false)
		for _, h := range hosts {
			if ips, ok := table[h]; ok {
				t.Errorf("%s: name-table entry %v for a proxy without DNS capture", h, ips)
			}
		}
	})

	t.Run("without the address allocator nothing resolves them", func(t *testing.T) {
		test.SetForTest(t, &features.EnableIPAutoallocate, false)
		table := nameTable(t, sc, sc.config, localNetwork, settings.dnsCapture)
		for _, h := range hosts {
			if ips, ok := table[h]; ok {
				t.Errorf("%s: name-table entry %v without any address allocation", h, ips)
			}
		}
	})
}

// eastNetworkOf is the importing cluster's own network: MeshImport spec.network, else
// the test's default.
func eastNetworkOf(sc *scenario) string {
	for _, mi := range find(sc.all, "meshfed.dev", "MeshImport", nil) {
		if n := str(mi, "spec", "network"); n != "" {
			return n
		}
	}
	return eastNetwork
}
