// Command sdknoop is the baseline of meshfed's whole-process benchmark: the
// kpt functions SDK's own do-nothing function, a processor that changes
// nothing run the way functions on the SDK run. It shares no code with
// meshfed's edge, so the comparison measures meshfed against what a KRM
// function costs.
//
// By default it runs fn.Execute (kyaml's ByteReadWriter, each item
// converted to a KubeObject and back by serialising and parsing it, the
// SDK's documented entry point for a ResourceListProcessor); with the
// argument -asmain it runs fn.AsMain (fn.ParseResourceList and
// ResourceList.ToYAML, which also sorts the items).
package main

import (
	"os"

	kfn "github.com/kptdev/krm-functions-sdk/go/fn"
)

func main() {
	noop := kfn.ResourceListProcessorFunc(func(*kfn.ResourceList) (bool, error) { return true, nil })
	var err error
	if len(os.Args) > 1 && os.Args[1] == "-asmain" {
		err = kfn.AsMain(noop)
	} else {
		err = kfn.Execute(noop, os.Stdin, os.Stdout)
	}
	if err != nil {
		os.Exit(1)
	}
}
