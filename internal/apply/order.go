package apply

import (
	"cmp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The stages of an Apply, as kustomize-controller splits its objects.
const (
	// definitionStage holds CustomResourceDefinitions and Namespaces: the objects others need
	// to exist before the API server accepts them. Apply waits for them to be ready.
	definitionStage = iota
	// classStage holds the kinds whose name ends in "Class" (StorageClass, IngressClass,
	// PriorityClass, RuntimeClass, GatewayClass...): cluster-wide settings that workloads name.
	classStage
	// resourceStage holds everything else.
	resourceStage
	stages
)

func stageOf(group, kind string) int {
	switch {
	case isCRD(group, kind), group == "" && kind == "Namespace":
		return definitionStage
	case strings.HasSuffix(kind, "Class"):
		return classStage
	}
	return resourceStage
}

func isCRD(group, kind string) bool {
	return group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition"
}

// kindOrder is kustomize's legacy order, which Flux's ssa package sorts by within a stage: a
// ServiceAccount and its Role before the RoleBinding (whose escalation check looks the role
// up), ConfigMaps and Secrets before the workloads that mount them, webhooks last so that they
// do not judge the objects of their own Kustomization.
var kindOrder = func() map[string]int {
	first := []string{
		"Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
		"PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
		"ConfigMap", "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass",
		"PersistentVolume", "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob",
		"PodDisruptionBudget",
	}
	last := []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
	m := map[string]int{}
	for i, k := range first {
		m[k] = i - len(first) // before the unlisted kinds, which rank 0
	}
	for i, k := range last {
		m[k] = i + 1
	}
	return m
}()

// compareObjects orders objects for applying: by kind as kustomize does, then by apiVersion,
// kind, namespace and name so that the order never depends on the build's.
func compareObjects(a, b *unstructured.Unstructured) int {
	return cmp.Or(
		cmp.Compare(kindOrder[a.GetKind()], kindOrder[b.GetKind()]),
		strings.Compare(a.GetKind(), b.GetKind()),
		strings.Compare(a.GetAPIVersion(), b.GetAPIVersion()),
		strings.Compare(a.GetNamespace(), b.GetNamespace()),
		strings.Compare(a.GetName(), b.GetName()),
	)
}

// byStage splits objs into the stages, each sorted for applying.
func byStage(objs []*unstructured.Unstructured) [stages][]*unstructured.Unstructured {
	var out [stages][]*unstructured.Unstructured
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		s := stageOf(gvk.Group, gvk.Kind)
		out[s] = append(out[s], u)
	}
	for _, s := range out {
		slices.SortStableFunc(s, compareObjects)
	}
	return out
}

// pruneOrder sorts ids for deleting: the reverse of the apply order, so that custom resources
// go before their definitions and the objects of a namespace before the namespace.
func pruneOrder(ids []ObjMetadata) {
	slices.SortStableFunc(ids, func(a, b ObjMetadata) int {
		return -cmp.Or(
			cmp.Compare(stageOf(a.Group, a.Kind), stageOf(b.Group, b.Kind)),
			cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]),
			strings.Compare(a.Kind, b.Kind),
			strings.Compare(a.Group, b.Group),
			strings.Compare(a.Namespace, b.Namespace),
			strings.Compare(a.Name, b.Name),
		)
	})
}
