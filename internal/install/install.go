package install

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/internal/apply"
)

// Owner is the name the objects Install applies carry in apply's owner labels
// (kustomize.toolkit.fluxcd.io/name, and the namespace in /namespace), as a Kustomization's
// objects carry its name. A Kustomization that later applies the same manifests relabels them
// as its own; its field manager is Install's, so it takes them over without a conflict.
const Owner = "azimuth"

// InstallOptions tune Install. nil is the zero value.
type InstallOptions struct {
	// Wait makes Install wait, after the apply and until ctx ends, for the CRDs to be
	// Established and the Deployments Available (kstatus Current). Default: false, Install
	// returns once the objects are applied (and the CRDs Established, which the apply waits for).
	Wait bool
	// PollInterval is how often the objects are read while waiting. Default: 2s.
	PollInterval time.Duration
}

// Install applies objs, which Render returned, through c (a client that reads the API server,
// not a cache) by server-side apply, in apply's stages: CRDs and the namespace first, then the
// rest. An object already as objs say is not written, so installing twice changes nothing the
// second time. The ChangeSet says what was created, configured or unchanged, also on error.
func Install(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, opts *InstallOptions) (*apply.ChangeSet, error) {
	if opts == nil {
		opts = &InstallOptions{}
	}
	ns := namespaceOf(objs)
	if ns == "" {
		return &apply.ChangeSet{}, errors.New("install: the objects hold no Namespace: pass what Render returns")
	}
	m := apply.New(c, apply.Owner{Name: Owner, Namespace: ns}, apply.Options{PollInterval: opts.PollInterval})
	cs, err := m.Apply(ctx, objs)
	if err != nil {
		return cs, fmt.Errorf("installing Azimuth in %s: %w", ns, err)
	}
	if !opts.Wait {
		return cs, nil
	}
	var waitFor []apply.ObjMetadata
	for _, u := range objs {
		if k := u.GetKind(); k == "CustomResourceDefinition" || k == "Deployment" {
			waitFor = append(waitFor, apply.MetadataOf(u))
		}
	}
	if err := m.Wait(ctx, waitFor); err != nil {
		return cs, fmt.Errorf("waiting for Azimuth in %s to be ready (see `kubectl -n %s describe deployment %s` and its pods' events): %w", ns, ns, ControllerName, err)
	}
	return cs, nil
}

// namespaceOf is the name of the Namespace among objs, "" when there is none.
func namespaceOf(objs []*unstructured.Unstructured) string {
	for _, u := range objs {
		if u.GetAPIVersion() == "v1" && u.GetKind() == "Namespace" {
			return u.GetName()
		}
	}
	return ""
}
