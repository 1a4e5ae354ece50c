package apply

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// ObjectError is the failure of one object. Apply, Prune and Wait join one per failing object,
// so errors.As finds the first and apierrors.IsForbidden (and the other apierrors tests) see
// through to the API server's answer.
type ObjectError struct {
	Object ObjMetadata
	// Err is the API server's error, wrapped with what to change where one knows it.
	Err error
}

func (e *ObjectError) Error() string { return e.Object.String() + ": " + e.Err.Error() }
func (e *ObjectError) Unwrap() error { return e.Err }

// maxCause bounds the server's text about one field in a message: a Job's immutable template
// is quoted whole by the API server, several kilobytes that bury the field's name.
const maxCause = 200

// explain wraps err, an answer of the API server about id, with what the user can do about it.
func explain(err error, verb string) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s refused: %w; the identity applying this Kustomization (its spec.serviceAccountName, or the controller) needs RBAC permission to get, create, patch and delete it", verb, err)
	case meta.IsNoMatchError(err):
		return fmt.Errorf("the cluster serves no such kind (%w): its CustomResourceDefinition is missing; install it first or add it to this Kustomization", err)
	}
	return fmt.Errorf("%s failed: %w", verb, err)
}

// isImmutable reports whether err says that the change touches a field the API server will
// not change in place. Flux's ssa package takes any Invalid (or Conflict) answer for one and,
// with force, recreates on a plain validation error too; deleting an object cannot make an
// invalid one valid, so only answers about immutability count here: the generic "field is
// immutable" (Job template, selectors, Service clusterIP, ConfigMap and Secret with immutable:
// true, and CEL rules written the documented way), and the wordings of StatefulSet, Pod,
// PersistentVolume and PersistentVolumeClaim.
func isImmutable(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{
		"immutable",
		"updates to statefulset spec for fields other than",
		"may not change fields other than",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// immutableError is the refusal of an immutable change when nothing allows a recreate.
func immutableError(err error) error {
	var fields []string
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Details != nil {
		for _, c := range status.Status().Details.Causes {
			fields = append(fields, fmt.Sprintf("%s: %s", c.Field, causeDetail(c.Message)))
		}
	}
	if len(fields) == 0 {
		fields = []string{clip.String(err.Error(), maxCause)}
	}
	return &immutableErr{fields: fields, err: err}
}

type immutableErr struct {
	fields []string
	err    error
}

func (e *immutableErr) Error() string {
	return fmt.Sprintf("the change touches immutable fields (%s): set spec.force: true on the Kustomization, or annotate the object %s: %s, to have it deleted and created anew",
		strings.Join(e.fields, "; "), ForceAnnotation, Enabled)
}

func (e *immutableErr) Unwrap() error { return e.err }

// causeDetail is what a field error says, without the value it quotes: "Invalid value:
// {...4 KB of pod template...}: field is immutable" is "field is immutable".
func causeDetail(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n") // PersistentVolumeClaim and Pod append a diff
	if rest, ok := strings.CutPrefix(msg, "Invalid value: "); ok {
		if i := strings.LastIndex(rest, ": "); i >= 0 {
			msg = rest[i+2:]
		}
	}
	return clip.String(strings.TrimPrefix(msg, "Forbidden: "), maxCause)
}

// joinObjectErrors joins the errors of the failing objects, one a line, under a summary: what
// failed (if what is not empty), and how many of how many. Nil when errs is empty.
func joinObjectErrors(what string, errs []error, total int) error {
	if len(errs) == 0 {
		return nil
	}
	if what != "" {
		what += ": "
	}
	return &objectErrors{summary: fmt.Sprintf("%s%d of %d objects failed", what, len(errs), total), errs: errs}
}

// maxListed bounds the objects an error lists: a Kustomization of 1,000 objects that its
// service account may not touch fails 1,000 times, and a status condition or an event that
// held them all would be refused as too long, or unreadable.
const maxListed = 20

// objectErrors is a summary line and one line per failing object, up to maxListed. errors.As
// and errors.Is see all of them.
type objectErrors struct {
	summary string
	errs    []error
	cause   error // what cut the work short, if anything: in the summary, and seen by errors.Is
}

func (e *objectErrors) Error() string {
	var b strings.Builder
	b.WriteString(e.summary)
	if e.cause != nil {
		b.WriteString(" (" + e.cause.Error() + ")")
	}
	b.WriteString(":")
	for i, err := range e.errs {
		if i == maxListed {
			fmt.Fprintf(&b, "\n... and %d more", len(e.errs)-maxListed)
			break
		}
		b.WriteString("\n" + err.Error())
	}
	return b.String()
}

func (e *objectErrors) Unwrap() []error {
	if e.cause != nil {
		return append([]error{e.cause}, e.errs...)
	}
	return e.errs
}
