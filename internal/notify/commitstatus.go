package notify

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	"github.com/azimuth-gitops/azimuth/internal/celenv"
	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// A Provider's spec.commitStatusExpr is a CEL expression that names its commit statuses in place
// of kind/name/UID prefix, as in Flux's notification-controller (v1.6 and later). It sees three
// variables, each the JSON form of an object as Flux builds them (Kubernetes' unstructured
// conversion, so that integers stay integers): event, the event as the Alert delivers it (Flux's
// event API: involvedObject, severity, timestamp, message, reason, metadata with the Alert's
// spec.eventMetadata and spec.summary merged and the prefixes removed, reportingController,
// reportingInstance); alert, the Alert; provider, the Provider. The environment is Flux's: the
// variables are google.protobuf.Struct, with CEL's optional types and the strings, sets and
// encoders extensions; the expression must be of type string when it is checked.

// celEnv is the environment every commitStatusExpr is compiled in.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(append(celenv.Options(),
		ext.Encoders(),
		cel.Variable("event", cel.ObjectType("google.protobuf.Struct")),
		cel.Variable("alert", cel.ObjectType("google.protobuf.Struct")),
		cel.Variable("provider", cel.ObjectType("google.protobuf.Struct")),
	)...)
})

// statusExpr is a Provider's commitStatusExpr compiled for one generation of the Provider: a
// program, or the reason it does not compile.
type statusExpr struct {
	uid        types.UID
	generation int64
	expr       string
	prog       cel.Program
	err        error
}

// statusExprs caches the compiled expressions by Provider, so that an expression is compiled once
// per generation of its Provider rather than once per event.
type statusExprs struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*statusExpr
}

// compiled returns p's expression compiled, compiling it when p is new or has changed.
func (c *statusExprs) compiled(p *notificationv1.Provider) (*statusExpr, error) {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.m[key]
	if x == nil || x.uid != p.UID || x.generation != p.Generation || x.expr != p.Spec.CommitStatusExpr {
		x = compileStatusExpr(p)
		if c.m == nil {
			c.m = map[types.NamespacedName]*statusExpr{}
		}
		c.m[key] = x
	}
	return x, x.err
}

// forget drops the Provider's entry, when its queue ends.
func (c *statusExprs) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

func compileStatusExpr(p *notificationv1.Provider) *statusExpr {
	x := &statusExpr{uid: p.UID, generation: p.Generation, expr: p.Spec.CommitStatusExpr}
	fail := func(format string, args ...any) *statusExpr {
		x.err = terminalError{fmt.Errorf("spec.commitStatusExpr of provider '%s/%s' %s: no commit status is posted until the Provider is fixed",
			p.Namespace, p.Name, fmt.Sprintf(format, args...))}
		return x
	}
	env, err := celEnv()
	if err != nil {
		return fail("can't be compiled: the CEL environment: %v", err)
	}
	ast, issues := env.Compile(x.expr)
	if issues != nil && issues.Err() != nil {
		var msgs []string
		for _, e := range issues.Errors() {
			msgs = append(msgs, fmt.Sprintf("%d:%d: %s", e.Location.Line(), e.Location.Column()+1, e.Message))
		}
		return fail("%q does not compile: %s", clip.String(x.expr, 200), strings.Join(msgs, "; "))
	}
	if t := ast.OutputType(); !t.IsExactType(cel.StringType) {
		return fail("%q is of type %s, not string (as in Flux, the expression's type must be string: wrap a field in string())",
			clip.String(x.expr, 200), t)
	}
	prog, err := env.Program(ast,
		cel.EvalOptions(cel.OptOptimize),
		// Kubernetes' default: how often a comprehension checks that the context is not done.
		cel.InterruptCheckFrequency(100))
	if err != nil {
		return fail("%q can't be programmed: %v", clip.String(x.expr, 200), err)
	}
	x.prog = prog
	return x
}

// eval names the commit status of e, delivered by alert through p.
func (x *statusExpr) eval(ctx context.Context, e *Event, alert *notificationv1.Alert, p *notificationv1.Provider) (string, error) {
	vars, err := statusExprVars(e, alert, p)
	if err != nil {
		return "", terminalf("spec.commitStatusExpr of provider '%s/%s': %v", p.Namespace, p.Name, err)
	}
	fail := func(format string, args ...any) (string, error) {
		return "", terminalf("spec.commitStatusExpr of provider '%s/%s': %q %s: no commit status is posted",
			p.Namespace, p.Name, clip.String(x.expr, 200), fmt.Sprintf(format, args...))
	}
	val, _, err := x.prog.ContextEval(ctx, vars)
	if err != nil {
		if ctx.Err() != nil {
			// Interrupted by the Provider's timeout: reported as a timeout, as a slow endpoint is.
			return "", fmt.Errorf("%w: spec.commitStatusExpr of provider '%s/%s': %v", ctx.Err(), p.Namespace, p.Name, err)
		}
		return fail("failed to evaluate: %v", err)
	}
	s, ok := val.(celtypes.String)
	if !ok {
		return fail("evaluated to a %s, not a string", val.Type().TypeName())
	}
	if s == "" {
		return fail("evaluated to an empty string")
	}
	return string(s), nil
}

// statusExprVars are the variables of a commitStatusExpr, in the shapes Flux gives them.
func statusExprVars(e *Event, alert *notificationv1.Alert, p *notificationv1.Provider) (map[string]any, error) {
	event, err := runtime.DefaultUnstructuredConverter.ToUnstructured(e)
	if err != nil {
		return nil, fmt.Errorf("failed to convert event to map: %w", err)
	}
	// The objects as the API serves them, with their apiVersion and kind.
	a := alert.DeepCopy()
	a.SetGroupVersionKind(notificationv1.GroupVersion.WithKind("Alert"))
	alertMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(a)
	if err != nil {
		return nil, fmt.Errorf("failed to convert alert object to map: %w", err)
	}
	pr := p.DeepCopy()
	pr.SetGroupVersionKind(notificationv1.GroupVersion.WithKind("Provider"))
	providerMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pr)
	if err != nil {
		return nil, fmt.Errorf("failed to convert provider object to map: %w", err)
	}
	return map[string]any{"event": event, "alert": alertMap, "provider": providerMap}, nil
}
