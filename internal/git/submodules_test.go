package git

import "testing"

func TestResolveURL(t *testing.T) {
	for _, tc := range []struct{ parent, sub, want string }{
		{"https://dev.azure.com/o/p/_git/app", "../lib", "https://dev.azure.com/o/p/_git/lib"},
		{"https://dev.azure.com/o/p/_git/app", "./lib", "https://dev.azure.com/o/p/_git/app/lib"},
		{"https://dev.azure.com/o/p/_git/app", "https://example.com/lib.git", "https://example.com/lib.git"},
		{"ssh://git@ssh.dev.azure.com/v3/o/p/app", "../lib", "ssh://git@ssh.dev.azure.com/v3/o/p/lib"},
	} {
		if got, err := resolveURL(tc.parent, tc.sub); err != nil || got != tc.want {
			t.Errorf("resolveURL(%q, %q) = %q, %v; want %q", tc.parent, tc.sub, got, err, tc.want)
		}
	}
}
