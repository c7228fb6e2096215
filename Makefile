# meshfed: the two commands a new user needs are `make demo` and `make test`.
GO       ?= go
BIN      := bin/meshfed
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
export PATH := $(CURDIR)/bin:$(PATH)

.PHONY: build demo test lint test-istiod test-e2e test-image test-argocd test-cluster bench bench-kustomize image fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./functions/meshfed

# Runs meshfed on the migration guide's two clusters and prints each output:
# the input manifests followed by what meshfed generates.
demo: build
	@for cluster in west east; do \
	  echo "######## examples/guide/$$cluster: bin/meshfed output"; \
	  for f in $$(find examples/guide/$$cluster -name '*.yaml' | sort); do echo '---'; cat $$f; done | $(BIN) || exit 1; \
	done

test: build bin/kustomize
	$(GO) test ./...

# The end-to-end tests run the real kustomize v5.8.2 (kubectl's built-in
# kustomize cannot run exec functions); kpt comes with these machines.
bin/kustomize:
	GOBIN=$(CURDIR)/bin $(GO) install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2

# go vet and staticcheck (installed into bin/, like kustomize). v0.8.2 is
# staticcheck 2026.2.2, which builds with Go 1.26.
STATICCHECK_VERSION ?= v0.8.2
bin/staticcheck:
	GOBIN=$(CURDIR)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: bin/staticcheck
	$(GO) vet ./...
	bin/staticcheck ./...

# Benchmarks, see BENCHMARKS.md: Go benchmarks of the core (100, 1,000 and
# 10,000 Services), then bin/meshfed against the kpt SDK's own do-nothing
# function (bin/sdknoop: fn.Execute with a processor that changes nothing;
# checked) and, for reference, its fn.AsMain form (reported only), on
# synthetic inputs of 500 and 5,000 Services. Prints the ratios and exits
# non-zero when a target is missed. Not part of `make test`.
#
# BenchmarkProcess gives the time and allocations per run at each size
# (BENCHTIME per sample); the scaling target is checked with
# BenchmarkScaling, BENCHROUNDS rounds that each time both sizes within
# about a second (this shared machine's speed drifts over seconds and
# minutes, so sizes timed one after the other compare the machine too).
BENCHRUNS   ?= 7
BENCHTIME   ?= 3s
BENCHROUNDS ?= 41
bench: build
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/sdknoop ./bench/sdknoop
	@mkdir -p .cache
	$(GO) test -c -o .cache/bench.test ./bench/
	cd bench && ../.cache/bench.test -test.run '^$$' -test.bench '^BenchmarkProcess$$' -test.benchmem -test.benchtime $(BENCHTIME) > ../.cache/gobench.txt || { cat ../.cache/gobench.txt; exit 1; }
	cd bench && ../.cache/bench.test -test.run '^$$' -test.bench '^BenchmarkScaling$$' -test.benchtime $(BENCHROUNDS)x >> ../.cache/gobench.txt || { cat ../.cache/gobench.txt; exit 1; }
	@cat .cache/gobench.txt
	$(GO) run ./bench/compare -meshfed $(BIN) -baseline bin/sdknoop -runs $(BENCHRUNS) -gobench .cache/gobench.txt
	$(GO) run ./bench/compare -meshfed $(BIN) -baseline 'bin/sdknoop -asmain' -runs $(BENCHRUNS) -check=false

# istiod itself routing the guide's scenario (e2e/istiod: a separate module
# with Istio's in-process fake discovery server; a cold build takes 10-20
# minutes, so it is not part of `make test`).
test-istiod:
	cd e2e/istiod && $(GO) test -count=1 ./...

# Every generated output on a real kube-apiserver with etcd (loopback only),
# and Helm 3 and Helm 4 with meshfed as post-renderer, installing on it
# (e2e/cluster: a separate module). install-tools.sh first builds what is
# missing into .cache/tools, one after another: kube-apiserver (about 7
# minutes cold), Helm 3 and Helm 4 (about 6 minutes each), and installs
# Debian's etcd-server with apt-get. Not part of `make test`.
test-cluster: bin/kustomize
	e2e/cluster/install-tools.sh
	cd e2e/cluster && $(GO) test -count=1 -timeout 40m ./...

clean:
	rm -rf bin .cache

# kustomize, kpt and Argo CD end to end (e2e/*.go; needs kustomize and kpt
# on PATH). Rewrite goldens: UPDATE_GOLDEN=1 / KPT_E2E_UPDATE_EXPECTED=true.
test-e2e:
	$(GO) test ./e2e/

# Container images from the Dockerfile, for linux/amd64 and linux/arm64:
# the KRM function ($(IMAGE)), the Argo CD CMP sidecar ($(CMP_IMAGE)) and
# the sidecar with a shell for the large-mesh plugin ($(CMP_SHELL_IMAGE)).
# With a Docker engine: docker buildx (a docker-container builder for
# multi-platform; IMAGE_OUTPUT=--push publishes). Without one: buildah
# (Debian's `buildah`): for several PLATFORMS one manifest list per image in
# local storage (IMAGE_OUTPUT=--push pushes it with `buildah manifest push
# --all`), for one platform a plain image;
# BUILDAH_FLAGS adds flags, e.g. --pull=never. `make test-image` builds and
# runs both this way.
IMAGE         ?= ghcr.io/meshfed/meshfed
CMP_IMAGE     ?= ghcr.io/meshfed/meshfed-argocd-cmp
CMP_SHELL_IMAGE ?= $(CMP_IMAGE)-shell
PLATFORMS     ?= linux/amd64,linux/arm64
IMAGE_OUTPUT  ?=
BUILDAH_FLAGS ?=
comma         := ,
BUILDAH_OUT    = $(if $(findstring $(comma),$(PLATFORMS)),--manifest,-t)
image:
	@if docker info >/dev/null 2>&1; then \
	  docker buildx build --platform $(PLATFORMS) --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) $(IMAGE_OUTPUT) . && \
	  docker buildx build --platform $(PLATFORMS) --build-arg VERSION=$(VERSION) --target argocd-cmp -t $(CMP_IMAGE):$(VERSION) $(IMAGE_OUTPUT) . && \
	  docker buildx build --platform $(PLATFORMS) --build-arg VERSION=$(VERSION) --target argocd-cmp-shell -t $(CMP_SHELL_IMAGE):$(VERSION) $(IMAGE_OUTPUT) .; \
	elif command -v buildah >/dev/null 2>&1; then \
	  echo "make image: no Docker engine is reachable; building with buildah"; \
	  for ref in $(IMAGE):$(VERSION) $(CMP_IMAGE):$(VERSION) $(CMP_SHELL_IMAGE):$(VERSION); do \
	    if buildah manifest exists $$ref 2>/dev/null; then buildah manifest rm $$ref >/dev/null || exit 1; fi; \
	  done; \
	  buildah build $(BUILDAH_FLAGS) --platform $(PLATFORMS) --build-arg VERSION=$(VERSION) $(BUILDAH_OUT) $(IMAGE):$(VERSION) . && \
	  buildah build $(BUILDAH_FLAGS) --platform $(PLATFORMS) --build-arg VERSION=$(VERSION) --target argocd-cmp $(BUILDAH_OUT) $(CMP_IMAGE):$(VERSION) . && \
	  buildah build $(BUILDAH_FLAGS) --platform $(PLATFORMS) --build-arg VERSION=$(VERSION) --target argocd-cmp-shell $(BUILDAH_OUT) $(CMP_SHELL_IMAGE):$(VERSION) . && \
	  if [ "$(IMAGE_OUTPUT)" = --push ]; then \
	    for ref in $(IMAGE):$(VERSION) $(CMP_IMAGE):$(VERSION) $(CMP_SHELL_IMAGE):$(VERSION); do \
	      buildah manifest push --all $$ref docker://$$ref || exit 1; \
	    done; \
	  fi; \
	else \
	  echo "make image: neither a Docker engine (docker info failed) nor buildah is available; install one (Debian: apt-get install buildah podman runc)" >&2; \
	  exit 1; \
	fi

# The images, built and run (e2e/image_test.go, build tag image): buildah
# builds the Dockerfile unmodified with `make image` (stand-ins for the base
# images, which cannot be pulled here, are built first under their exact
# names), podman runs the function image, kpt (KPT_FN_RUNTIME=podman) and
# kustomize (a `docker` that is podman) run it as a container function and
# must give exec mode's output, and both Argo CD sidecars run their
# plugin's generate command. Needs buildah, podman, runc, busybox-static,
# kpt and kustomize; about 10 minutes cold.
test-image: bin/kustomize
	$(GO) test -tags image -count=1 -timeout 45m -run '^TestImage' -v ./e2e/

# Argo CD's own CMP server (e2e/argocd-cmp: a module of its own building
# argocd-cmp-server from github.com/argoproj/argo-cd/v3 v3.2.12): the tests
# start it on a unix socket with argocd/plugin.yaml and plugin-pipe.yaml
# and call the repo server's GenerateManifests, so Argo CD's discovery, tar
# streaming and YAML splitting run. About 5 minutes cold.
test-argocd: bin/kustomize
	cd e2e/argocd-cmp && $(GO) test -count=1 -timeout 30m -v ./...

# kustomize at scale (BENCHMARKS.md, "kustomize and large meshes"): times
# kustomize build of generated exporters without meshfed, with meshfed as
# transformer and through argocd/plugin-pipe.yaml's fast path, and checks
# that the fast path renders the same objects. Not part of `make bench`
# (minutes at 1,000 Services).
KBENCH_SIZES ?= 250,500,1000
KBENCH_RUNS  ?= 3
bench-kustomize: build bin/kustomize
	$(GO) run ./bench/kustomize -sizes $(KBENCH_SIZES) -runs $(KBENCH_RUNS)

# Fuzzing (go test -fuzz), each target for FUZZTIME. A failure writes the
# input to <package>/testdata/fuzz/<Target>/: turn it into a regression test
# (a testdata/bad-* golden or an f.Add seed) and delete it there, since
# functions/meshfed/testdata/ holds golden cases only. Minimizing is capped
# by count: a run of the whole function is slow enough under coverage that
# time-based minimizing stalls the fuzzer.
FUZZTIME ?= 15s
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 50x
fuzz:
	$(GO) test ./functions/meshfed $(FUZZFLAGS) -fuzz '^FuzzRun$$'
	$(GO) test ./functions/meshfed $(FUZZFLAGS) -fuzz '^FuzzOwnership$$'
	$(GO) test ./fn $(FUZZFLAGS) -fuzz '^FuzzReadInput$$'
	$(GO) test ./krm $(FUZZFLAGS) -fuzz '^FuzzDecodeNode$$'
	$(GO) test ./fn $(FUZZFLAGS) -fuzz '^FuzzWriteResourceList$$'
	$(GO) test ./functions/meshfed/api/v1alpha1 $(FUZZFLAGS) -fuzz '^FuzzDecodeConfig$$'
	$(GO) test ./functions/meshfed/federation $(FUZZFLAGS) -fuzz '^FuzzRulesAndNames$$'
