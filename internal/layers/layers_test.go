package layers

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/azimuth-gitops/azimuth"

// rule forbids packages matching From to depend on packages matching To.
type rule struct {
	// From and To are package patterns: a path relative to the module, "/..." for a subtree.
	From, To string
	// Except lists From packages the rule does not apply to.
	Except []string
	// Transitive checks every dependency, not only direct imports.
	Transitive bool
	Why        string
}

// rules are DESIGN.md's layer rules.
var rules = []rule{
	{From: "internal/controller/...", To: "internal/entra/...", Why: "controllers get credentials through one object → credential step (internal/access, via their protocol package)"},
	{From: "internal/controller/...", To: "internal/identity/...", Why: "controllers never see an identity"},
	{From: "internal/controller/...", To: "internal/azure/...", Why: "controllers reach Azure services through their protocol package"},
	{From: "internal/controller/...", To: "internal/controller/...", Except: []string{"internal/controller/status", "internal/controller/recipe"},
		Why: "a controller does not import a sibling controller; what they share lives in status, recipe or a protocol package"},
	{From: "internal/azure/...", To: "internal/identity/...", Why: "an Azure adapter takes a credential, never an identity"},
	{From: "internal/entra/...", To: "internal/azure/...", Transitive: true, Why: "entra knows authorities, not services"},
	{From: "api/...", To: "internal/...", Transitive: true, Why: "the API types stand alone"},
	{From: "api/...", To: "azurelocal/...", Transitive: true, Why: "production code knows only production Azure"},
	{From: "internal/...", To: "azurelocal/...", Except: []string{"internal/testenv"}, Transitive: true, Why: "production code knows only production Azure"},
	{From: "internal/...", To: "devenv/...", Transitive: true, Why: "the engine does not depend on the dev environment"},
	{From: "internal/...", To: "internal/testenv", Except: []string{"internal/testenv"}, Transitive: true, Why: "test helpers stay out of the engine"},
	{From: "azurelocal/...", To: "internal/...", Transitive: true, Why: "emulators import nothing of the engine"},
	{From: "azurelocal/...", To: "api/...", Transitive: true, Why: "emulators import nothing of the engine"},
}

// pkg is what `go list -json` says of a package that matters here.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// violations applies rules to the packages of one module.
func violations(pkgs []pkg, rules []rule) []string {
	var out []string
	for _, p := range pkgs {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue
		}
		for _, r := range rules {
			if !match(r.From, rel) || slices.Contains(r.Except, rel) {
				continue
			}
			deps := p.Imports
			if r.Transitive {
				deps = p.Deps
			}
			for _, d := range deps {
				drel, ok := strings.CutPrefix(d, module+"/")
				if ok && drel != rel && match(r.To, drel) && !(r.From == r.To && slices.Contains(r.Except, drel)) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", rel, drel, r.Why))
				}
			}
		}
	}
	return out
}

// match reports whether rel is pattern, or under it for "dir/...".
func match(pattern, rel string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == dir || strings.HasPrefix(rel, dir+"/")
	}
	return rel == pattern
}

func TestLayerRules(t *testing.T) {
	watchSources(t)
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; the rules would check nothing", len(pkgs))
	}
	for _, v := range violations(pkgs, rules) {
		t.Error(v)
	}
}

// watchSources stats every Go file of the module, so that go test's cache, which cannot see what
// `go list` reads, reruns this test when any of them changes.
func watchSources(t *testing.T) {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	err = filepath.WalkDir(strings.TrimSpace(string(root)), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "bin" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRulesCatchBreaks: each kind of break the rules name is reported, so a rule cannot pass by
// matching nothing.
func TestRulesCatchBreaks(t *testing.T) {
	m := func(rel string) string { return module + "/" + rel }
	broken := []pkg{
		{ImportPath: m("internal/controller/imagepolicy"), Imports: []string{m("internal/controller/imagerepository"), m("internal/controller/status"), m("internal/entra")}},
		{ImportPath: m("internal/controller/ocirepository"), Imports: []string{m("internal/identity"), m("internal/azure/acr"), m("internal/controller/recipe"), m("internal/oci")}},
		{ImportPath: m("internal/azure/acr"), Imports: []string{m("internal/identity")}},
		{ImportPath: m("internal/entra"), Deps: []string{m("internal/azure/acr")}},
		{ImportPath: m("internal/oci"), Deps: []string{m("azurelocal/entra"), m("internal/testenv"), m("devenv")}},
		{ImportPath: m("azurelocal/acr"), Deps: []string{m("internal/transport")}},
		{ImportPath: m("internal/testenv"), Deps: []string{m("azurelocal/pki")}},
	}
	got := violations(broken, rules)
	want := []string{
		"internal/controller/imagepolicy imports internal/entra",
		"internal/controller/imagepolicy imports internal/controller/imagerepository",
		"internal/controller/ocirepository imports internal/identity",
		"internal/controller/ocirepository imports internal/azure/acr",
		"internal/azure/acr imports internal/identity",
		"internal/entra imports internal/azure/acr",
		"internal/oci imports azurelocal/entra",
		"internal/oci imports internal/testenv",
		"internal/oci imports devenv",
		"azurelocal/acr imports internal/transport",
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(v string) bool { return strings.HasPrefix(v, w+":") }) {
			t.Errorf("not reported: %s", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}
