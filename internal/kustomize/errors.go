package kustomize

import (
	"fmt"
	"strings"
)

// BuildError is a build that failed because of its input: the artifact's files or the
// Kustomization's spec. The same input fails the same way, so Terminal reports true: the
// reconciler stalls the object until the source or the spec changes. Failures of the machine
// (a file that cannot be written in the build directory) are returned as plain errors, to retry.
type BuildError struct {
	// Path is the file or directory at fault, relative to the artifact's root, such as
	// "apps/kustomization.yaml"; empty when the fault is not in one file.
	Path string
	// Err says what is wrong and what to change.
	Err error
}

func (e *BuildError) Error() string {
	if e.Path == "" {
		return "kustomize build failed: " + e.Err.Error()
	}
	return fmt.Sprintf("kustomize build failed in '%s': %v", e.Path, e.Err)
}

func (e *BuildError) Unwrap() error { return e.Err }

// Terminal reports true: only a change of the source or of the spec fixes the build.
func (e *BuildError) Terminal() bool { return true }

// SubstituteError is a post-build substitution that failed on one object.
type SubstituteError struct {
	// Object names the object as Flux's messages do: Kind/namespace/name, or Kind/name when
	// the object has no namespace. Empty when the fault is in the variables themselves.
	Object string
	// Variable is the variable at fault, when there is one.
	Variable string
	// Err says what is wrong and what to change.
	Err error
	// syntax marks expressions that do not parse: only a change of the source fixes them.
	syntax bool
}

func (e *SubstituteError) Error() string {
	if e.Object == "" {
		return "post-build substitution failed: " + e.Err.Error()
	}
	return fmt.Sprintf("post-build substitution failed in %s: %v", e.Object, e.Err)
}

func (e *SubstituteError) Unwrap() error { return e.Err }

// Terminal reports true for an expression that does not parse, which only a change of the
// source fixes. A missing or invalid variable, or a value that breaks the YAML, is not terminal:
// the variables may come from ConfigMaps and Secrets (spec.postBuild.substituteFrom), which can
// change without the Kustomization changing.
func (e *SubstituteError) Terminal() bool { return e.syntax }

// relPath is p relative to root with forward slashes, for messages that must not depend on where
// the reconciler extracted the artifact; "." for root itself.
func relPath(root, p string) string {
	rel, err := relative(root, p)
	if err != nil {
		return p
	}
	return rel
}

// scrubRoot replaces root in kustomize's messages by paths relative to the artifact, so that
// the message names what the user wrote, and stays the same from one reconcile to the next
// (the build directory has a new random name each time; an unchanged message is not a new event).
func scrubRoot(msg string, roots ...string) string {
	for _, r := range roots {
		if r == "" || r == "/" {
			continue
		}
		msg = strings.ReplaceAll(msg, r+"/", "")
		msg = strings.ReplaceAll(msg, r, ".")
	}
	return msg
}
