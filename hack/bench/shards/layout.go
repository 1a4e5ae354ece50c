package main

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
)

// shardLabel is the label Flux's sharding guide selects shards by (internal/manager.ShardLabel).
const shardLabel = "sharding.fluxcd.io/key"

// decoyShard labels objects no manager of the sharded layout selects: they must stay untouched.
const decoyShard = "shard-none"

// layout is one way of running the managers: one process per selector ("" selects every
// object).
type layout struct {
	name      string
	selectors []string
	// shards counts the selectors that select a shard key: the main manager is not one.
	shards int
}

// single is one manager reconciling every object.
func single() layout { return layout{name: "1 manager", selectors: []string{""}, shards: 1} }

// sharded is k managers, one per shard key, and the main manager (objects without the label)
// when withMain, as Flux's sharding guide runs them.
func sharded(k int, withMain bool) layout {
	l := layout{name: fmt.Sprintf("%d shards", k), shards: k}
	for i := range k {
		l.selectors = append(l.selectors, shardLabel+"="+shardKey(i))
	}
	if withMain {
		l.name += " + main"
		l.selectors = append(l.selectors, "!"+shardLabel)
	}
	return l
}

func shardKey(i int) string { return fmt.Sprintf("shard-%d", i) }

// managerName names the manager of selector i in reports and file names.
func (l layout) managerName(i int) string {
	switch s := l.selectors[i]; {
	case s == "":
		return "all"
	case s == "!"+shardLabel:
		return "main"
	default:
		return shardKey(i)
	}
}

// owners returns the managers whose selectors select an object with labels lbls: exactly one
// for every object a layout reconciles, none for a decoy.
func (l layout) owners(lbls map[string]string) ([]int, error) {
	var owners []int
	for i, s := range l.selectors {
		sel, err := labels.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("selector %q: %w", s, err)
		}
		if sel.Matches(labels.Set(lbls)) {
			owners = append(owners, i)
		}
	}
	return owners, nil
}
