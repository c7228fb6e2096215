package crdvalidate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// The CRDs are read from the Go module cache rather than copied into the
// repository: the module versions are then the single source of truth, and
// bumping a pin in go.mod bumps the schemas the tests check against.

const (
	istioAPIModule   = "istio.io/api"
	gatewayAPIModule = "sigs.k8s.io/gateway-api"

	// IstioOSSM30 is the istio.io/api version whose CRDs stand in for
	// Istio 1.24, the release OpenShift Service Mesh 3.0 ships. It is the
	// newest 1.24.x tag that the Go module proxy served when this was
	// written (later 1.24.x tags were not available there).
	IstioOSSM30 = "v1.24.4"

	// IstioPinned selects the istio.io/api version required in go.mod.
	IstioPinned = ""
)

// IstioVersions are the Istio CRD sets generated output must satisfy:
// the oldest supported (OSSM 3.0) and the version the module is built
// against.
var IstioVersions = []string{IstioOSSM30, IstioPinned}

// IstioCRDFiles returns the CRD file shipped in istio.io/api at the given
// module version ("v1.24.4"), or at the go.mod version for "".
// A version other than go.mod's is fetched with `go mod download`, so it
// needs the go tool on PATH (go test provides it) and, the first time, the
// module proxy.
func IstioCRDFiles(istioAPIVersion string) ([]string, error) {
	dir, err := moduleDir(istioAPIModule, istioAPIVersion)
	if err != nil {
		return nil, err
	}
	f := filepath.Join(dir, "kubernetes", "customresourcedefinitions.gen.yaml")
	if _, err := os.Stat(f); err != nil {
		return nil, err
	}
	return []string{f}, nil
}

// GatewayAPICRDFiles returns the standard-channel CRD files shipped in the
// sigs.k8s.io/gateway-api version required in go.mod. Files in that
// directory that hold no CRD (the safe-upgrades admission policy) are left
// out.
func GatewayAPICRDFiles() ([]string, error) {
	dir, err := moduleDir(gatewayAPIModule, "")
	if err != nil {
		return nil, err
	}
	matches, err := filepath.Glob(filepath.Join(dir, "config", "crd", "standard", "*.yaml"))
	if err != nil {
		return nil, err
	}
	var files []string
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(data, []byte("kind: CustomResourceDefinition")) {
			files = append(files, m)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Gateway API CRDs under %s", dir)
	}
	sort.Strings(files)
	return files, nil
}

var (
	cacheMu        sync.Mutex
	validatorCache = map[string]func() (*Validator, error){}
	moduleDirs     = map[string]func() (string, error){}
)

// ForIstio returns a Validator for the Istio CRDs of istioAPIVersion (see
// IstioCRDFiles) plus the Gateway API standard CRDs. Loading parses
// megabytes of YAML, so the result is built once per process and shared;
// Validator is safe for concurrent use.
func ForIstio(istioAPIVersion string) (*Validator, error) {
	cacheMu.Lock()
	get, ok := validatorCache[istioAPIVersion]
	if !ok {
		get = sync.OnceValues(func() (*Validator, error) {
			istio, err := IstioCRDFiles(istioAPIVersion)
			if err != nil {
				return nil, err
			}
			gw, err := GatewayAPICRDFiles()
			if err != nil {
				return nil, err
			}
			return Load(append(istio, gw...)...)
		})
		validatorCache[istioAPIVersion] = get
	}
	cacheMu.Unlock()
	return get()
}

// moduleDir finds the module's directory in the module cache, once per
// process per module version.
func moduleDir(module, version string) (string, error) {
	key := module + "@" + version
	cacheMu.Lock()
	get, ok := moduleDirs[key]
	if !ok {
		get = sync.OnceValues(func() (string, error) { return lookupModuleDir(module, version) })
		moduleDirs[key] = get
	}
	cacheMu.Unlock()
	return get()
}

type goModule struct {
	Version string
	Dir     string
	Error   any // string from `go mod download`, object from `go list`
	Replace *goModule
}

func lookupModuleDir(module, version string) (string, error) {
	if version == "" {
		// The version required by the main module: ask `go list` from
		// the current directory, which go test sets to the package dir.
		var m goModule
		if err := runGoJSON("", &m, "list", "-m", "-json", module); err != nil {
			return "", err
		}
		if m.Replace != nil {
			m = *m.Replace
		}
		if m.Dir != "" {
			return m.Dir, nil
		}
		version = m.Version // required but not yet extracted
	}
	// Outside any module, so go.mod and go.sum are never touched.
	tmp, err := os.MkdirTemp("", "crdvalidate-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	var m goModule
	err = runGoJSON(tmp, &m, "mod", "download", "-json", module+"@"+version)
	if m.Error != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v", module, version, m.Error)
	}
	if err != nil {
		return "", err
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: no directory reported", module, version)
	}
	return m.Dir, nil
}

func runGoJSON(dir string, out any, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if dir != "" {
		// A temp dir is outside the module: drop settings meant for it.
		cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, runErr := cmd.Output()
	if len(bytes.TrimSpace(stdout)) > 0 {
		if err := json.Unmarshal(stdout, out); err != nil {
			return fmt.Errorf("go %s: bad JSON: %w", strings.Join(args, " "), err)
		}
	}
	if runErr != nil {
		return fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), runErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}
