package kustomization

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/internal/apply"
	"github.com/azimuth-gitops/azimuth/internal/celenv"
	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// healthVariables are the variables of a health expression: the object's top-level fields.
var healthVariables = []string{"apiVersion", "kind", "metadata", "spec", "status"}

// healthEnv is the environment every expression of spec.healthCheckExprs is compiled in.
var healthEnv = sync.OnceValues(func() (*cel.Env, error) {
	opts := celenv.Options()
	for _, v := range healthVariables {
		opts = append(opts, cel.Variable(v, cel.DynType))
	}
	return cel.NewEnv(opts...)
})

// healthRule is one entry of spec.healthCheckExprs, compiled: its expressions in the order
// they are tried.
type healthRule struct {
	exprs []healthExpr
}

type healthExpr struct {
	field  string        // inProgress, failed or current
	status status.Status // what the object is when the expression is true
	source string
	prog   cel.Program
}

// healthChecker returns the apply.Options.Health of obj's spec.healthCheckExprs, nil when it
// has none, or the error of the first expression that does not compile.
func healthChecker(obj *kustomizev1.Kustomization) (apply.HealthFunc, error) {
	if len(obj.Spec.HealthCheckExprs) == 0 {
		return nil, nil
	}
	env, err := healthEnv()
	if err != nil {
		return nil, fmt.Errorf("the CEL environment of spec.healthCheckExprs: %w", err)
	}
	rules := map[schema.GroupKind]*healthRule{}
	for i, hc := range obj.Spec.HealthCheckExprs {
		gv, err := schema.ParseGroupVersion(hc.APIVersion)
		if err != nil {
			return nil, fmt.Errorf("spec.healthCheckExprs[%d].apiVersion '%s': %w", i, hc.APIVersion, err)
		}
		rule := &healthRule{}
		for _, e := range []struct {
			field, source string
			status        status.Status
		}{
			{"inProgress", hc.InProgress, status.InProgressStatus},
			{"failed", hc.Failed, status.FailedStatus},
			{"current", hc.Current, status.CurrentStatus},
		} {
			if e.source == "" {
				continue
			}
			prog, err := compileHealthExpr(env, e.source)
			if err != nil {
				return nil, fmt.Errorf("spec.healthCheckExprs[%d].%s %q %w: fix the expression", i, e.field, clip.String(e.source, 200), err)
			}
			rule.exprs = append(rule.exprs, healthExpr{field: e.field, status: e.status, source: e.source, prog: prog})
		}
		rules[schema.GroupKind{Group: gv.Group, Kind: hc.Kind}] = rule
	}
	return func(u *unstructured.Unstructured) (*status.Result, bool) {
		rule := rules[u.GroupVersionKind().GroupKind()]
		if rule == nil {
			return nil, false
		}
		return rule.evaluate(u), true
	}, nil
}

// compiledHealth keeps the programs of the expressions compiled so far, by their source:
// healthChecker runs at every reconcile, and compiling costs far more than evaluating. The
// sources are users', so the cache is bounded: it starts over past maxCompiledHealth.
var compiledHealth = struct {
	sync.Mutex
	progs map[string]cel.Program
}{progs: map[string]cel.Program{}}

const maxCompiledHealth = 1000

// compileHealthExpr is the program of source, compiled in env or kept from an earlier call.
func compileHealthExpr(env *cel.Env, source string) (cel.Program, error) {
	compiledHealth.Lock()
	prog, ok := compiledHealth.progs[source]
	compiledHealth.Unlock()
	if ok {
		return prog, nil
	}
	prog, err := compileHealth(env, source)
	if err != nil {
		return nil, err
	}
	compiledHealth.Lock()
	if len(compiledHealth.progs) >= maxCompiledHealth {
		clear(compiledHealth.progs)
	}
	compiledHealth.progs[source] = prog
	compiledHealth.Unlock()
	return prog, nil
}

func compileHealth(env *cel.Env, source string) (cel.Program, error) {
	ast, issues := env.Compile(source)
	if issues != nil && issues.Err() != nil {
		var msgs []string
		for _, e := range issues.Errors() {
			msgs = append(msgs, fmt.Sprintf("%d:%d: %s", e.Location.Line(), e.Location.Column()+1, e.Message))
		}
		return nil, fmt.Errorf("does not compile: %s", strings.Join(msgs, "; "))
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("is of type %s, not bool", t)
	}
	return env.Program(ast,
		cel.EvalOptions(cel.OptOptimize),
		cel.InterruptCheckFrequency(100),
		// An expression runs on every poll of every object of its kind: bound its work.
		cel.CostLimit(1_000_000))
}

// evaluate is u's status by the rule: the first expression that is true, else in progress.
func (r *healthRule) evaluate(u *unstructured.Unstructured) *status.Result {
	vars := make(map[string]any, len(healthVariables))
	for _, v := range healthVariables {
		if val, ok := u.Object[v]; ok && val != nil {
			vars[v] = val
		} else {
			vars[v] = map[string]any{}
		}
	}
	for _, e := range r.exprs {
		val, _, err := e.prog.ContextEval(context.Background(), vars)
		if err != nil {
			if isMissingField(err) {
				continue // a field the object does not have yet: false
			}
			return &status.Result{Status: status.FailedStatus,
				Message: fmt.Sprintf("spec.healthCheckExprs %s %q failed to evaluate: %v", e.field, clip.String(e.source, 200), err)}
		}
		b, ok := val.Value().(bool)
		if !ok {
			return &status.Result{Status: status.FailedStatus,
				Message: fmt.Sprintf("spec.healthCheckExprs %s %q evaluated to a %s, not a bool", e.field, clip.String(e.source, 200), val.Type().TypeName())}
		}
		if b {
			return &status.Result{Status: e.status, Message: fmt.Sprintf("spec.healthCheckExprs %s is true: %s", e.field, clip.String(e.source, 200))}
		}
	}
	return &status.Result{Status: status.InProgressStatus, Message: "no expression of spec.healthCheckExprs is true yet"}
}

// isMissingField: CEL's error for a field or key the object lacks, which it reports only in
// its message.
func isMissingField(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such key") || strings.Contains(msg, "no such attribute")
}
