package setters

import (
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The types below are the data of a commit message template's `.Changed`, with the shape of
// Flux's (image-automation-controller's update.Result): `.Changed.FileChanges`, and the methods
// `.Changed.Objects` and `.Changed.Changes`, so that the templates written for Flux render the
// same.

// ObjectIdentifier identifies the object a change is in: its apiVersion, kind, name and
// namespace, as kyaml reads them (a kustomization.yaml has no name).
type ObjectIdentifier struct {
	yaml.ResourceIdentifier
}

// Change is one marked value that changed.
type Change struct {
	OldValue string
	NewValue string
	// Setter is the marker's value: NAMESPACE:NAME or NAMESPACE:NAME:FIELD.
	Setter string
}

// ObjectChanges are the changes made in each object.
type ObjectChanges map[ObjectIdentifier][]Change

// Result is the changes made by file (paths relative to the update path, as Flux has them),
// then by object.
type Result struct {
	FileChanges map[string]ObjectChanges
}

// AddChange records changes made to object id of file.
func (r *Result) AddChange(file string, id ObjectIdentifier, changes ...Change) {
	if r.FileChanges == nil {
		r.FileChanges = map[string]ObjectChanges{}
	}
	if r.FileChanges[file] == nil {
		r.FileChanges[file] = ObjectChanges{}
	}
	r.FileChanges[file][id] = append(r.FileChanges[file][id], changes...)
}

// Changes returns every distinct change, by file in path order and in the order of the file.
func (r Result) Changes() []Change {
	seen := map[Change]bool{}
	var out []Change
	for _, file := range slices.Sorted(maps.Keys(r.FileChanges)) {
		objects := r.FileChanges[file]
		for _, id := range sortedIDs(objects) {
			for _, c := range objects[id] {
				if !seen[c] {
					seen[c] = true
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// Objects returns the changes by object, whatever file they are in.
func (r Result) Objects() ObjectChanges {
	out := ObjectChanges{}
	for _, objects := range r.FileChanges {
		for id, changes := range objects {
			out[id] = append(out[id], changes...)
		}
	}
	return out
}

func sortedIDs(objects ObjectChanges) []ObjectIdentifier {
	ids := make([]ObjectIdentifier, 0, len(objects))
	for id := range objects {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ObjectIdentifier) int {
		return strings.Compare(idKey(a), idKey(b))
	})
	return ids
}

func idKey(id ObjectIdentifier) string {
	return id.APIVersion + "\x00" + id.Kind + "\x00" + id.Namespace + "\x00" + id.Name
}
