package demo

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/remote"
)

// The fleet samples: each tenant applies AppPath to the directory's AKS cluster, whose API
// server is the dev control plane itself, reached by spec.kubeConfig.configMapRef with the
// tenant's identity and no kubeconfig anywhere. In the cluster, the objects go to the tenant's
// namespace with FleetSuffix, where Kubernetes RBAC lets the identity's object ID deploy.
const (
	// FleetKustomization is each tenant's Kustomization of the AKS cluster, and FleetConfigMap
	// the ConfigMap that names the cluster.
	FleetKustomization = "aks"
	FleetConfigMap     = "aks"
	// FleetSuffix makes the namespace the fleet samples apply to in the AKS cluster.
	FleetSuffix = "-aks"
	// fleetRole is the ClusterRole the identities are bound to in their fleet namespace.
	fleetRole = "azimuth-demo-fleet-deployer"
)

// principal is the Entra identity t acts as.
func (s *System) principal(t tenant) directory.Principal {
	switch t.via {
	case objectWI:
		return s.names.identities[t.identity]
	case controllerWI:
		return s.names.controller
	default:
		return s.names.node
	}
}

// fleetSample is t's Kustomization of the AKS cluster. The denied tenant's identity holds no
// role on the cluster, so it must fail and say which role to grant; it applies objectWITenant's
// artifact, as its own source fails.
func (s *System) fleetSample(t tenant, id Identity) []sample {
	if s.names.cluster.Name == "" {
		return nil
	}
	src := sourceRef(sourcev1.OCIRepositoryKind, "manifests", "")
	if t.denied {
		src.Namespace = objectWITenant().namespace
	}
	k := kustomization(t.namespace, FleetKustomization, AppPath, src)
	k.Spec.TargetNamespace = t.namespace + FleetSuffix
	k.Spec.KubeConfig = &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: FleetConfigMap}}
	k.Spec.HealthChecks = []meta.NamespacedObjectKindReference{{APIVersion: "v1", Kind: "ConfigMap", Name: AppConfigMap, Namespace: k.Spec.TargetNamespace}}
	smp := sample{obj: k, identity: id}
	if t.denied {
		smp.failReason = meta.ReconciliationFailedReason
	}
	return []sample{smp}
}

// setUpFleet writes each tenant's ConfigMap naming the AKS cluster (and, for object-level
// workload identity, its service account), and in the cluster each tenant's fleet namespace with
// a RoleBinding of its identity's object ID, as a cluster administrator of an AKS cluster with
// Entra ID integration and Kubernetes RBAC does. The denied tenant gets no binding.
func (s *System) setUpFleet(ctx context.Context) error {
	if s.names.cluster.Name == "" {
		return nil
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: fleetRole},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps", "services"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		},
	}
	if err := s.create(ctx, role); err != nil {
		return err
	}
	for _, t := range tenants() {
		data := map[string]string{remote.KeyProvider: remote.ProviderAzure, remote.KeyCluster: s.names.cluster.ID()}
		if t.via == objectWI {
			data[remote.KeyServiceAccountName] = TenantServiceAccount
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: FleetConfigMap}, Data: data}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t.namespace + FleetSuffix}}
		if err := s.create(ctx, cm); err != nil {
			return err
		}
		if err := s.create(ctx, ns); err != nil {
			return err
		}
		if t.denied {
			continue
		}
		oid := s.principal(t).PrincipalID
		binding := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "fleet-deployer"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: fleetRole},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: oid}},
		}
		if err := s.create(ctx, binding); err != nil {
			return fmt.Errorf("binding %s in %s: %w", oid, ns.Name, err)
		}
	}
	return nil
}
