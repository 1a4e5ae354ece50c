package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/apply"
)

// The Kustomization whose objects these are: its labels are in the manifests, so that every side
// stores the same objects (Azimuth's apply would add them otherwise).
const ownerName, ownerNamespace = "bench", "flux-system"

// perFile objects to a manifest file, the shape of a large plain-manifests directory.
const perFile = 10

// mix is the kinds of the objects: of each 20, one Service (headless: the test cluster's
// service range holds 254 addresses), one ServiceAccount, one Role, and ConfigMaps.
func kindOf(i int) string {
	switch i % 20 {
	case 5:
		return "Service"
	case 10:
		return "ServiceAccount"
	case 15:
		return "Role"
	default:
		return "ConfigMap"
	}
}

// describeMix says what n objects are, for the report.
func describeMix(n int) string {
	count := map[string]int{}
	for i := range n {
		count[kindOf(i)]++
	}
	return fmt.Sprintf("%d ConfigMaps, %d Services, %d ServiceAccounts, %d Roles",
		count["ConfigMap"], count["Service"], count["ServiceAccount"], count["Role"])
}

// writeManifests writes n objects into dir as files of perFile objects, file f's objects in
// namespaces[f % len(namespaces)], with a kustomization.yaml listing the files (so that
// `kubectl kustomize` and `kubectl apply -k` build the same directory as Azimuth).
func writeManifests(dir string, n int, namespaces []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var files []string
	for f := 0; f*perFile < n; f++ {
		ns := namespaces[f%len(namespaces)]
		var b strings.Builder
		for i := f * perFile; i < min(n, (f+1)*perFile); i++ {
			if b.Len() > 0 {
				b.WriteString("---\n")
			}
			writeObject(&b, i, ns)
		}
		name := fmt.Sprintf("objects-%03d.yaml", f)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			return err
		}
		files = append(files, name)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
	for _, f := range files {
		k += "- " + f + "\n"
	}
	return os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644)
}

func writeObject(b *strings.Builder, i int, ns string) {
	kind := kindOf(i)
	name := fmt.Sprintf("%s-%04d", strings.ToLower(kind), i)
	apiVersion := "v1"
	if kind == "Role" {
		apiVersion = "rbac.authorization.k8s.io/v1"
	}
	fmt.Fprintf(b, `apiVersion: %s
kind: %s
metadata:
  name: %s
  namespace: %s
  labels:
    app.kubernetes.io/name: bench
    app.kubernetes.io/instance: %s
    %s: %s
    %s: %s
  annotations:
    bench.azimuth.dev/index: "%d"
`, apiVersion, kind, name, ns, name, apply.NameLabel, ownerName, apply.NamespaceLabel, ownerNamespace, i)
	switch kind {
	case "ConfigMap":
		fmt.Fprintf(b, `data:
  index: "%d"
  app.properties: |
    server.port=8080
    server.name=%s
    feature.alpha=true
    feature.beta=false
    cache.ttl=300s
    log.level=info
  payload: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`, i, name)
	case "Service":
		fmt.Fprintf(b, `spec:
  clusterIP: None
  selector:
    app.kubernetes.io/instance: %s
  ports:
  - name: http
    port: 80
    targetPort: 8080
`, name)
	case "ServiceAccount":
		b.WriteString("automountServiceAccountToken: false\n")
	case "Role":
		b.WriteString(`rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch"]
`)
	}
}
