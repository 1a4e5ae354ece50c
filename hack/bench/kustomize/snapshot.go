package main

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// snapshotter lists the bench's objects with a client of its own, whose requests are not
// counted, to check what a phase did to them.
type snapshotter struct{ dyn dynamic.Interface }

var resources = []schema.GroupVersionResource{
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "serviceaccounts"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
}

func newSnapshotter(cfg *rest.Config) (*snapshotter, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	return &snapshotter{dyn: dyn}, err
}

// take returns the resourceVersion of each bench object in namespaces (those the manifests
// label), by "resource/namespace/name".
func (s *snapshotter) take(ctx context.Context, namespaces []string) (map[string]string, error) {
	out := map[string]string{}
	for _, ns := range namespaces {
		for _, r := range resources {
			list, err := s.dyn.Resource(r).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=bench"})
			if err != nil {
				return nil, err
			}
			for _, u := range list.Items {
				out[r.Resource+"/"+ns+"/"+u.GetName()] = u.GetResourceVersion()
			}
		}
	}
	return out, nil
}

// moved counts the objects of after whose resourceVersion differs from before's, or -1 when
// there was no before.
func moved(before, after map[string]string) int {
	if before == nil {
		return -1
	}
	n := 0
	for k, rv := range after {
		if before[k] != rv {
			n++
		}
	}
	return n
}
