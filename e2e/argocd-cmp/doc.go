// Package argocdcmp renders meshfed's Argo CD plugins (argocd/plugin.yaml
// and argocd/plugin-pipe.yaml) with Argo CD's own config management plugin
// server, argocd-cmp-server from github.com/argoproj/argo-cd/v3 v3.2.12,
// built from ./cmd/argocd-cmp-server, and the repo server's own manifest
// generation (reposerver/repository.GenerateManifests) as the client. A
// module of its own: Argo CD pins Kubernetes libraries older than
// meshfed's. Run it with `make test-argocd`.
package argocdcmp
