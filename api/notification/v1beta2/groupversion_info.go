package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of this package's kinds.
var GroupVersion = schema.GroupVersion{Group: "notification.toolkit.fluxcd.io", Version: "v1beta2"}

// AddToScheme registers this package's kinds with s, for clients that read or write v1beta2
// objects; the manager registers only v1beta3.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Provider{}, &ProviderList{}, &Alert{}, &AlertList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
