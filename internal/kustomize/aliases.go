package kustomize

import (
	"bytes"
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Kustomize inflates YAML aliases by copying what they point to, recursively and without a
// bound. An alias inside the node it refers to (b: &b [*b]) recurses until the Go runtime stops
// the process with a stack overflow, which no recover catches; aliases of aliases (a billion
// laughs) exhaust the memory. Either would take the controller down with every Kustomization
// in it, so the YAML kustomize reads is checked first: what the file system hands it, and the
// patches written inline in kustomization files.

// maxExpandedNodes bounds the nodes one YAML document may expand to through its aliases: far
// above any manifest (a large CRD is some tens of thousands of nodes), far below what exhausts
// a controller's memory.
const maxExpandedNodes = 1_000_000

// checkAliases refuses YAML whose aliases loop or expand beyond maxExpandedNodes. Data that is
// not YAML passes: it is not parsed as YAML by kustomize, or kustomize reports it.
func checkAliases(data []byte) error {
	if bytes.IndexByte(data, '&') < 0 || bytes.IndexByte(data, '*') < 0 {
		return nil // no anchor or no alias
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return nil // the end, or not YAML
		}
		c := &aliasCounter{size: map[*yaml.Node]int{}, open: map[*yaml.Node]bool{}}
		if _, err := c.count(&doc); err != nil {
			return err
		}
	}
}

// aliasCounter counts the nodes a document expands to, each node's count computed once.
type aliasCounter struct {
	size map[*yaml.Node]int
	open map[*yaml.Node]bool // the nodes being counted: an alias to one of them is a loop
}

var errTooManyNodes = fmt.Errorf("its aliases expand it to more than %d nodes", maxExpandedNodes)

func (c *aliasCounter) count(n *yaml.Node) (int, error) {
	if s, ok := c.size[n]; ok {
		return s, nil
	}
	c.open[n] = true
	total := 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		if c.open[n.Alias] {
			return 0, fmt.Errorf("the alias '*%s' at line %d is inside the node it refers to", n.Value, n.Line)
		}
		s, err := c.count(n.Alias)
		if err != nil {
			return 0, err
		}
		if total += s; total > maxExpandedNodes {
			return 0, errTooManyNodes
		}
	}
	for _, child := range n.Content {
		s, err := c.count(child)
		if err != nil {
			return 0, err
		}
		if total += s; total > maxExpandedNodes {
			return 0, errTooManyNodes
		}
	}
	delete(c.open, n)
	c.size[n] = total
	return total, nil
}

// yamlError is YAML that kustomize must not parse.
type yamlError struct {
	path string
	err  error
}

func (e *yamlError) Error() string {
	return fmt.Sprintf("'%s' cannot be built: %v; remove the alias (write the value out)", e.path, e.err)
}

func (e *yamlError) Unwrap() error { return e.err }

// isYAMLError reports whether err is, or wraps, a yamlError.
func isYAMLError(err error) bool {
	var y *yamlError
	return errors.As(err, &y)
}
