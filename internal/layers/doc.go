// Package layers holds no code: its test keeps DESIGN.md's layer rules, the dependency
// directions that keep each room of the house to its purpose (see docs/architecture.md).
package layers
