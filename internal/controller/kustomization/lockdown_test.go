package kustomization

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func scheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, sourcev1.AddToScheme, kustomizev1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// --default-service-account: a Kustomization that names no service account acts as that one of
// its own namespace, never as the controller; one that names its own acts as it.
func TestLockdownImpersonatesTheDefaultServiceAccount(t *testing.T) {
	env := testenv.Get(t)
	s := scheme(t)
	httpClient, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(env.Config, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(env.Config, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, admin, "lockdown-")
	cm := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}

	for _, tc := range []struct {
		name, defaultSA, specSA, wantUser string
		allowed                           bool
	}{
		{"no lockdown: the controller", "", "", "", true},
		{"lockdown: the default service account", "default", "", "system:serviceaccount:" + ns + ":default", false},
		{"the object's own service account wins", "default", "deployer", "system:serviceaccount:" + ns + ":deployer", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clients := NewClients(env.Config, s, mapper, tc.defaultSA)
			c, user, err := clients.For(ns, tc.specSA)
			if err != nil {
				t.Fatal(err)
			}
			if user != tc.wantUser {
				t.Errorf("user = %q, want %q", user, tc.wantUser)
			}
			err = c.Create(t.Context(), cm(strings.ReplaceAll(tc.name, " ", "-")[:10]+"x"))
			if tc.allowed && err != nil {
				t.Fatalf("the controller was refused: %v", err)
			}
			if !tc.allowed && !apierrors.IsForbidden(err) {
				t.Fatalf("err = %v, want Forbidden for %s", err, tc.wantUser)
			}
			if !tc.allowed {
				explained := explain(err, actor{user: user}).Error()
				if !strings.Contains(explained, tc.wantUser) || !strings.Contains(explained, "Role or ClusterRole binding") {
					t.Errorf("explained: %s", explained)
				}
			}
		})
	}
}

// --no-cross-namespace-refs refuses a source or a dependency in another namespace, and stalls:
// retrying cannot help until the spec changes.
func TestNoCrossNamespaceRefs(t *testing.T) {
	env := testenv.Get(t)
	c, err := client.New(env.Config, client.Options{Scheme: scheme(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{Client: c, NoCrossNamespaceRefs: true}
	obj := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: "apps"}, Spec: kustomizev1.KustomizationSpec{
		Interval:  metav1.Duration{Duration: time.Minute},
		SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "fleet", Namespace: "flux-system"},
	}}
	_, err = r.source(t.Context(), obj)
	var se *status.Error
	if !errors.As(err, &se) || !se.Stalled || se.Reason != kustomizev1.AccessDeniedReason || !strings.Contains(err.Error(), "'GitRepository/flux-system/fleet'") {
		t.Fatalf("source: %v, want a stall with reason AccessDenied naming the source", err)
	}
	obj.Spec.DependsOn = []meta.NamespacedObjectReference{{Name: "infra", Namespace: "flux-system"}}
	err = r.checkDependencies(t.Context(), obj)
	if !errors.As(err, &se) || !se.Stalled || se.Reason != kustomizev1.AccessDeniedReason {
		t.Fatalf("checkDependencies: %v, want a stall with reason AccessDenied", err)
	}
}
