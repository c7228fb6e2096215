// Command identity is the baseline of meshfed's whole-process benchmark: a
// KRM function on the same edge as meshfed (fn.Run: kyaml's reader and
// writer, KubeObjects in between) with a processor that changes nothing.
// What meshfed costs beyond it is the cost of federation rules and
// rendering.
package main

import (
	"os"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
	"github.com/meshfed/meshfed/fn"
)

func main() {
	os.Exit(fn.Run(fn.ProcessorFunc(func(*kfn.ResourceList) {}), os.Stdin, os.Stdout, os.Stderr))
}
