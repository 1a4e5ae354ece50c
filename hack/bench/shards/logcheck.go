package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// reconcileLine is what controller-runtime adds to every line a reconcile logs: the kind and
// the object. The API server's warning about Flux's finalizer name is logged so once per
// object, when its reconciler adds the finalizer.
type reconcileLine struct {
	Kind      string `json:"controllerKind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// checkLogs reads the log of every manager of l (logs[i] is the i-th's) for the objects its
// reconciles logged: each must be one the manager's selector selects. It returns the problems
// and how many of the objects some log names (the check proves nothing of the others).
func checkLogs(s snapshot, l layout, logs []string) (problems []string, seen int, err error) {
	objLabels := map[string]map[string]string{}
	for _, o := range s.sources {
		objLabels["OCIRepository/"+o.Namespace+"/"+o.Name] = o.Labels
	}
	for _, k := range s.kusts {
		objLabels["Kustomization/"+k.Namespace+"/"+k.Name] = k.Labels
	}
	logged := map[string]bool{}
	for i, log := range logs {
		objects, err := reconciledIn(log)
		if err != nil {
			return nil, 0, err
		}
		for key := range objects {
			lbls, ok := objLabels[key]
			if !ok {
				continue // another kind, or an object of no interest here
			}
			logged[key] = true
			if owner, err := ownerOf(l, lbls); err != nil || owner != i {
				problems = append(problems, fmt.Sprintf("manager %s (%q) logged a reconcile of %s, labelled %s=%s", l.managerName(i), l.selectors[i], key, shardLabel, lbls[shardLabel]))
			}
		}
	}
	return problems, len(logged), nil
}

// reconciledIn returns the objects (Kind/namespace/name) the reconcile lines of a log name.
func reconciledIn(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	objects := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var line reconcileLine
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Kind == "" || line.Name == "" {
			continue
		}
		objects[line.Kind+"/"+line.Namespace+"/"+line.Name] = true
	}
	return objects, sc.Err()
}
