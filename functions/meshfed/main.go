// Command meshfed is a KRM function that migrates OpenShift Service Mesh 2
// federation to Istio multi-network with manual service discovery.
package main

import (
	"os"

	"github.com/meshfed/meshfed/fn"
	"github.com/meshfed/meshfed/functions/meshfed/pipeline"
)

func main() {
	os.Exit(fn.Run(fn.ProcessorFunc(pipeline.Process), os.Stdin, os.Stdout, os.Stderr))
}
