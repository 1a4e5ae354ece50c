package kustomization

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kustypes "sigs.k8s.io/kustomize/api/types"
	kresid "sigs.k8s.io/kustomize/kyaml/resid"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/kustomize"
)

// build turns the artifact in dir into objects: kustomize, post-build substitution, common
// metadata.
func (r *Reconciler) build(ctx context.Context, obj *kustomizev1.Kustomization, dir string) ([]*unstructured.Unstructured, error) {
	dec, err := r.decryptor(ctx, obj)
	if err != nil {
		return nil, err
	}
	opts := buildOptions(obj)
	var decodeErr error
	if dec != nil {
		opts.Decode = decode(ctx, dec, &decodeErr)
	}
	objs, err := kustomize.Build(dir, obj.Spec.Path, opts)
	if err != nil {
		if decodeErr != nil {
			// The decryption error itself, not the build's: kustomize's wrapping repeats it, and a
			// build error is terminal where a refused key is not (a role may be granted).
			return nil, status.Fail("", kustomizev1.DecryptionFailedReason, decodeErr)
		}
		return nil, status.Fail("", kustomizev1.BuildFailedReason, err)
	}
	if dec != nil {
		for _, o := range objs {
			if _, err := dec.DecryptObject(ctx, o); err != nil {
				return nil, status.Fail("", kustomizev1.DecryptionFailedReason, err)
			}
		}
	}
	if pb := obj.Spec.PostBuild; pb != nil {
		vars, err := r.variables(ctx, obj.Namespace, pb)
		if err != nil {
			return nil, status.Fail("", kustomizev1.BuildFailedReason, err)
		}
		if objs, err = kustomize.Substitute(objs, vars, r.StrictSubstitutions); err != nil {
			return nil, status.Fail("", kustomizev1.BuildFailedReason, err)
		}
	}
	if cm := obj.Spec.CommonMetadata; cm != nil {
		for _, o := range objs {
			o.SetLabels(merge(o.GetLabels(), cm.Labels))
			o.SetAnnotations(merge(o.GetAnnotations(), cm.Annotations))
		}
	}
	return objs, nil
}

// merge returns m with extra's entries added, extra winning.
func merge(m, extra map[string]string) map[string]string {
	if len(extra) == 0 {
		return m
	}
	if m == nil {
		m = make(map[string]string, len(extra))
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// buildOptions are obj's build fields in kustomize's terms.
func buildOptions(obj *kustomizev1.Kustomization) kustomize.Options {
	o := kustomize.Options{
		TargetNamespace: obj.Spec.TargetNamespace,
		NamePrefix:      obj.Spec.NamePrefix,
		NameSuffix:      obj.Spec.NameSuffix,
		Components:      obj.Spec.Components,
	}
	o.IgnoreMissingComponents = obj.Spec.IgnoreMissingComponents
	for _, p := range obj.Spec.Patches {
		kp := kustypes.Patch{Patch: p.Patch}
		if t := p.Target; t != nil {
			kp.Target = &kustypes.Selector{
				ResId:              resid(t.Group, t.Version, t.Kind, t.Name, t.Namespace),
				AnnotationSelector: t.AnnotationSelector,
				LabelSelector:      t.LabelSelector,
			}
		}
		o.Patches = append(o.Patches, kp)
	}
	for _, i := range obj.Spec.Images {
		o.Images = append(o.Images, kustypes.Image{Name: i.Name, NewName: i.NewName, NewTag: i.NewTag, Digest: i.Digest})
	}
	return o
}

// variables are spec.postBuild's: substituteFrom in order, later ones winning, then substitute,
// which wins over them all.
func (r *Reconciler) variables(ctx context.Context, namespace string, pb *kustomizev1.PostBuild) (map[string]string, error) {
	vars := map[string]string{}
	for _, ref := range pb.SubstituteFrom {
		key := client.ObjectKey{Namespace: namespace, Name: ref.Name}
		var data map[string]string
		switch ref.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := r.Client.Get(ctx, key, &cm); err != nil {
				if client.IgnoreNotFound(err) == nil && ref.Optional {
					continue
				}
				return nil, fmt.Errorf("substitute from 'ConfigMap/%s' error: %w", ref.Name, err)
			}
			data = cm.Data
		case "Secret":
			var s corev1.Secret
			if err := r.Client.Get(ctx, key, &s); err != nil {
				if client.IgnoreNotFound(err) == nil && ref.Optional {
					continue
				}
				return nil, fmt.Errorf("substitute from 'Secret/%s' error: %w", ref.Name, err)
			}
			data = make(map[string]string, len(s.Data))
			for k, v := range s.Data {
				data[k] = string(v)
			}
		default:
			return nil, fmt.Errorf("substitute from '%s/%s': kind must be ConfigMap or Secret", ref.Kind, ref.Name)
		}
		for name := range data {
			if err := kustomize.ValidateVarName(name); err != nil {
				return nil, fmt.Errorf("substitute from '%s/%s': %w", ref.Kind, ref.Name, err)
			}
		}
		maps.Copy(vars, data)
	}
	for name := range pb.Substitute {
		if err := kustomize.ValidateVarName(name); err != nil {
			return nil, fmt.Errorf("spec.postBuild.substitute: %w", err)
		}
	}
	maps.Copy(vars, pb.Substitute)
	return vars, nil
}

func resid(group, version, kind, name, namespace string) kresid.ResId {
	return kresid.ResId{Gvk: kresid.Gvk{Group: group, Version: version, Kind: kind}, Name: name, Namespace: namespace}
}
