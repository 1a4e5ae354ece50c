//go:build tools

// Package tools pins the versions of the binaries the Makefile builds into bin/.
package tools

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
