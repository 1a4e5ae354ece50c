package apply

import (
	"encoding/base64"
	"maps"
	"slices"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsapply "k8s.io/apiextensions-apiserver/pkg/client/applyconfiguration"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// ownedFieldsCurrent reports whether server-side applying desired (with ownership forced, as
// FieldManager) would leave live as it is, judged from live alone: its managedFields say which
// fields FieldManager's last apply set, and its values say what they hold. It answers true
// only when
//
//   - live has exactly one managedFields entry of FieldManager with operation Apply on the
//     object itself (no subresource), recorded at desired's apiVersion, and every entry of
//     live decodes;
//   - the set of fields desired sets, computed with the schema of its kind the way the API
//     server computes an applier's set (the same library, the same list of metadata the server
//     leaves out of it), equals that entry's set: a field added to the manifest, a field
//     removed from it, a field another manager took over by changing it (an Update, a kubectl
//     edit, a patch: the field leaves FieldManager's set) all make them differ;
//   - no other manager owns any of those fields, not even with the same value;
//   - merging desired into live, by the schema's rules (atomic lists and maps replaced whole,
//     associative lists item by item, with their key fields' defaults), changes no value of
//     live.
//
// Then the apply's two steps, which the API server computes from the same managedFields, have
// nothing to do: the merge changes nothing, and the fields it would remove (those FieldManager
// set last time and no longer sets) are none. desired is compared as the API server would take
// it (see comparable and storedForm). Anything else — a difference, a value the server would
// normalize ("1" for 1, "500m" for 0.5), an object or manifest that does not parse with the
// schema, a kind of no known schema with lists or empty maps, which the deduced schema may
// misread — answers false, and Apply asks the API server with a dry-run, as it would without
// this check. The reason is returned for tests.
//
// What it cannot see is what only the API server knows and would only show in a dry-run: a
// mutating webhook or a CRD default added since the object was last written, or an RBAC grant
// withdrawn from the identity that applies (the GET is still made as that identity). The Cache
// has the same blind spot (see Cache).
func ownedFieldsCurrent(desired, live *unstructured.Unstructured) (bool, string) {
	if live == nil {
		return false, "absent"
	}
	owned, others, why := ownership(live, desired.GetAPIVersion())
	if owned == nil {
		return false, why
	}

	d, why := comparable(desired, live)
	if d == nil {
		return false, why
	}
	s := loadSchemas()
	deduced := s.deduces(d)
	if deduced {
		if why := listOrEmptyMap(d.Object, ""); why != "" {
			return false, "a kind of no known schema, with " + why
		}
	}
	tv, err := s.typed(d)
	if err != nil {
		return false, "the manifest does not parse with its kind's schema: " + err.Error()
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		return false, "the manifest's fields: " + err.Error()
	}
	set = set.Difference(serverMetadata)
	if deduced {
		// The deduced schema makes every key of a map a member of the set; the API server's
		// schema of the kind makes only the keys it does not declare members. Without lists
		// and empty maps, that is the one way the two sets of the same manifest differ:
		// their leaves are the same, and the server's members are among the deduced ones.
		if !set.Leaves().Equals(owned.Leaves()) || !owned.Difference(set).Empty() {
			return false, "the manifest's fields are not those " + FieldManager + " owns"
		}
	} else if !set.Equals(owned) {
		return false, "the manifest's fields are not those " + FieldManager + " owns"
	}
	if !others.Intersection(owned).Empty() {
		return false, "another manager owns fields the manifest sets"
	}

	// The values as the API server stores them (see storedForm).
	if d, why = storedForm(d, !deduced); d == nil {
		return false, why
	}
	want, err := s.typed(d)
	if err != nil {
		return false, "the manifest does not parse with its kind's schema: " + err.Error()
	}

	// The live object without what desired cannot set once it got this far: status (kept out
	// of FieldManager's set by the API server where it is a subresource; where it is not, a
	// status in desired shows as added) and managedFields. Less of live can only show more
	// differences.
	l := maps.Clone(live.Object)
	delete(l, "status")
	if md, ok := l["metadata"].(map[string]any); ok {
		md = maps.Clone(md)
		delete(md, "managedFields")
		l["metadata"] = md
	}
	have, err := s.typed(&unstructured.Unstructured{Object: l})
	if err != nil {
		return false, "the live object does not parse with its kind's schema: " + err.Error()
	}
	merged, err := have.Merge(want)
	if err != nil {
		return false, "merge: " + err.Error()
	}
	cmp, err := have.Compare(merged)
	if err != nil {
		return false, "compare: " + err.Error()
	}
	if !cmp.IsSame() {
		return false, "the manifest's values differ from the live object's:\n" + cmp.String()
	}
	return true, ""
}

// ownership decodes live's managedFields: the set of FieldManager's apply of the object itself
// at apiVersion, and the union of every other entry's set. owned is nil, with the reason,
// when there is no such entry, more than one, or any entry does not decode.
func ownership(live *unstructured.Unstructured, apiVersion string) (owned, others *fieldpath.Set, why string) {
	entries := live.GetManagedFields() // nil when they do not decode
	others = &fieldpath.Set{}
	for _, e := range entries {
		if e.FieldsType != "FieldsV1" || e.FieldsV1 == nil {
			return nil, nil, "a managedFields entry without FieldsV1"
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(e.FieldsV1.GetRawReader()); err != nil {
			return nil, nil, "a managedFields entry does not decode: " + err.Error()
		}
		if e.Manager != FieldManager || e.Operation != metav1.ManagedFieldsOperationApply || e.Subresource != "" {
			others = others.Union(set)
			continue
		}
		if owned != nil {
			return nil, nil, "two apply entries of " + FieldManager
		}
		if e.APIVersion != apiVersion {
			return nil, nil, FieldManager + " last applied it as " + e.APIVersion
		}
		owned = set
	}
	if owned == nil {
		return nil, nil, "no apply entry of " + FieldManager
	}
	return owned, others, ""
}

// serverMetadata is what the API server leaves out of every manager's set (its field manager's
// "strip meta" step): the object's identity and the metadata it writes itself.
var serverMetadata = fieldpath.NewSet(
	fieldpath.MakePathOrDie("apiVersion"),
	fieldpath.MakePathOrDie("kind"),
	fieldpath.MakePathOrDie("metadata"),
	fieldpath.MakePathOrDie("metadata", "name"),
	fieldpath.MakePathOrDie("metadata", "namespace"),
	fieldpath.MakePathOrDie("metadata", "creationTimestamp"),
	fieldpath.MakePathOrDie("metadata", "selfLink"),
	fieldpath.MakePathOrDie("metadata", "uid"),
	fieldpath.MakePathOrDie("metadata", "clusterName"),
	fieldpath.MakePathOrDie("metadata", "generation"),
	fieldpath.MakePathOrDie("metadata", "managedFields"),
	fieldpath.MakePathOrDie("metadata", "resourceVersion"),
)

// comparable is desired as the check compares it with live, or nil with the reason when the
// manifest sets metadata the API server writes (an apply would then be refused, or its outcome
// is not for this check to guess). Left out, as the API server leaves them out of an apply:
//
//   - a null creationTimestamp, which `kubectl create --dry-run -o yaml` writes: the server
//     keeps the object's own on every update whatever the request says, and leaves it out of
//     every manager's set;
//   - status, when live has a managedFields entry of the status subresource (a controller
//     wrote it there): the kind has one, so the API server ignores the status of a write to
//     the object itself (Kubernetes' API conventions; a CRD's subresources.status says so of
//     its custom resources), and leaves it out of the applier's set. Without such an entry
//     the manifest's status stays, and a status it sets shows as a difference.
func comparable(desired, live *unstructured.Unstructured) (*unstructured.Unstructured, string) {
	md, _ := desired.Object["metadata"].(map[string]any)
	for _, f := range []string{"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "managedFields", "resourceVersion", "selfLink", "uid"} {
		v, ok := md[f]
		if !ok {
			continue
		}
		if f != "creationTimestamp" || v != nil {
			return nil, "the manifest sets metadata." + f
		}
	}
	_, timestamp := md["creationTimestamp"]
	_, status := desired.Object["status"]
	status = status && hasStatusSubresource(live)
	if !timestamp && !status {
		return desired, ""
	}
	obj := maps.Clone(desired.Object)
	if timestamp {
		md = maps.Clone(md)
		delete(md, "creationTimestamp")
		obj["metadata"] = md
	}
	if status {
		delete(obj, "status")
	}
	return &unstructured.Unstructured{Object: obj}, ""
}

// hasStatusSubresource reports whether a manager wrote live's status subresource.
func hasStatusSubresource(live *unstructured.Unstructured) bool {
	for _, e := range live.GetManagedFields() {
		if e.Subresource == "status" {
			return true
		}
	}
	return false
}

// schemas are the structured-merge-diff schemas the check parses objects with: the built-in
// kinds' compiled into client-go (and apiextensions' for CustomResourceDefinitions), those the
// API server uses for them, and the deduced schema for any other kind (custom resources: every
// map granular, every list atomic). Loaded once, on the first check.
type schemas struct {
	scheme     *runtime.Scheme
	builtin    managedfields.TypeConverter
	extensions managedfields.TypeConverter
	deduced    managedfields.TypeConverter
}

var loadSchemas = sync.OnceValue(func() *schemas {
	scheme := runtime.NewScheme()
	// A scheme of its own: the global one may have other types added.
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	return &schemas{
		scheme:     scheme,
		builtin:    applyconfigurations.NewTypeConverter(scheme),
		extensions: apiextensionsapply.NewTypeConverter(scheme),
		deduced:    managedfields.NewDeducedTypeConverter(),
	}
})

// deduces reports whether u's kind has no schema here: it is parsed with the deduced one.
func (s *schemas) deduces(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group != apiextensionsv1.GroupName && !s.scheme.Recognizes(gvk)
}

// typed parses u, validated (an unknown field, a duplicate key or a wrong type is an error),
// with its kind's schema.
func (s *schemas) typed(u *unstructured.Unstructured) (*typed.TypedValue, error) {
	gvk := u.GroupVersionKind()
	switch {
	case gvk.Group == apiextensionsv1.GroupName:
		return s.extensions.ObjectToTyped(u)
	case s.scheme.Recognizes(gvk):
		return s.builtin.ObjectToTyped(u)
	default:
		return s.deduced.ObjectToTyped(u)
	}
}

// listOrEmptyMap names the first list or empty map in v, or returns "". The deduced schema
// takes every list for atomic and every map for granular, where a custom resource's CRD may
// make a list associative or a set, and a map atomic. A map of keys that the CRD makes atomic
// shows as different sets (a leaf on the API server's side, its keys on the deduced side); an
// empty one does not, and the deduced schema merges it as nothing to do where the API server
// replaces the whole. Lists are not compared at all.
func listOrEmptyMap(v any, path string) string {
	switch v := v.(type) {
	case []any:
		return "a list at " + path
	case map[string]any:
		if len(v) == 0 && path != "" {
			return "an empty map at " + path
		}
		for k, e := range v {
			if why := listOrEmptyMap(e, path+"."+k); why != "" {
				return why
			}
		}
	}
	return ""
}

// storedForm is desired's values as the API server stores them, where they differ from what
// the manifest writes, while its set of fields stays the manifest's:
//
//   - a Secret's stringData: its values, base64-encoded, over data's (the API server converts
//     every write so, and keeps no stringData);
//   - of a built-in kind (builtin), the null creationTimestamp of an object's metadata inside
//     it (a Deployment's pod template, as `kubectl create --dry-run -o yaml` writes it): the
//     API server decodes it into the zero time of its Go type, which it stores as null or
//     leaves out, and either way the merge would change nothing.
func storedForm(u *unstructured.Unstructured, builtin bool) (*unstructured.Unstructured, string) {
	u, why := secretData(u)
	if u == nil || !builtin {
		return u, why
	}
	if obj, changed := withoutNullTimestamps(u.Object, false); changed {
		u = &unstructured.Unstructured{Object: obj.(map[string]any)}
	}
	return u, ""
}

// withoutNullTimestamps is v without the null creationTimestamp of the maps found under a key
// "metadata" (inMetadata: v is one), copied where it changes; changed is false, and v returned
// as it is, when nothing does.
func withoutNullTimestamps(v any, inMetadata bool) (_ any, changed bool) {
	switch v := v.(type) {
	case map[string]any:
		var out map[string]any
		for k, e := range v {
			ne, drop := e, inMetadata && k == "creationTimestamp" && e == nil
			if !drop {
				var ok bool
				if ne, ok = withoutNullTimestamps(e, k == "metadata"); !ok {
					continue
				}
			}
			if out == nil {
				out = maps.Clone(v)
			}
			if drop {
				delete(out, k)
			} else {
				out[k] = ne
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range v {
			if ne, ok := withoutNullTimestamps(e, false); ok {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = ne
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// secretData is a Secret with its stringData stored as data (see storedForm), or u when it is
// no Secret or has no stringData.
func secretData(u *unstructured.Unstructured) (*unstructured.Unstructured, string) {
	if u.GetAPIVersion() != "v1" || u.GetKind() != "Secret" {
		return u, ""
	}
	sd, ok := u.Object["stringData"]
	if !ok {
		return u, ""
	}
	strs, ok := sd.(map[string]any)
	if !ok {
		return nil, "a Secret's stringData that is not a map"
	}
	obj := maps.Clone(u.Object)
	delete(obj, "stringData")
	if len(strs) > 0 {
		data, ok := obj["data"].(map[string]any)
		if !ok && obj["data"] != nil {
			return nil, "a Secret's data that is not a map"
		}
		data = maps.Clone(data)
		if data == nil {
			data = make(map[string]any, len(strs))
		}
		for k, v := range strs {
			s, ok := v.(string)
			if !ok {
				return nil, "a Secret's stringData value that is not a string"
			}
			data[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
		obj["data"] = data
	}
	return &unstructured.Unstructured{Object: obj}, ""
}
