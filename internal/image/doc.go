// Package image builds Azimuth's container image without a Docker daemon or a base image: an
// OCI image index with one image per platform, each made of two layers written here byte for
// byte, so that two builds of the same commit give the same index digest.
//
// The first layer is the same for every platform: /etc/passwd and /etc/group naming the nonroot
// user (65532), and the empty directories /tmp and /data that the Deployment mounts emptyDirs on
// (the root file system is read-only). The second holds the statically linked binary at
// /azimuth. Every file time, layer and config time is Options.Created (SOURCE_DATE_EPOCH), every
// mode and owner is fixed, tar entries are sorted and gzip writes no name and no time.
//
// In docs/architecture.md's flow it is outside the flow: it packages the one binary of
// cmd/azimuth for a cluster (docs/image.md); hack/image compiles the binaries and calls Build,
// WriteLayout and Push.
package image
