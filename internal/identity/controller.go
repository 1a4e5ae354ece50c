package identity

import (
	"fmt"
	"strings"
)

// controller returns the controller's own identity, from its environment as azidentity reads it.
// Like Flux, it takes the first source that is configured and uses it alone, so the outcome is
// predictable: an application (AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH), else
// workload identity (AZURE_FEDERATED_TOKEN_FILE), else the node's managed identity.
func (r *Resolver) controller() (Identity, error) {
	env := func(k string) string { v, _ := r.opts.LookupEnv(k); return strings.TrimSpace(v) }
	tenant, client, authority := env("AZURE_TENANT_ID"), env("AZURE_CLIENT_ID"), env("AZURE_AUTHORITY_HOST")
	id := Identity{Level: ControllerLevel, TenantID: tenant, ClientID: client, AuthorityHost: authority, Source: "the controller's environment"}
	if err := checkAuthorityHost(authority); err != nil {
		return Identity{}, fmt.Errorf("environment variable AZURE_AUTHORITY_HOST %s", err)
	}
	needApp := func(what string) error {
		if tenant == "" || client == "" {
			return fmt.Errorf("%s is set, so the controller authenticates as an application, but AZURE_TENANT_ID and AZURE_CLIENT_ID must be set too", what)
		}
		return nil
	}
	switch {
	case env("AZURE_CLIENT_SECRET") != "":
		if err := needApp("AZURE_CLIENT_SECRET"); err != nil {
			return Identity{}, err
		}
		id.Kind, id.Secret.ClientSecret = ClientSecret, env("AZURE_CLIENT_SECRET")
	case env("AZURE_CLIENT_CERTIFICATE_PATH") != "":
		if err := needApp("AZURE_CLIENT_CERTIFICATE_PATH"); err != nil {
			return Identity{}, err
		}
		id.Kind, id.CertificatePath = ClientCertificate, env("AZURE_CLIENT_CERTIFICATE_PATH")
		id.Secret.CertificatePassword = env("AZURE_CLIENT_CERTIFICATE_PASSWORD")
		switch strings.ToLower(env("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN")) {
		case "1", "true":
			id.Secret.SendCertificateChain = true
		}
	case env("AZURE_FEDERATED_TOKEN_FILE") != "":
		if err := needApp("AZURE_FEDERATED_TOKEN_FILE"); err != nil {
			return Identity{}, err
		}
		id.Kind, id.TokenFile = ControllerWorkloadIdentity, env("AZURE_FEDERATED_TOKEN_FILE")
	default:
		id.Kind, id.Source = NodeManagedIdentity, "the node (IMDS)"
		id.TenantID = ""
	}
	return id, nil
}
