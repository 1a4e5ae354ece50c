package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of this package's kinds.
var GroupVersion = schema.GroupVersion{Group: "image.toolkit.fluxcd.io", Version: "v1"}

// AddToScheme registers this package's kinds with s. It is called
// explicitly by the manager's wiring; nothing registers itself in init().
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&ImageRepository{}, &ImageRepositoryList{},
		&ImagePolicy{}, &ImagePolicyList{},
		&ImageUpdateAutomation{}, &ImageUpdateAutomationList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
