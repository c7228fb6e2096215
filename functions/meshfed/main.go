// Command meshfed is a KRM function that migrates OpenShift Service Mesh 2
// federation to Istio multi-network with manual service discovery.
package main

import (
	_ "embed"
	"os"

	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/pipeline"
)

// version is set at build time with -ldflags '-X main.version=...'.
var version = "dev"

// usage is what --help prints (kpt fn doc runs the function with --help).
//
//go:embed README.md
var usage string

func main() {
	cmd := fn.Command{
		Name:       "meshfed",
		Version:    version,
		Usage:      usage,
		Processor:  fn.ItemsFunc(pipeline.ProcessItems),
		OwnProcess: true,
	}
	os.Exit(cmd.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
