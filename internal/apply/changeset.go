package apply

import "strings"

// Action is what Apply or Prune did to an object, in Flux's words.
type Action string

const (
	// Created: the object did not exist, or was deleted and created anew because a change of
	// an immutable field forced it (Flux's ssa package says created then too).
	Created Action = "created"
	// Configured: the object existed and differed from the desired object; it was applied.
	Configured Action = "configured"
	// Unchanged: the object already was the desired object; nothing was written.
	Unchanged Action = "unchanged"
	// Skipped: an annotation (ssa: Ignore, ssa: IfNotPresent, reconcile: disabled, or for Prune
	// prune: disabled or another owner's labels) kept the object as it is.
	Skipped Action = "skipped"
	// Deleted: Prune deleted the object.
	Deleted Action = "deleted"
)

// Change is what happened to one object.
type Change struct {
	// Subject names the object as Flux's events do: ObjMetadata.String, "Kind/namespace/name".
	Subject string
	Action  Action
	// Object identifies the object; Object.ID() is its inventory ID.
	Object ObjMetadata
}

// String is the line Flux's events give a change: "ConfigMap/default/cm1 created".
func (c Change) String() string { return c.Subject + " " + string(c.Action) }

// ChangeSet is what one Apply or Prune did, in the order it did it.
type ChangeSet struct {
	Entries []Change
}

func (cs *ChangeSet) add(id ObjMetadata, a Action) {
	cs.Entries = append(cs.Entries, Change{Subject: id.String(), Action: a, Object: id})
}

// String is the text of the event Flux emits after an apply: one line per object created,
// configured or deleted. Unchanged and skipped objects are left out, as kustomize-controller
// leaves them out, so a reconcile that changed nothing gives "" and no event.
func (cs *ChangeSet) String() string {
	if cs == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range cs.Entries {
		if c.Action == Unchanged || c.Action == Skipped {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(c.String())
	}
	return b.String()
}
