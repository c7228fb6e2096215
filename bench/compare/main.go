// Command compare is the whole-process half of `make bench`: it runs
// bin/meshfed and a baseline (bench/sdknoop: the kpt SDK's own do-nothing
// function) on synthetic exporter and importer inputs, alternating baseline
// and meshfed runs, and prints median wall time and peak RSS, the
// meshfed/baseline ratios and how time scales from the small to the large
// input. With -gobench it also checks how the Go benchmarks of
// the core (bench/bench_test.go) scale. It exits 1 when a target is missed.
//
// With -gen kind:n it only writes that synthetic input to stdout.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/meshfed/meshfed/bench/gen"
)

func main() {
	meshfed := flag.String("meshfed", "bin/meshfed", "the meshfed binary")
	baselineFlag := flag.String("baseline", "bin/sdknoop", "the baseline function: a binary and its arguments, separated by spaces")
	checkTargets := flag.Bool("check", true, "exit 1 when a target is missed (false: only report)")
	sizesFlag := flag.String("sizes", "500,5000", "numbers of Services, small to large")
	runs := flag.Int("runs", 7, "timed runs per binary and input (the median is reported)")
	maxTime := flag.Float64("max-time-ratio", 0.5, "target: meshfed/baseline wall time at the largest size")
	maxRSS := flag.Float64("max-rss-ratio", 0.5, "target: meshfed/baseline peak RSS at the largest size")
	maxScaling := flag.Float64("max-scaling", 1.1, "target: time(large)/time(small) at most this times large/small")
	gobench := flag.String("gobench", "", "output of `go test -bench` with BenchmarkScaling, to check the core's scaling too")
	genFlag := flag.String("gen", "", "only write the input kind:n (exporter:500) to stdout")
	flag.Parse()

	if *genFlag != "" {
		kind, n, ok := strings.Cut(*genFlag, ":")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || (kind != string(gen.Exporter) && kind != string(gen.Importer)) {
			fatalf("-gen wants exporter:<n> or importer:<n>, not %q", *genFlag)
		}
		os.Stdout.Write(gen.ResourceList(gen.Kind(kind), size))
		return
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fatalf("bad -sizes %q", *sizesFlag)
		}
		sizes = append(sizes, n)
	}
	if *runs < 5 {
		fatalf("-runs must be at least 5")
	}

	dir, err := os.MkdirTemp("", "meshfed-bench-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(dir)

	var failures []string
	check := func(ok bool, format string, args ...any) {
		mark := "ok  "
		if !ok {
			mark = "FAIL"
			failures = append(failures, fmt.Sprintf(format, args...))
		}
		fmt.Printf("  %s %s\n", mark, fmt.Sprintf(format, args...))
	}

	baseline := baselineFlag
	fmt.Printf("whole process: %s vs baseline %q, median of %d alternating runs each (baseline first)\n", *meshfed, *baseline, *runs)
	fmt.Printf("machine: %d CPUs, load average %s\n\n", runtime.NumCPU(), loadavg())
	fmt.Printf("%-9s %6s %6s | %9s %9s %6s | %10s %10s %6s | %9s %9s %6s\n", "input", "svcs", "MiB in",
		"base wall", "mf wall", "ratio", "base RSS", "mf RSS", "ratio", "base CPU", "mf CPU", "ratio")
	type key struct {
		kind gen.Kind
		n    int
	}
	results := map[key][2]sample{}
	for _, kind := range []gen.Kind{gen.Exporter, gen.Importer} {
		for _, n := range sizes {
			in := gen.ResourceList(kind, n)
			file := filepath.Join(dir, fmt.Sprintf("%s-%d.yaml", kind, n))
			if err := os.WriteFile(file, in, 0o644); err != nil {
				fatalf("%v", err)
			}
			// One untimed run each: warms the page cache and checks that
			// both succeed on the input.
			for _, bin := range []string{*baseline, *meshfed} {
				if _, err := run(bin, file); err != nil {
					fatalf("%s on %s input of %d services: %v", bin, kind, n, err)
				}
			}
			var id, mf []sample
			for i := 0; i < *runs; i++ {
				for j, bin := range []string{*baseline, *meshfed} {
					s, err := run(bin, file)
					if err != nil {
						fatalf("%s: %v", bin, err)
					}
					if j == 0 {
						id = append(id, s)
					} else {
						mf = append(mf, s)
					}
				}
			}
			m := [2]sample{median(id), median(mf)}
			results[key{kind, n}] = m
			fmt.Printf("%-9s %6d %6.1f | %9s %9s %5.2fx | %6.1f MiB %6.1f MiB %5.2fx | %9s %9s %5.2fx\n", kind, n, float64(len(in))/(1<<20),
				ms(m[0].wall), ms(m[1].wall), ratio(m[1].wall, m[0].wall),
				mib(m[0].rss), mib(m[1].rss), float64(m[1].rss)/float64(m[0].rss),
				ms(m[0].cpu), ms(m[1].cpu), ratio(m[1].cpu, m[0].cpu))
		}
	}

	small, large := sizes[0], sizes[len(sizes)-1]
	fmt.Printf("\ntargets (at %d services: meshfed <= %.2fx baseline time and peak RSS; %dx services <= %.1fx time):\n",
		large, *maxTime, large/small, float64(large)/float64(small)**maxScaling)
	for _, kind := range []gen.Kind{gen.Exporter, gen.Importer} {
		m := results[key{kind, large}]
		check(ratio(m[1].wall, m[0].wall) <= *maxTime, "%s %d: time meshfed/baseline = %.2fx", kind, large, ratio(m[1].wall, m[0].wall))
		check(float64(m[1].rss)/float64(m[0].rss) <= *maxRSS, "%s %d: peak RSS meshfed/baseline = %.2fx", kind, large, float64(m[1].rss)/float64(m[0].rss))
	}
	if large > small {
		limit := float64(large) / float64(small) * *maxScaling
		for _, kind := range []gen.Kind{gen.Exporter, gen.Importer} {
			s, l := results[key{kind, small}], results[key{kind, large}]
			check(ratio(l[1].wall, s[1].wall) <= limit, "%s meshfed time(%d)/time(%d) = %.2fx (baseline: %.2fx)", kind, large, small, ratio(l[1].wall, s[1].wall), ratio(l[0].wall, s[0].wall))
		}
	}
	if *gobench != "" {
		checkGoBench(*gobench, *maxScaling, check)
	}
	if len(failures) > 0 {
		fmt.Printf("\n%d target(s) missed (load average now %s)\n", len(failures), loadavg())
		if *checkTargets {
			os.Exit(1)
		}
		return
	}
	fmt.Printf("\nall targets met (load average now %s)\n", loadavg())
}

// sample is one run of a binary.
type sample struct {
	wall time.Duration
	rss  int64         // peak resident set size, bytes
	cpu  time.Duration // user + system CPU time, for reference: less
	// sensitive than wall time to other load on the machine
}

// run runs bin with file as stdin and its output discarded, as an
// orchestrator would pipe it.
func run(bin, file string) (sample, error) {
	in, err := os.Open(file)
	if err != nil {
		return sample{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return sample{}, err
	}
	defer out.Close()
	var stderr bytes.Buffer
	args := strings.Fields(bin)
	cmd := exec.Command(args[0], args[1:]...)
	// Files, not pipes: the child reads and writes them directly, so no
	// copying goroutine of ours is timed.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, fmt.Errorf("no rusage on this platform")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{wall: wall, rss: ru.Maxrss * 1024, cpu: cpu}, nil // Linux reports KiB
}

// median returns the median wall time, peak RSS and CPU time, each
// taken on its own.
func median(s []sample) sample {
	walls := make([]time.Duration, len(s))
	cpus := make([]time.Duration, len(s))
	rss := make([]int64, len(s))
	for i, x := range s {
		walls[i], rss[i], cpus[i] = x.wall, x.rss, x.cpu
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	slices.Sort(rss)
	return sample{wall: walls[len(walls)/2], rss: rss[len(rss)/2], cpu: cpus[len(cpus)/2]}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond)) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// scalingLine matches a BenchmarkScaling result line, e.g.
// "BenchmarkScaling/exporter/services=1000-10000-2  41  1855786776 ns/op
// 0 gc/op  14.65 max-x  10.11 median-x  8.57 min-x" (metrics in any order).
var scalingLine = regexp.MustCompile(`^BenchmarkScaling/(\S+)/services=(\d+)-(\d+)(?:-\d+)?\s+(\d+)\s`)

// processLine matches a BenchmarkProcess result line, for the time per op
// printed next to the scaling.
var processLine = regexp.MustCompile(`^BenchmarkProcess/(\S+)/services=(\d+)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// checkGoBench checks the core's scaling with BenchmarkScaling's results:
// the median of its rounds' ratios, each the time on the larger input over
// the mean time on the smaller one, both taken within about a second (see
// BenchmarkScaling). BenchmarkProcess's times per op, if there, are shown
// beside it for reference.
func checkGoBench(file string, maxScaling float64, check func(bool, string, ...any)) {
	f, err := os.Open(file)
	if err != nil {
		fatalf("%v", err)
	}
	defer f.Close()
	perOp := map[string][]float64{} // "exporter/1000" -> ns/op samples
	type scaling struct {
		family              string
		small, large, round int
		metrics             map[string]float64
	}
	var found []scaling
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := processLine.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[3], 64)
			perOp[m[1]+"/"+m[2]] = append(perOp[m[1]+"/"+m[2]], v)
			continue
		}
		m := scalingLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s := scaling{family: m[1], metrics: map[string]float64{}}
		s.small, _ = strconv.Atoi(m[2])
		s.large, _ = strconv.Atoi(m[3])
		s.round, _ = strconv.Atoi(m[4])
		f := strings.Fields(line)
		for k := 2; k+1 < len(f); k += 2 {
			if v, err := strconv.ParseFloat(f[k], 64); err == nil {
				s.metrics[f[k+1]] = v
			}
		}
		for _, want := range []string{"median-x", "min-x", "max-x", "gc/op"} {
			if _, ok := s.metrics[want]; !ok {
				fatalf("%s: no %s in %q", file, want, line)
			}
		}
		found = append(found, s)
	}
	if len(found) == 0 {
		fatalf("no BenchmarkScaling results in %s", file)
	}
	fmt.Printf("\nGo benchmarks of the core (%s): time for 10x the Services, median of rounds timing both sizes side by side:\n", file)
	for _, s := range found {
		detail := ""
		if a, b := perOp[fmt.Sprintf("%s/%d", s.family, s.small)], perOp[fmt.Sprintf("%s/%d", s.family, s.large)]; len(a) > 0 && len(b) > 0 {
			detail = fmt.Sprintf("; BenchmarkProcess %.1f ms -> %.1f ms", medianF(a)/1e6, medianF(b)/1e6)
		}
		r := s.metrics["median-x"]
		f := float64(s.large) / float64(s.small)
		check(r <= f*maxScaling && s.metrics["gc/op"] == 0, "core %s %d->%d services: %.2fx time (median of %d rounds, %.1fx-%.1fx; %.0f collections during timing%s; limit %.1fx)",
			s.family, s.small, s.large, r, s.round, s.metrics["min-x"], s.metrics["max-x"], s.metrics["gc/op"]*float64(s.round), detail, f*maxScaling)
	}
}

func medianF(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// loadavg is the 1, 5 and 15 minute load average, to tell a busy machine.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
	os.Exit(2)
}
