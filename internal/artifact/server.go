package artifact

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Handler serves stored artifacts by path, and nothing else: no directory listings, no
// temporary files.
func (s *Storage) Handler() http.Handler {
	files := http.FileServer(http.Dir(s.Root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		clean := filepath.Clean("/" + r.URL.Path)
		info, err := os.Stat(filepath.Join(s.Root, clean))
		if err != nil || !info.Mode().IsRegular() || strings.HasPrefix(filepath.Base(clean), ".") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
