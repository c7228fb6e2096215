# meshfed: the two commands a new user needs are `make demo` and `make test`.
GO       ?= go
BIN      := bin/meshfed
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
export PATH := $(CURDIR)/bin:$(PATH)

.PHONY: build demo test test-istiod bench image clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./functions/meshfed

# Runs meshfed on the migration guide's two clusters and prints each output:
# the input manifests followed by what meshfed generates.
demo: build
	@for cluster in west east; do \
	  echo "######## examples/guide/$$cluster: bin/meshfed output"; \
	  for f in $$(find examples/guide/$$cluster -name '*.yaml' | sort); do echo '---'; cat $$f; done | $(BIN) || exit 1; \
	done

test: build
	$(GO) test ./...

clean:
	rm -rf bin .cache

# kustomize, kpt and Argo CD end to end (e2e/*.go; needs kustomize and kpt
# on PATH). Rewrite goldens: UPDATE_GOLDEN=1 / KPT_E2E_UPDATE_EXPECTED=true.
.PHONY: test-e2e
test-e2e:
	$(GO) test ./e2e/
