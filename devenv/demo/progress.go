package demo

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress prints one line per step: what is starting, then, on the same line, how long it took
// to be ready. Steps run one after the other, so lines never interleave.
type progress struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
}

// stepWidth is the width of a step's name, filled with dots, so the timings line up.
const stepWidth = 62

// step prints what is starting; the returned function completes the line with the time taken,
// a summary of what was done (may be empty), or the failure.
func (p *progress) step(what string) func(summary string, err error) {
	began := p.now()
	dots := stepWidth - len(what)
	if dots < 3 {
		dots = 3
	}
	fmt.Fprintf(p.w, "  %s %s ", what, strings.Repeat(".", dots))
	return func(summary string, err error) {
		took := seconds(p.now().Sub(began))
		switch {
		case err != nil && summary != "":
			fmt.Fprintf(p.w, "failed after %s: %s\n", took, summary)
		case err != nil:
			fmt.Fprintf(p.w, "failed after %s\n", took)
		case summary != "":
			fmt.Fprintf(p.w, "ready in %s: %s\n", took, summary)
		default:
			fmt.Fprintf(p.w, "ready in %s\n", took)
		}
	}
}

// since is the time since the progress began.
func (p *progress) since() string { return seconds(p.now().Sub(p.start)) }

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
