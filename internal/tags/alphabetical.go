package tags

// Alphabetical picks by byte-wise string order (ImagePolicy's
// policy.alphabetical).
type Alphabetical struct {
	order Order
}

// NewAlphabetical accepts order "asc" (the default when empty: the greatest
// value wins) or "desc" (the least wins), in any case.
func NewAlphabetical(order string) (*Alphabetical, error) {
	o, err := parseOrder("spec.policy.alphabetical.order", order)
	if err != nil {
		return nil, err
	}
	return &Alphabetical{order: o}, nil
}

// Order returns the order in effect.
func (p *Alphabetical) Order() Order { return p.order }

// Latest returns the tag with the greatest (asc) or least (desc) value.
func (p *Alphabetical) Latest(tags []string, f *Filter) (string, error) {
	if len(tags) == 0 {
		return "", ErrNoTags
	}
	desc := p.order == Descending
	if f.keepsAll() {
		if desc {
			return leastString(tags), nil
		}
		return greatestString(tags), nil
	}
	var best candidate
	found := false
	for _, tag := range tags {
		value, ok := f.match(tag)
		if !ok {
			continue
		}
		if found {
			if value == best.value {
				if tag <= best.tag {
					continue
				}
			} else if (value < best.value) != desc {
				continue
			}
		}
		best, found = candidate{tag, value}, true
	}
	if !found {
		return "", noMatch(len(tags), f, "is a tag")
	}
	return best.tag, nil
}

// greatestString and leastString pick among tags that are their own
// values, so equal values are the same tag and need no tie rule. A first
// byte that differs from the best's decides without comparing the strings:
// most tags in most orders. first is best[0], or -1 when best is "", which
// every other tag is greater than.

func greatestString(tags []string) string {
	best, first := tags[0], firstByte(tags[0])
	for _, t := range tags[1:] {
		if t != "" && int(t[0]) < first {
			continue
		}
		if t > best {
			best, first = t, int(t[0])
		}
	}
	return best
}

func leastString(tags []string) string {
	best, first := tags[0], firstByte(tags[0])
	for _, t := range tags[1:] {
		if t != "" && int(t[0]) > first {
			continue
		}
		if t < best {
			best, first = t, firstByte(t)
		}
	}
	return best
}

func firstByte(s string) int {
	if s == "" {
		return -1
	}
	return int(s[0])
}
