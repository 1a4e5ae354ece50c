package apply

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ObjMetadata identifies an object without its version, as cli-utils' object.ObjMetadata does:
// the API server serves one object under every version of its kind, so an inventory that kept
// the version would see an object twice across an apiVersion bump.
type ObjMetadata struct {
	Namespace string // empty for a cluster-scoped object
	Name      string
	Group     string // empty for the core group
	Kind      string
}

// rbacGroup holds the kinds whose names may contain a colon (system:aggregate-to-view), which
// an inventory ID writes as a double underscore, as cli-utils does.
const rbacGroup = "rbac.authorization.k8s.io"

func isRBAC(group, kind string) bool {
	if group != rbacGroup {
		return false
	}
	switch kind {
	case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
		return true
	}
	return false
}

// ID is the object's inventory ID, "<namespace>_<name>_<group>_<kind>", byte for byte what
// Flux writes to status.inventory: "default_cm1__ConfigMap" for a ConfigMap,
// "_admin_rbac.authorization.k8s.io_ClusterRole" for a cluster-scoped object.
func (o ObjMetadata) ID() string {
	name := o.Name
	if isRBAC(o.Group, o.Kind) {
		name = strings.ReplaceAll(name, ":", "__")
	}
	return o.Namespace + "_" + name + "_" + o.Group + "_" + o.Kind
}

// String is "Kind/namespace/name", or "Kind/name" for a cluster-scoped object: how Flux's
// events and errors name an object, and a Change's Subject.
func (o ObjMetadata) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// GroupKind is the object's group and kind.
func (o ObjMetadata) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: o.Group, Kind: o.Kind}
}

// MetadataOf identifies u.
func MetadataOf(u *unstructured.Unstructured) ObjMetadata {
	gvk := u.GroupVersionKind()
	return ObjMetadata{Namespace: u.GetNamespace(), Name: u.GetName(), Group: gvk.Group, Kind: gvk.Kind}
}

// InventoryEntry is one entry of a Kustomization's status.inventory.
type InventoryEntry struct {
	// ID is ObjMetadata.ID: "<namespace>_<name>_<group>_<kind>".
	ID string `json:"id"`
	// Version is the version of the apiVersion the object was applied with ("v1", "v1beta2").
	Version string `json:"v"`
}

// InventoryOf is the inventory of objs, in their order. Apply names objects the same way, so a
// Change's Subject and an entry parsed by ParseID agree (ObjMetadata.String).
func InventoryOf(objs []*unstructured.Unstructured) []InventoryEntry {
	out := make([]InventoryEntry, 0, len(objs))
	for _, u := range objs {
		out = append(out, InventoryEntry{ID: MetadataOf(u).ID(), Version: u.GroupVersionKind().Version})
	}
	return out
}

// ParseID reads an inventory ID written by ID (or by Flux, or by cli-utils). A double underscore
// in the name is a colon. The ID must name a kind and an object: "ns__v1_" is refused, where
// cli-utils would accept it, because an inventory entry without them can only be a corrupted
// status, and pruning from a corrupted inventory must fail rather than guess.
func ParseID(id string) (ObjMetadata, error) {
	namespace, rest, ok := strings.Cut(id, "_")
	if !ok {
		return ObjMetadata{}, idError(id)
	}
	// The name may hold "__" (a colon), so group and kind are taken from the end.
	i := strings.LastIndex(rest, "_")
	if i < 0 {
		return ObjMetadata{}, idError(id)
	}
	kind := rest[i+1:]
	rest = rest[:i]
	i = strings.LastIndex(rest, "_")
	if i < 0 {
		return ObjMetadata{}, idError(id)
	}
	group := rest[i+1:]
	name := strings.ReplaceAll(rest[:i], "__", ":")
	if strings.Contains(name, "_") || name == "" || kind == "" {
		return ObjMetadata{}, idError(id)
	}
	return ObjMetadata{Namespace: namespace, Name: name, Group: group, Kind: kind}, nil
}

func idError(id string) error {
	return fmt.Errorf("invalid inventory ID %q: want <namespace>_<name>_<group>_<kind>, as status.inventory holds", id)
}
