package imageupdateautomation

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"k8s.io/apimachinery/pkg/types"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/setters"
)

// DefaultMessageTemplate is Flux's commit message when spec.git.commit.messageTemplate is empty.
const DefaultMessageTemplate = "Update from image update automation"

// TemplateData is what a commit message template is given, as in Flux's image-automation v1:
// `.AutomationObject` (namespace/name), `.Changed` (`.FileChanges`, `.Objects`, `.Changes`),
// and `.Values` (spec.git.commit.messageTemplateValues).
type TemplateData struct {
	AutomationObject types.NamespacedName
	Changed          setters.Result
	Values           map[string]string
}

// removedFields are the template fields Flux removed, and the part of text/template's error that
// names each.
var removedFields = []struct{ field, evaluating, instead string }{
	{".Updated", "can't evaluate field Updated", "'.Changed'"},
	{".Changed.ImageResult", "can't evaluate field ImageResult", "'.Changed.FileChanges' or '.Changed.Objects'"},
}

// templateFuncs are the functions a commit message template may call besides text/template's
// builtins: sprig's hermetic text functions, as Flux offers them (no env, expandenv, random or
// time-dependent functions, so the same changes give the same message).
var templateFuncs = sprig.HermeticTxtFuncMap()

// parseTemplate parses spec.git.commit.messageTemplate: a template that does not parse stalls
// the automation until its spec changes.
func parseTemplate(text string) (*template.Template, error) {
	if text == "" {
		text = DefaultMessageTemplate
	}
	t, err := template.New("commit message").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return nil, status.Stall(imagev1.GitOperationFailedReason, fmt.Errorf("spec.git.commit.messageTemplate is not a Go template: %w", err))
	}
	return t, nil
}

// renderMessage renders the commit message; a template that fails on the data stalls the
// automation, with RemovedTemplateField when it uses a field Flux removed.
func renderMessage(t *template.Template, data TemplateData) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		for _, r := range removedFields {
			if strings.Contains(err.Error(), r.evaluating) {
				return "", status.Stall(imagev1.RemovedTemplateFieldReason, fmt.Errorf(
					"spec.git.commit.messageTemplate uses the removed field '%s': use %s instead (https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template)", r.field, r.instead))
			}
		}
		return "", status.Stall(imagev1.GitOperationFailedReason, fmt.Errorf("spec.git.commit.messageTemplate does not render: %w", err))
	}
	return b.String(), nil
}
