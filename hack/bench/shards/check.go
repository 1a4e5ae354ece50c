package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

const pollEvery = time.Second

// snapshot is every OCIRepository and Kustomization of the cluster.
type snapshot struct {
	sources []sourcev1.OCIRepository
	kusts   []kustomizev1.Kustomization
}

// take lists both kinds; cached reads from the API server's watch cache (resourceVersion 0)
// while polling, so that the poll weighs little on what it measures.
func take(ctx context.Context, c client.Client, cached bool) (snapshot, error) {
	var opts []client.ListOption
	if cached {
		opts = append(opts, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: "0"}})
	}
	var ol sourcev1.OCIRepositoryList
	var kl kustomizev1.KustomizationList
	if err := c.List(ctx, &ol, opts...); err != nil {
		return snapshot{}, err
	}
	if err := c.List(ctx, &kl, opts...); err != nil {
		return snapshot{}, err
	}
	return snapshot{sources: ol.Items, kusts: kl.Items}, nil
}

// ready counts the objects (decoys apart) that are Ready, and describes one that is not.
func (s snapshot) ready() (n int, notReady string) {
	count := func(labels map[string]string, conds []metav1.Condition, what string) {
		if labels[shardLabel] == decoyShard {
			return
		}
		if apimeta.IsStatusConditionTrue(conds, meta.ReadyCondition) {
			n++
		} else if notReady == "" {
			notReady = what
			if r := apimeta.FindStatusCondition(conds, meta.ReadyCondition); r != nil {
				notReady += fmt.Sprintf(": Ready=%s %s: %s", r.Status, r.Reason, r.Message)
			}
		}
	}
	for _, o := range s.sources {
		count(o.Labels, o.Status.Conditions, "OCIRepository "+o.Namespace+"/"+o.Name)
	}
	for _, k := range s.kusts {
		count(k.Labels, k.Status.Conditions, "Kustomization "+k.Namespace+"/"+k.Name)
	}
	return n, notReady
}

// waitReady polls until the workload's objects are all Ready and returns when they were seen
// so (within pollEvery of the last becoming Ready).
func waitReady(ctx context.Context, c client.Client, w workload, ms []*shardManager, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	lastLog := time.Time{}
	for {
		s, err := take(ctx, c, true)
		if err != nil {
			return err
		}
		n, notReady := s.ready()
		if n == w.objects {
			return nil
		}
		if time.Since(lastLog) >= 10*time.Second {
			logf("Ready: %d/%d; e.g. not %s", n, w.objects, notReady)
			lastLog = time.Now()
		}
		for _, m := range ms {
			if err := m.Alive(); err != nil {
				return fmt.Errorf("manager %s: %w", m.name, err)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d objects Ready after %s; e.g. not %s", n, w.objects, timeout, notReady)
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return err
		}
	}
}

// check verifies what one run did, once everything is Ready: every object was reconciled by
// the one manager whose selector selects it (an OCIRepository's artifact URL names that
// manager's server and its storage alone holds the artifact), every Kustomization applied its
// source's revision (fetched from the other shard) and its ConfigMap exists, and the decoys,
// which no manager selects, were left untouched; no manager's log names a reconcile of an
// object it does not select. It returns what is wrong, and how many objects the logs name.
func check(ctx context.Context, c client.Client, w workload, l layout, ms []*shardManager) (problems []string, logged int, err error) {
	s, err := take(ctx, c, false)
	if err != nil {
		return nil, 0, err
	}
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// stored[i] holds the artifact directories manager i should hold.
	stored := make([]map[string]bool, len(ms))
	for i := range stored {
		stored[i] = map[string]bool{}
	}
	revisions := map[string]string{} // namespace/name of each OCIRepository → its revision
	for _, o := range s.sources {
		id := "OCIRepository " + o.Namespace + "/" + o.Name
		owner, err := ownerOf(l, o.Labels)
		if err != nil {
			add("%s: %v", id, err)
			continue
		}
		if owner < 0 {
			if len(o.Status.Conditions) > 0 || len(o.Finalizers) > 0 || o.Status.Artifact != nil {
				add("%s, selected by no manager, was reconciled: finalizers %v, conditions %v", id, o.Finalizers, o.Status.Conditions)
			}
			continue
		}
		m, a := ms[owner], o.Status.Artifact
		if a == nil {
			add("%s has no artifact", id)
			continue
		}
		revisions[o.Namespace+"/"+o.Name] = a.Revision
		if !strings.HasPrefix(a.URL, "http://"+m.addr+"/") {
			add("%s of %s: artifact URL %s does not name its manager %s's server %s", id, o.Labels[shardLabel], a.URL, m.name, m.addr)
		}
		if _, err := os.Stat(filepath.Join(m.storage, filepath.FromSlash(a.Path))); err != nil {
			add("%s: its artifact is not in manager %s's storage: %v", id, m.name, err)
		}
		stored[owner][path.Dir(a.Path)] = true
	}
	for i, m := range ms {
		for _, dir := range storedDirs(m.storage) {
			if !stored[i][dir] {
				add("manager %s (%q) stores %s, an artifact of an object it does not select", m.name, m.selector, dir)
			}
		}
	}
	problems = append(problems, checkKustomizations(ctx, c, w, l, s.kusts, revisions)...)
	logs := make([]string, len(ms))
	for i, m := range ms {
		logs[i] = m.Log()
	}
	logProblems, seen, err := checkLogs(s, l, logs)
	if err != nil {
		return nil, 0, err
	}
	return append(problems, logProblems...), seen, nil
}

func checkKustomizations(ctx context.Context, c client.Client, w workload, l layout, kusts []kustomizev1.Kustomization, revisions map[string]string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	configMaps := map[string]bool{}
	for i := range w.namespaces {
		var l corev1.ConfigMapList
		if err := c.List(ctx, &l, client.InNamespace(w.namespace(i))); err != nil {
			return append(problems, err.Error())
		}
		for _, cm := range l.Items {
			configMaps[cm.Namespace+"/"+cm.Name] = true
		}
	}
	for _, k := range kusts {
		id := "Kustomization " + k.Namespace + "/" + k.Name
		owner, err := ownerOf(l, k.Labels)
		switch {
		case err != nil:
			add("%s: %v", id, err)
		case owner < 0:
			if len(k.Status.Conditions) > 0 || len(k.Finalizers) > 0 {
				add("%s, selected by no manager, was reconciled: finalizers %v, conditions %v", id, k.Finalizers, k.Status.Conditions)
			}
		case k.Status.LastAppliedRevision != revisions[k.Namespace+"/"+k.Spec.SourceRef.Name]:
			add("%s applied revision %q, its source's is %q", id, k.Status.LastAppliedRevision, revisions[k.Namespace+"/"+k.Spec.SourceRef.Name])
		case !configMaps[k.Namespace+"/"+configMapName(k.Name)]:
			add("%s is Ready but its ConfigMap %s does not exist", id, configMapName(k.Name))
		}
	}
	return problems
}

// ownerOf is the one manager of l that selects an object with lbls, or -1 when none does.
func ownerOf(l layout, lbls map[string]string) (int, error) {
	owners, err := l.owners(lbls)
	switch {
	case err != nil:
		return 0, err
	case len(owners) > 1:
		return 0, fmt.Errorf("selected by %d managers: the selectors overlap", len(owners))
	case len(owners) == 0:
		return -1, nil
	}
	return owners[0], nil
}

// storedDirs lists the directories (relative, slash-separated) holding files in a storage.
func storedDirs(root string) []string {
	seen := map[string]bool{}
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err == nil && !seen[rel] {
			seen[rel] = true
			dirs = append(dirs, filepath.ToSlash(rel))
		}
		return nil
	})
	return dirs
}
