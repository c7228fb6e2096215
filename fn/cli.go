package fn

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Exit codes of Command.Main.
const (
	ExitOK    = 0 // success, or --help / --version
	ExitError = 1 // an error result, or input that cannot be read
	ExitUsage = 2 // a command-line mistake
)

// Command is the command line of a function binary. Without flags it is
// the KRM function: a ResourceList (or a plain YAML stream) on stdin,
// the result on stdout. Flags:
//
//	--help, -h     print Usage and exit 0 (kpt fn doc runs this)
//	--version      print the name and Version and exit 0
//	--config FILE  use the documents in FILE as the configuration, for
//	               tools that cannot pass a functionConfig, such as a Helm
//	               post-renderer (see Options.Config)
type Command struct {
	Name      string
	Version   string
	Usage     string
	Processor Processor
	// OwnProcess is Options.OwnProcess: set it only where Main is the
	// whole process (the binary's main), not where tests call Main.
	OwnProcess bool
}

// Main runs the command with args (without the program name) and returns
// the exit code.
func (c Command) Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, in our words
	var help, version bool
	var configPath string
	fs.BoolVar(&help, "help", false, "")
	fs.BoolVar(&help, "h", false, "")
	fs.BoolVar(&version, "version", false, "")
	fs.StringVar(&configPath, "config", "", "")
	if err := fs.Parse(args); err != nil {
		return c.usageError(stderr, flagErrorText(err, args))
	}
	switch {
	case help:
		fmt.Fprint(stdout, HelpText(c.Usage))
		return ExitOK
	case version:
		fmt.Fprintf(stdout, "%s %s\n", c.Name, c.Version)
		return ExitOK
	case fs.NArg() > 0:
		return c.usageError(stderr, fmt.Sprintf("unexpected argument %q: %s reads its input on stdin", fs.Arg(0), c.Name))
	}
	opts := Options{OwnProcess: c.OwnProcess}
	if setFlag(fs, "config") {
		if configPath == "" {
			return c.usageError(stderr, "--config needs a file name")
		}
		docs, err := ReadConfigFile(configPath)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", c.Name, err)
			return ExitError
		}
		opts.Config, opts.ConfigPath = docs, configPath
	}
	return RunWith(c.Processor, stdin, stdout, stderr, opts)
}

func (c Command) usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", c.Name, msg, c.Name)
	return ExitUsage
}

// flagErrorText rewords the flag package's errors, naming a flag as the
// user spelt it (--config, not -config).
func flagErrorText(err error, args []string) string {
	msg := err.Error()
	asTyped := func(name string) string {
		bare := strings.TrimLeft(name, "-")
		for _, a := range args {
			if a == "--" {
				break
			}
			flagPart, _, _ := strings.Cut(a, "=")
			if strings.HasPrefix(flagPart, "-") && strings.TrimLeft(flagPart, "-") == bare {
				return flagPart
			}
		}
		return name
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + asTyped(name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return asTyped(name) + " needs a value"
	}
	return msg
}

func setFlag(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// ReadConfigFile reads the YAML documents of a --config file. It rejects
// a file that holds no document, that is itself a ResourceList, or that
// holds the same object (apiVersion, kind, namespace, name, and the
// meshfed.dev/peer it belongs to) twice.
func ReadConfigFile(path string) ([]*yaml.RNode, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --config: %w", err)
	}
	r := &kio.ByteReader{Reader: bytes.NewReader(b), OmitReaderAnnotations: true}
	docs, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("--config %s: %v", path, strings.TrimSpace(err.Error()))
	}
	if r.WrappingKind != "" {
		return nil, fmt.Errorf("--config %s is a %s: give the configuration documents themselves, separated by ---", path, r.WrappingKind)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("--config %s holds no YAML document", path)
	}
	dup := input{anchored: map[*yaml.RNode]bool{}}
	for i, d := range docs {
		dup.duplicateKeys(d.YNode(), "", fmt.Sprintf("document %d", i+1), d)
		if err := d.DeAnchor(); err != nil {
			return nil, fmt.Errorf("--config %s: document %d: %v", path, i+1, err)
		}
	}
	if len(dup.problems) > 0 {
		return nil, fmt.Errorf("--config %s: %s", path, dup.problems[0].Message)
	}
	seen := map[string]int{}
	for i, d := range docs {
		// Two peers' objects may share an ID (both have an
		// ExportedServiceSet for this mesh): they are different objects,
		// told apart by meshfed.dev/peer.
		id := fmt.Sprintf("%s %s %s/%s peer=%s", d.GetApiVersion(), d.GetKind(), d.GetNamespace(), d.GetName(), d.GetAnnotations()["meshfed.dev/peer"])
		if j, dup := seen[id]; dup {
			return nil, fmt.Errorf("--config %s: documents %d and %d are both %s %s: each object may appear once; merge them", path, j+1, i+1, d.GetKind(), d.GetName())
		}
		seen[id] = i
	}
	return docs, nil
}

// HelpText returns a README as --help prints it: without the HTML comment
// lines (such as the catalog's <!--mdtogo:Short--> markers), ending in one
// newline.
func HelpText(readme string) string {
	var b strings.Builder
	for _, line := range strings.Split(readme, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "<!--") && strings.HasSuffix(t, "-->") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String()) + "\n"
}
