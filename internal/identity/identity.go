package identity

import (
	"context"
	"fmt"
)

// Kind says how an identity proves itself to Entra ID.
type Kind int

const (
	// WorkloadIdentity is object-level workload identity: a service account in the object's
	// namespace whose Kubernetes token is exchanged for an Entra token.
	WorkloadIdentity Kind = iota + 1
	// ClientCertificate is an application that signs an assertion with its certificate.
	ClientCertificate
	// ClientSecret is an application with a client secret.
	ClientSecret
	// ManagedIdentity is a user-assigned managed identity of the node, chosen by client ID in
	// the object's secret.
	ManagedIdentity
	// ControllerWorkloadIdentity is the controller pod's own federated token file
	// (AZURE_FEDERATED_TOKEN_FILE), as the AKS webhook or a projected token provides it.
	ControllerWorkloadIdentity
	// NodeManagedIdentity is the node's managed identity: system-assigned, or the user-assigned
	// one AZURE_CLIENT_ID selects.
	NodeManagedIdentity
)

func (k Kind) String() string {
	switch k {
	case WorkloadIdentity:
		return "workload identity"
	case ClientCertificate:
		return "application certificate"
	case ClientSecret:
		return "client secret"
	case ManagedIdentity:
		return "managed identity"
	case ControllerWorkloadIdentity:
		return "controller workload identity"
	case NodeManagedIdentity:
		return "node managed identity"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Level says whose identity it is.
type Level int

const (
	// ObjectLevel identities come from the object's own namespace.
	ObjectLevel Level = iota + 1
	// ControllerLevel identities come from the controller's environment, or its node.
	ControllerLevel
)

// Identity is who is asking, with what it needs to get tokens. Its printed form names the
// identity and where it came from, never secret material.
type Identity struct {
	Kind  Kind
	Level Level
	// Source says where the identity was found, for messages: "service account
	// tenant-a/source", "secret tenant-a/azure-app", "controller environment".
	Source string

	// Namespace is the object's namespace, for object-level identities.
	Namespace string
	// ServiceAccount is the service account's name, for WorkloadIdentity.
	ServiceAccount string
	// Audiences are the audiences of ServiceAccount's tokens when not api://AzureADTokenExchange.
	Audiences []string

	TenantID string
	ClientID string
	// AuthorityHost is the Entra ID authority, such as https://login.microsoftonline.us/;
	// empty means the public cloud.
	AuthorityHost string

	// Secret holds the material of ClientSecret and ClientCertificate identities.
	Secret Secret
	// TokenFile is the controller's federated token file, for ControllerWorkloadIdentity.
	TokenFile string
	// CertificatePath is the controller's certificate file, for a controller-level
	// ClientCertificate read from the environment (re-read on every fetch, so rotation works).
	CertificatePath string

	// Assertion returns a fresh Kubernetes token for a WorkloadIdentity, from TokenRequest.
	Assertion func(ctx context.Context) (string, error)
}

// String describes the identity for messages and diagnostics.
func (id Identity) String() string {
	var who string
	switch id.Kind {
	case NodeManagedIdentity:
		who = "the node's managed identity"
		if id.ClientID != "" {
			who = fmt.Sprintf("the node's managed identity with client ID %s", id.ClientID)
		}
	default:
		who = fmt.Sprintf("%s (client ID %s", id.Kind, id.ClientID)
		if id.TenantID != "" {
			who += ", tenant " + id.TenantID
		}
		who += ")"
	}
	if id.Source != "" {
		who += " from " + id.Source
	}
	return who
}

// Secret is secret material. Every printed form of it is redacted, so an Identity can be
// logged or put in an error whole.
type Secret struct {
	ClientSecret         string
	Certificate          []byte // PEM or PKCS#12
	CertificatePassword  string
	SendCertificateChain bool
}

// String hides the material.
func (Secret) String() string { return "[redacted]" }

// GoString hides the material from %#v.
func (Secret) GoString() string { return "identity.Secret{[redacted]}" }

// Format hides the material from every verb.
func (Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted]") }
