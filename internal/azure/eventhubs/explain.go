package eventhubs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// RoleDataSender is the role that lets an Entra identity send events to an event hub.
const RoleDataSender = "Azure Event Hubs Data Sender"

// described is what *entra.Credential offers to name its identity; other credentials work without.
type described interface {
	String() string
	ClientID() string
}

// refusal is Event Hubs' refusal of a SAS key or a static token, explained.
type refusal struct {
	msg string
	err error
}

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return r.err }

// sendError is a failure that is not a refusal; a lost connection may pass.
type sendError struct {
	err       error
	temporary bool
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// Temporary is true for a lost connection, which a later attempt may not meet.
func (e *sendError) Temporary() bool { return e.temporary }

// Explain turns Event Hubs' refusal (azeventhubs.ErrorCodeUnauthorizedAccess: amqp:unauthorized-access
// on the link, or a put-token answered 401) into what to do about it: for an Entra identity an
// *entra.RoleError for Azure Event Hubs Data Sender on the namespace, with the az command; for
// a SAS key or a static token, what to check. Other errors are returned with the hub named; nil
// stays nil.
func Explain(err error, cred azcore.TokenCredential, t Target) error {
	if err == nil {
		return nil
	}
	var ehErr *azeventhubs.Error
	if !errors.As(err, &ehErr) || ehErr.Code != azeventhubs.ErrorCodeUnauthorizedAccess {
		return &sendError{err: fmt.Errorf("event hub %s/%s: %w", t.Host, t.Hub, err),
			temporary: ehErr != nil && ehErr.Code == azeventhubs.ErrorCodeConnectionLost}
	}
	namespace, _, _ := strings.Cut(t.Host, ".")
	d, ok := cred.(described)
	if !ok || d.ClientID() == "" {
		what := "the SAS key of the connection string"
		if _, static := cred.(StaticToken); static {
			what = "the static token of the Provider's secret"
		}
		return &refusal{err: err, msg: fmt.Sprintf("event hub %s/%s refused %s: check that its shared access policy has the Send right on the hub or the namespace, "+
			"that the key is current (az eventhubs eventhub authorization-rule keys list --namespace-name %s --eventhub-name %s --resource-group <group> --name <rule>), "+
			"and that the token has not expired", t.Host, t.Hub, what, namespace, t.Hub)}
	}
	return &entra.RoleError{
		Identity:  d.String(),
		ClientID:  d.ClientID(),
		Role:      RoleDataSender,
		Scope:     fmt.Sprintf("$(az eventhubs namespace list --query \"[?name=='%s'].id\" --output tsv)", namespace),
		ScopeName: fmt.Sprintf("the event hub %s of namespace %s, or the namespace", t.Hub, namespace),
		Service:   fmt.Sprintf("Event Hubs %s (sending to %s)", t.Host, t.Hub),
	}
}
