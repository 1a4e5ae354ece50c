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
	var best candidate
	found := false
	for _, tag := range tags {
		value, ok := f.Match(tag)
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
