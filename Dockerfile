# syntax=docker/dockerfile:1
#
# meshfed images, built for linux/amd64 and linux/arm64 by `make image`
# (docker buildx, or buildah without a Docker engine). Three targets:
#
#   function (the default, last stage): the KRM function for kustomize
#     (`container: {image: ...}`) and kpt (Kptfile `image:`). Static binary
#     on distroless, running as nonroot; no shell.
#   argocd-cmp: the Argo CD config management plugin sidecar: kustomize and
#     meshfed on PATH, argocd/plugin.yaml as the plugin config, user 999.
#   argocd-cmp-shell: the same with a shell and argocd/plugin-pipe.yaml,
#     the fast path for large meshes.
#
# Pin the base images by digest in your own builds
# (golang:1.26.8@sha256:..., distroless ...@sha256:...).

ARG GO_VERSION=1.26.8

# Builds meshfed for the target platform on the build platform (Go cross
# compiles; no emulation).
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY fn/ fn/
COPY krm/ krm/
COPY internal/ internal/
COPY functions/ functions/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/meshfed ./functions/meshfed

# kustomize for the Argo CD sidecar, built from its module at a fixed
# version: the Go checksum database verifies the source.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS kustomize
ARG TARGETOS
ARG TARGETARCH
ARG KUSTOMIZE_VERSION=v5.8.2
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go install -trimpath -ldflags "-s -w" sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION} \
 && mkdir -p /out \
 && cp "$(find /go/bin -type f -name kustomize)" /out/kustomize
# (a cross-compiled `go install` writes to /go/bin/<os>_<arch>/, a native one to /go/bin/)

# Argo CD CMP sidecar. Its command, /var/run/argocd/argocd-cmp-server, comes
# from the repo server's var-files volume (see argocd/repo-server-patch.yaml).
# The base has no shell: the plugin's generate command must run kustomize
# directly, as argocd/plugin.yaml does.
FROM gcr.io/distroless/static-debian12:nonroot AS argocd-cmp
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
COPY --from=builder /out/meshfed /usr/local/bin/meshfed
COPY argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml
USER 999:999
WORKDIR /home/argocd

# The same sidecar with a shell, for argocd/plugin-pipe.yaml, the
# large-mesh fast path, whose generate command pipes `kustomize build` into
# `meshfed --config`: distroless's debug variant adds busybox (/busybox/sh)
# and nothing else.
FROM gcr.io/distroless/static-debian12:debug-nonroot AS argocd-cmp-shell
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
COPY --from=builder /out/meshfed /usr/local/bin/meshfed
COPY argocd/plugin-pipe.yaml /home/argocd/cmp-server/config/plugin.yaml
USER 999:999
WORKDIR /home/argocd

# The KRM function (default target). kpt and kustomize run it with
# --user nobody or as the image's user; distroless nonroot has both.
FROM gcr.io/distroless/static-debian12:nonroot AS function
COPY --from=builder /out/meshfed /usr/local/bin/meshfed
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/meshfed"]
