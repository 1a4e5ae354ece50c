package kustomize

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Kustomize fetches what a kustomization names by URL: it clones a remote base with the git
// binary and downloads a remote file with Go's default HTTP client. Neither can be switched off
// through krusty's options, so the references are checked here, before kustomize runs: a build
// never starts a process or opens a connection. The checks follow the kustomizations the way
// kustomize will, from the one at spec.path through its resources and components.

// isRemote reports whether kustomize would treat ref as a URL to fetch rather than a local path.
// It errs on the side of remote: it matches everything kustomize's git URL parser and its HTTP
// file loader accept (a scheme, an scp-style user@host:, a bare github.com/ path, the go-getter
// git:: prefix), and a local directory named like a URL is one kustomize would clone anyway.
func isRemote(ref string) bool {
	l := strings.ToLower(ref)
	l = strings.TrimPrefix(l, "git::")
	for _, p := range []string{"http:", "https:", "ssh:", "file:", "git:", "github.com/", "github.com:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return hasUserPrefix(l)
}

// hasUserPrefix reports whether s starts as a git scp-style URL does: user@ with a user name
// of a letter, then letters, digits or dashes.
func hasUserPrefix(s string) bool {
	user, _, found := strings.Cut(s, "@")
	if !found || user == "" || !isASCIILetter(rune(user[0])) {
		return false
	}
	for _, r := range user {
		if !isASCIILetter(r) && !isDigit(r) && r != '-' {
			return false
		}
	}
	return true
}

// refChecker walks the kustomizations reachable from a directory.
type refChecker struct {
	fsys    *confinedFS
	visited map[string]bool
}

// checkReferences refuses remote references and Helm charts in the kustomization at dir and in
// every local kustomization it reaches.
func checkReferences(fsys *confinedFS, dir string) error {
	c := &refChecker{fsys: fsys, visited: map[string]bool{}}
	return c.visit(dir, false)
}

// visit checks the kustomization in dir. plugins marks a directory named in generators,
// transformers or validators: its resources are plugin configurations, which hold paths too.
func (c *refChecker) visit(dir string, plugins bool) error {
	resolved, err := c.fsys.resolve(dir)
	if err != nil || c.visited[resolved] {
		return nil // kustomize reports a directory it cannot read, and a cycle
	}
	c.visited[resolved] = true
	file := kustomizationFile(c.fsys, dir)
	if file == "" {
		return nil // kustomize reports the missing kustomization, naming the directory
	}
	data, err := c.fsys.ReadFile(file)
	if isYAMLError(err) {
		return &BuildError{Path: relPath(c.fsys.root, file), Err: err}
	}
	if err != nil {
		return nil // kustomize reports it
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return &BuildError{Path: relPath(c.fsys.root, file), Err: err}
	}
	k.FixKustomization()
	r := &refs{file: relPath(c.fsys.root, file)}
	if err := r.check(&k); err != nil {
		return err
	}
	return c.follow(dir, r.file, &k, plugins)
}

// follow checks the local directories and plugin configurations that k names.
func (c *refChecker) follow(dir, file string, k *types.Kustomization, plugins bool) error {
	for _, res := range k.Resources {
		if err := c.local(dir, res, plugins); err != nil {
			return err
		}
	}
	for _, comp := range k.Components {
		if err := c.local(dir, comp, false); err != nil {
			return err
		}
	}
	for _, list := range [][]string{k.Generators, k.Transformers, k.Validators} {
		for _, entry := range list {
			if err := c.plugin(dir, file, entry); err != nil {
				return err
			}
		}
	}
	return nil
}

// local visits ref when it is a directory; a file is checked only when it is a plugin configuration.
func (c *refChecker) local(dir, ref string, plugins bool) error {
	p := filepath.Join(dir, ref)
	if c.fsys.IsDir(p) {
		return c.visit(p, plugins)
	}
	if !plugins {
		return nil
	}
	data, err := c.fsys.ReadFile(p)
	if isYAMLError(err) {
		return &BuildError{Path: relPath(c.fsys.root, p), Err: err}
	}
	if err != nil {
		return nil // kustomize reports it
	}
	return checkPluginConfig(relPath(c.fsys.root, p), data)
}

// plugin checks an entry of generators, transformers or validators: a plugin configuration
// written inline, a file of them, or a kustomization that builds them.
func (c *refChecker) plugin(dir, file, entry string) error {
	if strings.Contains(entry, "\n") {
		return checkPluginConfig(file, []byte(entry))
	}
	if isRemote(entry) {
		return remoteError(file, "generators, transformers or validators", entry)
	}
	return c.local(dir, entry, true)
}

// refs checks the references of one kustomization file.
type refs struct{ file string }

func (r *refs) check(k *types.Kustomization) error {
	if err := r.checkInline(k); err != nil {
		return err
	}
	json6902, strategicMerge := legacyPatches(k)
	if len(k.HelmCharts) > 0 || k.HelmGlobals != nil {
		return &BuildError{Path: r.file, Err: fmt.Errorf("helmCharts are not supported: kustomize's Helm chart " +
			"inflation runs the helm binary, which Flux's kustomize-controller does not allow either; " +
			"deploy the chart with a HelmRelease instead")}
	}
	fields := []struct {
		name  string
		paths []string
	}{
		{"resources", k.Resources},
		{"components", k.Components},
		{"crds", k.Crds},
		{"configurations", k.Configurations},
		{"patches", patchPaths(k.Patches)},
		{"patchesJson6902", patchPaths(json6902)},
		{"patchesStrategicMerge", strategicMergePaths(strategicMerge)},
		{"replacements", replacementPaths(k.Replacements)},
		{"configMapGenerator", generatorPaths(configMapSources(k.ConfigMapGenerator))},
		{"secretGenerator", generatorPaths(secretSources(k.SecretGenerator))},
		{"openapi", []string{k.OpenAPI["path"]}},
	}
	for _, f := range fields {
		for _, p := range f.paths {
			if isRemote(p) {
				return remoteError(r.file, f.name, p)
			}
		}
	}
	return nil
}

// checkInline checks the YAML that k holds as strings, which kustomize parses: inline patches
// (spec.patches among them) and inline plugin configurations.
func (r *refs) checkInline(k *types.Kustomization) error {
	json6902, strategicMerge := legacyPatches(k)
	var inline []string
	for _, p := range append(slices.Clone(k.Patches), json6902...) {
		inline = append(inline, p.Patch)
	}
	for _, p := range strategicMerge {
		inline = append(inline, string(p))
	}
	for _, list := range [][]string{k.Generators, k.Transformers, k.Validators} {
		inline = append(inline, list...)
	}
	for _, text := range inline {
		if err := checkAliases([]byte(text)); err != nil {
			return &BuildError{Path: r.file, Err: fmt.Errorf("an inline patch or plugin configuration cannot be built: %w; remove the alias (write the value out)", err)}
		}
	}
	return nil
}

// legacyPatches returns the patches of k's deprecated fields, which kustomize still applies.
func legacyPatches(k *types.Kustomization) ([]types.Patch, []types.PatchStrategicMerge) {
	//lint:ignore SA1019 kustomize still applies patchesJson6902 and patchesStrategicMerge, so they are checked too.
	return k.PatchesJson6902, k.PatchesStrategicMerge
}

func remoteError(file, field, ref string) error {
	return &BuildError{Path: file, Err: fmt.Errorf("remote bases are not allowed: %s entry '%s' is a URL; "+
		"the build reads only the source artifact: copy what it refers to into the source, or reconcile "+
		"it with its own GitRepository (or OCIRepository) and Kustomization", field, ref)}
}

func patchPaths(patches []types.Patch) []string {
	var paths []string
	for _, p := range patches {
		paths = append(paths, p.Path)
	}
	return paths
}

// strategicMergePaths returns the entries that are paths: an inline patch spans lines.
func strategicMergePaths(patches []types.PatchStrategicMerge) []string {
	var paths []string
	for _, p := range patches {
		if !strings.Contains(string(p), "\n") {
			paths = append(paths, string(p))
		}
	}
	return paths
}

func replacementPaths(replacements []types.ReplacementField) []string {
	var paths []string
	for _, r := range replacements {
		paths = append(paths, r.Path)
	}
	return paths
}

func configMapSources(args []types.ConfigMapArgs) []types.KvPairSources {
	var s []types.KvPairSources
	for _, a := range args {
		s = append(s, a.KvPairSources)
	}
	return s
}

func secretSources(args []types.SecretArgs) []types.KvPairSources {
	var s []types.KvPairSources
	for _, a := range args {
		s = append(s, a.KvPairSources)
	}
	return s
}

// generatorPaths returns the files a generator reads: files (each "path" or "key=path") and envs.
func generatorPaths(sources []types.KvPairSources) []string {
	var paths []string
	for _, s := range sources {
		for _, f := range s.FileSources {
			paths = append(paths, f)
			if _, p, found := strings.Cut(f, "="); found {
				paths = append(paths, p)
			}
		}
		paths = append(paths, s.EnvSources...)
		paths = append(paths, s.EnvSource)
	}
	return paths
}

// pluginPathKeys are the fields of kustomize's builtin plugins whose values are paths the plugin
// loads: PatchTransformer's path, ReplacementTransformer's replacements[].path, the generators'
// files and envs, ValueAddTransformer's targetFilePath.
var pluginPathKeys = map[string]bool{
	"path": true, "paths": true, "files": true, "envs": true, "env": true, "targetFilePath": true,
	"valuesFile": true, "additionalValuesFiles": true,
}

// checkPluginConfig refuses plugins that are not kustomize's builtins (exec, Go and KRM function
// plugins run code from the artifact; Flux disables them too), Helm chart inflation, and remote
// paths in the builtins' configurations. Configurations that do not parse are left to kustomize,
// which reports them.
func checkPluginConfig(file string, data []byte) error {
	if err := checkAliases(data); err != nil {
		return &BuildError{Path: file, Err: err}
	}
	nodes, err := kio.FromBytes(data)
	if err != nil {
		return nil
	}
	for _, n := range nodes {
		if n.GetApiVersion() != konfig.BuiltinPluginApiVersion {
			return &BuildError{Path: file, Err: fmt.Errorf("plugin '%s' (apiVersion '%s') is not one of kustomize's builtin "+
				"plugins: exec, Go and KRM function plugins are disabled, as in Flux; use the builtin generators and "+
				"transformers (apiVersion: builtin)", n.GetKind(), n.GetApiVersion())}
		}
		if n.GetKind() == "HelmChartInflationGenerator" {
			r := &refs{file: file}
			return r.check(&types.Kustomization{HelmCharts: []types.HelmChart{{}}})
		}
		if ref := remoteIn(n.YNode(), false); ref != "" {
			return remoteError(file, "a plugin configuration's path", ref)
		}
	}
	return nil
}

// remoteIn returns the first remote path under node, in the values of pluginPathKeys.
func remoteIn(node *yaml.Node, isPath bool) string {
	if node == nil {
		return ""
	}
	switch node.Kind {
	case yaml.ScalarNode:
		if isPath && isRemote(node.Value) {
			return node.Value
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			if ref := remoteIn(node.Content[i+1], pluginPathKeys[node.Content[i].Value]); ref != "" {
				return ref
			}
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, child := range node.Content {
			if ref := remoteIn(child, isPath); ref != "" {
				return ref
			}
		}
	}
	return ""
}

// kustomizationFile returns the path of dir's kustomization file, or "" when it has none.
func kustomizationFile(fsys *confinedFS, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if fsys.Exists(p) && !fsys.IsDir(p) {
			return p
		}
	}
	return ""
}
