# Azimuth's build. `make demo` runs the whole system on this machine; `make test` proves it.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
BIN := $(CURDIR)/bin
export AZIMUTH_BIN_DIR := $(BIN)
GO ?= go

# The engine and emulators run with the race detector; the packages that drive a whole control
# plane and manager run without it, to keep `make test` well inside its time on 2 cores.
RACE_PKGS := ./api/... ./internal/... ./azurelocal/...
PLAIN_PKGS := ./cmd/... ./hack/... $(if $(wildcard test),./test/...)

KUBE_TOOLS := $(BIN)/kube-apiserver $(BIN)/etcd
GEN_TOOLS := $(BIN)/controller-gen $(BIN)/staticcheck $(BIN)/crane $(BIN)/sops
FLUX_TOOLS := $(BIN)/flux $(BIN)/flux-2.6
AZURITE := hack/azurite/node_modules/.package-lock.json

.PHONY: all setup tools generate lint test demo build image clean

all: build

setup:
	@hack/setup.sh

## tools: build the pinned servers and tools into bin/ (only what changed)
tools: setup $(KUBE_TOOLS) $(GEN_TOOLS) $(FLUX_TOOLS) $(AZURITE)

# The script stamps the version (read from go.mod) into the binary: rebuilt when either changes.
$(BIN)/kube-apiserver: hack/tools/go.mod hack/tools/go.sum hack/tools/kube-apiserver.sh
	GO=$(GO) hack/tools/kube-apiserver.sh $@

$(BIN)/etcd: hack/tools/go.mod hack/tools/go.sum hack/tools/etcd/main.go
	cd hack/tools && $(GO) build -o $@ ./etcd

$(BIN)/controller-gen: hack/tools/gen/go.mod hack/tools/gen/go.sum
	cd hack/tools/gen && $(GO) build -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

$(BIN)/staticcheck: hack/tools/gen/go.mod hack/tools/gen/go.sum
	cd hack/tools/gen && $(GO) build -o $@ honnef.co/go/tools/cmd/staticcheck

$(BIN)/crane: hack/tools/gen/go.mod hack/tools/gen/go.sum
	cd hack/tools/gen && $(GO) build -o $@ github.com/google/go-containerregistry/cmd/crane

# The sops CLI, at the SOPS version the engine decrypts with, for the tests that encrypt as users do.
$(BIN)/sops: hack/tools/sops/go.mod hack/tools/sops/go.sum
	cd hack/tools/sops && $(GO) build -o $@ github.com/getsops/sops/v3/cmd/sops

# The flux CLI, newest and 2.6, for the tests that drive it (hack/tools/flux.sh says why a script).
$(BIN)/flux: hack/tools/flux/go.mod hack/tools/flux/go.sum hack/tools/flux.sh
	GO=$(GO) hack/tools/flux.sh hack/tools/flux $@

$(BIN)/flux-2.6: hack/tools/flux26/go.mod hack/tools/flux26/go.sum hack/tools/flux.sh
	GO=$(GO) hack/tools/flux.sh hack/tools/flux26 $@

$(AZURITE): hack/azurite/package.json hack/azurite/package-lock.json
	cd hack/azurite && npm ci --no-audit --no-fund --loglevel=error

## generate: deepcopy functions and CRDs from the API types
generate: $(BIN)/controller-gen
	$(BIN)/controller-gen object paths=./api/...
	$(BIN)/controller-gen crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(BIN)/controller-gen rbac:roleName=azimuth-controller paths=./internal/manager/... output:rbac:artifacts:config=config/rbac

## lint: formatting, vet, staticcheck, and generated files in step with the API types
lint: $(BIN)/staticcheck generate
	@git diff --exit-code --stat -- config/crd config/rbac 'api/*zz_generated.deepcopy.go' || \
	  { echo "generated files are out of date: run 'make generate' and commit the result"; exit 1; }
	@unformatted=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck ./...

## build: the azimuth binary, its version what git describe says of the commit
build:
	$(GO) build -ldflags "-X main.version=$$(git describe --tags --always --dirty 2>/dev/null)" -o $(BIN)/azimuth ./cmd/azimuth

## image: the container image for PLATFORMS, pushed to IMAGE (default: the local ACR's registry; docs/image.md).
## LAYOUT=dir also writes it to an OCI layout. Times come from SOURCE_DATE_EPOCH, default the last commit's.
IMAGE ?= azimuthlocal.azurecr.io/azimuth:dev
PLATFORMS ?= linux/amd64,linux/arm64
image:
	$(GO) run ./hack/image --push '$(IMAGE)' --platforms '$(PLATFORMS)'$(if $(LAYOUT), --layout '$(LAYOUT)')

## test: tools, lint, then every test
test: tools lint
	$(GO) test -race -timeout 20m $(RACE_PKGS)
	$(GO) test -timeout 20m $(PLAIN_PKGS)
	cd hack/setupcheck && $(GO) test ./...

## demo: the whole system on this machine, with sample tenants, until Ctrl-C (docs/demo.md).
## It builds only what it runs: kube-apiserver, etcd, Azurite and azimuth. STATE=dir keeps its state in dir
## (default: the user cache directory's azimuth/dev).
demo: $(KUBE_TOOLS) $(AZURITE) build
	$(BIN)/azimuth dev up$(if $(STATE), --state-dir '$(STATE)')

clean:
	rm -rf $(BIN) hack/azurite/node_modules
