package install

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// shardLabel is the label Flux's sharding guide selects shards by (internal/manager's
// ShardLabel); an object carrying sharding.fluxcd.io/key=K is reconciled by shard K only.
const shardLabel = "sharding.fluxcd.io/key"

// serviceName is the artifact server's Service in config/manager.
const serviceName = "azimuth"

// maxShards bounds Options.Shards: each is a Deployment of its own.
const maxShards = 32

// checkShards rejects shard names that cannot name a Deployment, a Service and a label value.
func checkShards(shards []string) []error {
	var errs []error
	if len(shards) > maxShards {
		errs = append(errs, fmt.Errorf("--shards names %d shards; at most %d", len(shards), maxShards))
	}
	seen := map[string]bool{}
	for _, s := range shards {
		// The shard's Deployment is azimuth-controller-NAME: 63 characters for its pods' label.
		if msgs := validation.IsDNS1123Label(ControllerName + "-" + s); len(msgs) > 0 || s == "" {
			errs = append(errs, fmt.Errorf("--shards: %q cannot name a shard: use up to %d lowercase letters, digits and '-'", s, 62-len(ControllerName)))
		}
		if seen[s] {
			errs = append(errs, fmt.Errorf("--shards names %s twice", s))
		}
		seen[s] = true
	}
	return errs
}

// addShards makes the controller of objs the main shard, which reconciles the objects without
// a shard label, and adds for each of shards a copy of its Deployment and of the artifact
// server's Service, each named after the shard, selecting the objects labelled with it and
// advertising its own Service, as Flux's sharding guide lays them out (docs/scale-out.md).
func addShards(objs []*unstructured.Unstructured, shards []string) ([]*unstructured.Unstructured, error) {
	if len(shards) == 0 {
		return objs, nil
	}
	deploy, service := lookup(objs, "Deployment", ControllerName), lookup(objs, "Service", serviceName)
	if deploy == nil || service == nil {
		return nil, fmt.Errorf("config/ has no Deployment %s or Service %s to copy for the shards", ControllerName, serviceName)
	}
	if err := setShard(deploy, "!"+shardLabel, serviceName); err != nil {
		return nil, err
	}
	for _, s := range shards {
		d, svc := deploy.DeepCopy(), service.DeepCopy()
		d.SetName(ControllerName + "-" + s)
		svc.SetName(serviceName + "-" + s)
		podLabels := map[string]any{"app": d.GetName()}
		if err := unstructured.SetNestedMap(d.Object, podLabels, "spec", "selector", "matchLabels"); err != nil {
			return nil, err
		}
		if err := unstructured.SetNestedField(d.Object, d.GetName(), "spec", "template", "metadata", "labels", "app"); err != nil {
			return nil, err
		}
		if err := unstructured.SetNestedMap(svc.Object, podLabels, "spec", "selector"); err != nil {
			return nil, err
		}
		if err := setShard(d, shardLabel+" in ("+s+")", svc.GetName()); err != nil {
			return nil, err
		}
		objs = append(objs, d, svc)
	}
	return objs, nil
}

// setShard sets the manager container's --watch-label-selector to selector and its
// --storage-adv-addr to the Service named service.
func setShard(deploy *unstructured.Unstructured, selector, service string) error {
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	for i, c := range containers {
		c, ok := c.(map[string]any)
		if !ok || c["name"] != "manager" {
			continue
		}
		args, _, _ := unstructured.NestedStringSlice(c, "args")
		var out []any
		for _, a := range args {
			switch {
			case strings.HasPrefix(a, "--watch-label-selector="):
				continue
			case strings.HasPrefix(a, "--storage-adv-addr="):
				host := strings.TrimPrefix(a, "--storage-adv-addr=")
				_, rest, _ := strings.Cut(host, ".")
				a = "--storage-adv-addr=" + service + "." + rest
			}
			out = append(out, a)
		}
		c["args"] = append(out, "--watch-label-selector="+selector)
		containers[i] = c
		return unstructured.SetNestedSlice(deploy.Object, containers, "spec", "template", "spec", "containers")
	}
	return fmt.Errorf("the Deployment %s has no container named manager", deploy.GetName())
}

// lookup returns the object of kind and name among objs, nil when absent.
func lookup(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return nil
}

// installedShards returns the shards' Deployments and Services that an install with
// Options.Shards left in namespace: those named after the controller's and carrying
// PartOfLabel, so that Uninstall needs no list of the shards.
func installedShards(ctx context.Context, c client.Client, namespace string) ([]*unstructured.Unstructured, error) {
	var found []*unstructured.Unstructured
	for kind, prefix := range map[string]string{"Deployment": ControllerName + "-", "Service": serviceName + "-"} {
		gv := "v1"
		if kind == "Deployment" {
			gv = "apps/v1"
		}
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion(gv)
		list.SetKind(kind + "List")
		if err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{PartOfLabel: PartOf}); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("listing the shards' %ss in %s: %w", kind, namespace, err)
		}
		for i := range list.Items {
			if o := &list.Items[i]; strings.HasPrefix(o.GetName(), prefix) {
				found = append(found, o)
			}
		}
	}
	return found, nil
}
