package status

import (
	"fmt"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// maxQuoted bounds a value a message quotes, such as a spec field the user wrote.
const maxQuoted = 256

// Quote quotes a value for a message, as %q does, cut to a length a message can carry: a
// 40 KB spec.url must not make the message (and so the status) too long to write.
func Quote(value string) string {
	if len(value) > maxQuoted {
		return fmt.Sprintf("%q (%d bytes)", clip.String(value, maxQuoted), len(value))
	}
	return fmt.Sprintf("%q", value)
}
