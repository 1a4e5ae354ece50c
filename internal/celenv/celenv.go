// Package celenv holds the CEL settings of Flux's expressions, which Azimuth's Alerts
// (commitStatusExpr) and Kustomizations (healthCheckExprs) share: aggregate literals of one
// type, declarations checked when the environment is made, UTC as the default time zone,
// comparisons across numeric types, optional types, and the strings and sets extensions.
package celenv

import (
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"
)

// Options are the shared settings; append the variables and extensions of the expression.
func Options() []cel.EnvOption {
	return []cel.EnvOption{
		cel.HomogeneousAggregateLiterals(),
		cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(),
		ext.Sets(),
	}
}
