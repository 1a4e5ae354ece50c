package kustomize

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// SubstituteKey is the label or annotation that, set to SubstituteDisabled, keeps an object out
// of post-build substitution.
const (
	SubstituteKey      = "kustomize.toolkit.fluxcd.io/substitute"
	SubstituteDisabled = "disabled"
)

// Substitute is spec.postBuild: it replaces the ${var} expressions of every object with vars,
// as Flux does, and returns the objects, substituted ones replaced by new objects (objs is not
// modified). It works on each object's YAML text, which is then parsed again, so replicas: ${r}
// with r=3 becomes the number 3.
//
// An object labelled or annotated kustomize.toolkit.fluxcd.io/substitute: disabled is returned
// untouched. Newlines are removed from the values, as Flux does. When vars is empty nothing is
// substituted, not even defaults: Flux substitutes only when at least one variable is defined.
// strict is Flux's StrictPostBuildSubstitutions feature gate: a variable that is not set and has
// no default fails the substitution instead of becoming "".
//
// Every variable name must pass ValidateVarName. Errors are *SubstituteError.
func Substitute(objs []*unstructured.Unstructured, vars map[string]string, strict bool) ([]*unstructured.Unstructured, error) {
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		if err := ValidateVarName(name); err != nil {
			return nil, &SubstituteError{Variable: name, Err: err}
		}
	}
	if len(vars) == 0 {
		return objs, nil
	}
	values := make(map[string]string, len(vars))
	for k, v := range vars {
		values[k] = strings.ReplaceAll(v, "\n", "")
	}
	out := make([]*unstructured.Unstructured, len(objs))
	for i, obj := range objs {
		if disabled(obj) {
			out[i] = obj
			continue
		}
		s, err := substituteObject(obj, values, strict)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func disabled(obj *unstructured.Unstructured) bool {
	return obj.GetLabels()[SubstituteKey] == SubstituteDisabled || obj.GetAnnotations()[SubstituteKey] == SubstituteDisabled
}

// substituteObject substitutes one object through the YAML text Flux substitutes in: kustomize's
// resource rendered as JSON, then converted to YAML.
func substituteObject(obj *unstructured.Unstructured, vars map[string]string, strict bool) (*unstructured.Unstructured, error) {
	name := objectName(obj)
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, &SubstituteError{Object: name, Err: err}
	}
	if !bytes.Contains(data, []byte("${")) && !bytes.Contains(data, []byte("$$")) {
		return obj, nil // nothing to expand: JSON escapes no $, and YAML adds none
	}
	text, err := yaml.JSONToYAML(data)
	if err != nil {
		return nil, &SubstituteError{Object: name, Err: err}
	}
	out, err := expand(string(text), vars, strict)
	if err != nil {
		return nil, exprError(name, err)
	}
	if out == string(text) {
		return obj, nil
	}
	j, err := yaml.YAMLToJSON([]byte(out))
	if err != nil {
		return nil, &SubstituteError{Object: name, Err: fmt.Errorf("the substituted manifest is not valid YAML (%v): "+
			"a value breaks its line; quote the expression in the manifest or change the value", err)}
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		return nil, &SubstituteError{Object: name, Err: fmt.Errorf("the substituted manifest is not a Kubernetes object: %w", err)}
	}
	return u, nil
}

func exprError(object string, err error) error {
	var unset *unsetError
	if errors.As(err, &unset) {
		return &SubstituteError{Object: object, Variable: unset.name, Err: err}
	}
	var syntax *syntaxError
	return &SubstituteError{Object: object, Err: err, syntax: errors.As(err, &syntax)}
}

// objectName names obj as Flux's messages do: Kind/namespace/name, or Kind/name.
func objectName(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return obj.GetKind() + "/" + ns + "/" + obj.GetName()
	}
	return obj.GetKind() + "/" + obj.GetName()
}

// ValidateVarName reports whether name may be a substitution variable: a letter or an underscore,
// then letters, digits or underscores, all ASCII (Flux's ^[_[:alpha:]][_[:alpha:][:digit:]]*$).
func ValidateVarName(name string) error {
	valid := name != ""
	for i, r := range name {
		if r != '_' && !isASCIILetter(r) && (i == 0 || !isDigit(r)) {
			valid = false
			break
		}
	}
	if !valid {
		return fmt.Errorf("variable name '%s' is invalid: it must match ^[_[:alpha:]][_[:alpha:][:digit:]]*$ "+
			"(a letter or underscore, then letters, digits or underscores); rename the key in "+
			"spec.postBuild.substitute or in the ConfigMap or Secret of substituteFrom", name)
	}
	return nil
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
