// Command argocd-cmp-server is Argo CD's own config management plugin
// server (github.com/argoproj/argo-cd/v3, cmd/argocd-cmp-server), built
// here so the tests run the real server rather than an imitation of it.
package main

import (
	"os"

	"github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
)

func main() {
	if err := commands.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
