// Package layout writes a synthetic exporting cluster (bench/gen's
// exporter input: n Services with their Deployments, the federation CRs,
// the peer's ImportedServiceSet) as kustomizations, in the three ways a
// user can render it:
//
//	plain/        the cluster's objects only, no meshfed (the baseline)
//	transformer/  meshfed as a kustomize exec transformer, the peer's items
//	              through a peer kustomization (as kustomization-samples/)
//	pipe/         the large-mesh fast path of argocd/plugin-pipe.yaml: no
//	              transformer, meshfed.yaml holding the MeshExport, and a
//	              peer-<name>/ kustomization adding meshfed.dev/peer
//
// The objects are the same in all three; only how meshfed is wired differs.
package layout

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/meshfed/meshfed/bench/gen"
)

// Folders written by Write, relative to its dir.
const (
	Plain       = "plain"
	Transformer = "transformer"
	Pipe        = "pipe"
)

const (
	peerAnnotation = "meshfed.dev/peer"
	localConfig    = "config.kubernetes.io/local-config"
)

// Write writes the three layouts of an exporter with n Services under dir.
func Write(dir string, n int) error {
	rl := gen.ExporterInput(n)
	r := &kio.ByteReader{Reader: bytes.NewReader(rl), OmitReaderAnnotations: true}
	items, err := r.Read()
	if err != nil {
		return fmt.Errorf("reading the generated ResourceList: %w", err)
	}
	var own, peer []*yaml.RNode
	peerName := ""
	for _, it := range items {
		// kpt's file bookkeeping, which bench/gen writes as kpt would; a
		// kustomize build adds its own.
		for k := range it.GetAnnotations() {
			if strings.HasPrefix(k, "internal.config.kubernetes.io/") || strings.HasPrefix(k, "config.kubernetes.io/path") || strings.HasPrefix(k, "config.kubernetes.io/index") {
				if _, err := it.Pipe(yaml.ClearAnnotation(k)); err != nil {
					return err
				}
			}
		}
		if p := it.GetAnnotations()[peerAnnotation]; p != "" {
			peerName = p
			// The peer kustomizations add both annotations, as users write them.
			for _, k := range []string{peerAnnotation, localConfig} {
				if _, err := it.Pipe(yaml.ClearAnnotation(k)); err != nil {
					return err
				}
			}
			peer = append(peer, it)
			continue
		}
		own = append(own, it)
	}
	if peerName == "" {
		return fmt.Errorf("the generated input has no peer items")
	}
	config := r.FunctionConfig
	if config == nil {
		return fmt.Errorf("the generated input has no functionConfig")
	}
	kind := strings.ToLower(config.GetKind())

	files := map[string]string{}
	ownYAML, err := stream(own)
	if err != nil {
		return err
	}
	peerYAML, err := stream(peer)
	if err != nil {
		return err
	}
	configYAML := config.MustString()
	files[filepath.Join(Plain, "cluster.yaml")] = ownYAML
	files[filepath.Join(Plain, "kustomization.yaml")] = "resources:\n- cluster.yaml\n"

	files[filepath.Join(Transformer, "cluster.yaml")] = ownYAML
	files[filepath.Join(Transformer, "peer-"+peerName, "peer.yaml")] = peerYAML
	files[filepath.Join(Transformer, "peer-"+peerName, "kustomization.yaml")] = fmt.Sprintf("commonAnnotations:\n  %s: %s\n  %s: \"true\"\nresources:\n- peer.yaml\n", peerAnnotation, peerName, localConfig)
	withFunction := config.Copy()
	if err := withFunction.PipeE(yaml.SetAnnotation("config.kubernetes.io/function", "exec:\n  path: meshfed\n")); err != nil {
		return err
	}
	files[filepath.Join(Transformer, kind+".yaml")] = withFunction.MustString()
	files[filepath.Join(Transformer, "kustomization.yaml")] = fmt.Sprintf("resources:\n- cluster.yaml\n- peer-%s\ntransformers:\n- %s.yaml\n", peerName, kind)

	files[filepath.Join(Pipe, "cluster.yaml")] = ownYAML
	files[filepath.Join(Pipe, "meshfed.yaml")] = configYAML
	files[filepath.Join(Pipe, "peer-"+peerName, "peer.yaml")] = peerYAML
	files[filepath.Join(Pipe, "peer-"+peerName, "kustomization.yaml")] = fmt.Sprintf("commonAnnotations:\n  %s: %s\nresources:\n- peer.yaml\n", peerAnnotation, peerName)
	files[filepath.Join(Pipe, "kustomization.yaml")] = "resources:\n- cluster.yaml\n"

	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func stream(nodes []*yaml.RNode) (string, error) {
	var b bytes.Buffer
	if err := (kio.ByteWriter{Writer: &b}).Write(nodes); err != nil {
		return "", err
	}
	return b.String(), nil
}
