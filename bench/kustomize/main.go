// Command kustomize is `make bench-kustomize`: it times `kustomize build`
// of a synthetic exporting cluster at several sizes, without meshfed, with
// meshfed as an exec transformer, and through the large-mesh fast path of
// argocd/plugin-pipe.yaml (its generate script, run as the sidecar runs
// it), and checks that the fast path renders the same objects as the
// transformer. It prints a Markdown table for BENCHMARKS.md.
//
// kustomize and meshfed are looked up on PATH (the Makefile puts bin/
// first); the script runs under bash.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/meshfed/meshfed/bench/kustomize/layout"
)

func main() {
	sizesFlag := flag.String("sizes", "250,500,1000", "numbers of Services")
	runs := flag.Int("runs", 3, "timed runs per layout and size (the median is reported)")
	plugin := flag.String("plugin", "argocd/plugin-pipe.yaml", "the fast-path plugin whose generate script is timed")
	flag.Parse()
	if err := benchmark(*sizesFlag, *runs, *plugin); err != nil {
		fmt.Fprintln(os.Stderr, "bench-kustomize:", err)
		os.Exit(1)
	}
}

func benchmark(sizesFlag string, runs int, pluginFile string) error {
	var sizes []int
	for _, s := range strings.Split(sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		sizes = append(sizes, n)
	}
	script, err := generateScript(pluginFile)
	if err != nil {
		return err
	}
	// The sidecar image runs it with busybox sh; Debian's /bin/sh (dash)
	// has no pipefail.
	shell := []string{"bash", "-c"}
	kustomize, err := exec.LookPath("kustomize")
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("meshfed"); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "meshfed-bench-kustomize-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("kustomize %s, %d CPUs, %s, load average at start %s\n", version(kustomize), runtime.NumCPU(), runtime.Version(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Printf("median of %d runs; fast path = %s's generate script under %s\n\n", runs, pluginFile, shell[0])
	fmt.Println("| Services | objects in | build, no meshfed | build, meshfed as transformer | fast path (build, then meshfed --config) | transformer / fast path |")
	fmt.Println("| ---: | ---: | ---: | ---: | ---: | ---: |")
	build := []string{kustomize, "build", "--enable-alpha-plugins", "--enable-exec", "."}
	for _, n := range sizes {
		dir := filepath.Join(tmp, strconv.Itoa(n))
		if err := layout.Write(dir, n); err != nil {
			return err
		}
		plain, _, err := timed(runs, filepath.Join(dir, layout.Plain), build)
		if err != nil {
			return err
		}
		transformer, viaTransformer, err := timed(runs, filepath.Join(dir, layout.Transformer), build)
		if err != nil {
			return err
		}
		pipe, viaPipe, err := timed(runs, filepath.Join(dir, layout.Pipe), append(slices.Clone(shell), script))
		if err != nil {
			return err
		}
		if err := sameObjects(viaPipe, viaTransformer); err != nil {
			return fmt.Errorf("%d Services: the fast path renders other objects than the transformer: %w", n, err)
		}
		fmt.Printf("| %d | %d | %.1f s | %.1f s | %.1f s | %.1fx |\n", n, 2*n, plain.Seconds(), transformer.Seconds(), pipe.Seconds(), transformer.Seconds()/pipe.Seconds())
	}
	return nil
}

// generateScript returns the shell script of a plugin's
// `command: [sh, -c]` generate step.
func generateScript(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	var p struct {
		Spec struct {
			Generate struct {
				Command []string `yaml:"command"`
				Args    []string `yaml:"args"`
			} `yaml:"generate"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	if g := p.Spec.Generate; len(g.Command) != 2 || g.Command[0] != "sh" || g.Command[1] != "-c" || len(g.Args) != 1 {
		return "", fmt.Errorf("%s: generate is not `command: [sh, -c]` with one script in args", file)
	}
	return p.Spec.Generate.Args[0], nil
}

func version(kustomize string) string {
	out, err := exec.Command(kustomize, "version").Output()
	if err != nil {
		return "(unknown version)"
	}
	return strings.TrimSpace(string(out))
}

// timed runs a command in dir runs times and returns the median wall time
// and the last run's stdout; any failure is an error with its stderr.
func timed(runs int, dir string, argv []string) (time.Duration, []byte, error) {
	var times []time.Duration
	var out []byte
	for range runs {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, nil, fmt.Errorf("%s in %s: %v\n%s", strings.Join(argv[:min(len(argv), 2)], " "), dir, err, stderr.String())
		}
		times = append(times, time.Since(start))
		out = stdout.Bytes()
	}
	slices.Sort(times)
	return times[len(times)/2], out, nil
}

// sameObjects compares two YAML streams as sets of objects, each compared
// as data (kustomize and meshfed order fields and objects differently).
func sameObjects(a, b []byte) error {
	index := func(stream []byte) (map[string]string, error) {
		nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(stream), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, n := range nodes {
			j, err := n.MarshalJSON()
			if err != nil {
				return nil, err
			}
			var v any
			if err := json.Unmarshal(j, &v); err != nil {
				return nil, err
			}
			canonical, _ := json.Marshal(v)
			m[n.GetKind()+" "+n.GetNamespace()+"/"+n.GetName()] = string(canonical)
		}
		return m, nil
	}
	ma, err := index(a)
	if err != nil {
		return err
	}
	mb, err := index(b)
	if err != nil {
		return err
	}
	for id, text := range mb {
		if ma[id] != text {
			return fmt.Errorf("%s differs or is missing", id)
		}
	}
	if len(ma) != len(mb) {
		return fmt.Errorf("%d objects against %d", len(ma), len(mb))
	}
	return nil
}
