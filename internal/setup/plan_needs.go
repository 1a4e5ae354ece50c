package setup

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
	"github.com/azimuth-gitops/azimuth/internal/azure/eventhubs"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// Need is what one Flux object needs from Azure: the identity it acts as and the resource it
// reaches with it. NeedsOf reads it from the object's spec, as the controller does; doctor and
// plan share it.
type Need struct {
	// Object names the object, as "Kind namespace/name".
	Object    string
	Namespace string
	// ServiceAccount is the object's service account (spec.serviceAccountName, or
	// spec.decryption.serviceAccountName); empty means the controller's own identity.
	ServiceAccount string
	// Integration is acr, blob, keyvault, eventhubs or devops.
	Integration string
	// Resource is what the object reaches. A Kustomization's key is not in its spec: its
	// Resource is empty until the plan fills it from the SOPS metadata or --sops-key.
	Resource Resource
	// Group is the Azure DevOps group the identity needs (devops): Readers or Contributors.
	Group string
}

// ResourceKind is the kind of Azure resource a role is granted on.
type ResourceKind string

// The resources objects name, by their endpoints.
const (
	Registry        ResourceKind = "registry"        // NAME.azurecr.io
	StorageAccount  ResourceKind = "storage account" // NAME.blob.core.windows.net (Child: container)
	Vault           ResourceKind = "vault"           // NAME.vault.azure.net (Child: key)
	EventHubsSpace  ResourceKind = "event hubs namespace"
	DevOpsProject   ResourceKind = "azure devops project" // Organization/Project
	unknownResource ResourceKind = ""
)

// Resource is an Azure resource as an object names it: by its endpoint's first label, and a
// child (a container, a key, an event hub) when the object names one.
type Resource struct {
	Kind ResourceKind
	// Name is the registry, storage account, vault or Event Hubs namespace.
	Name string
	// Child is the container (storage account), the key (vault) or the event hub (namespace);
	// empty grants on the resource itself.
	Child string
	// Organization and Project are Azure DevOps's.
	Organization, Project string
}

// armType is the resource's ARM type, and childPath the path under its ID to its child.
func (r Resource) armType() string {
	switch r.Kind {
	case Registry:
		return "Microsoft.ContainerRegistry/registries"
	case StorageAccount:
		return "Microsoft.Storage/storageAccounts"
	case Vault:
		return "Microsoft.KeyVault/vaults"
	case EventHubsSpace:
		return "Microsoft.EventHub/namespaces"
	}
	return ""
}

func (r Resource) childPath() string {
	if r.Child == "" {
		return ""
	}
	switch r.Kind {
	case StorageAccount:
		return "/blobServices/default/containers/" + r.Child
	case Vault:
		return "/keys/" + r.Child
	case EventHubsSpace:
		return "/eventhubs/" + r.Child
	}
	return ""
}

// ID is the ARM ID of the resource (its child included) in subscription sub and group rg.
func (r Resource) ID(sub, rg string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s%s", sub, rg, r.armType(), r.Name, r.childPath())
}

// String says what the resource is, for comments and notes.
func (r Resource) String() string {
	switch {
	case r.Kind == DevOpsProject:
		return fmt.Sprintf("the Azure DevOps project %s/%s", r.Organization, r.Project)
	case r.Kind == StorageAccount && r.Child != "":
		return fmt.Sprintf("the container %s of the storage account %s", r.Child, r.Name)
	case r.Kind == Vault && r.Child != "":
		return fmt.Sprintf("the key %s of the vault %s", r.Child, r.Name)
	case r.Kind == EventHubsSpace && r.Child != "":
		return fmt.Sprintf("the event hub %s of the namespace %s", r.Child, r.Name)
	}
	return fmt.Sprintf("the %s %s", r.Kind, r.Name)
}

// The API groups of the kinds NeedsOf reads.
const (
	sourceGroup       = "source.toolkit.fluxcd.io"
	imageGroup        = "image.toolkit.fluxcd.io"
	kustomizeGroup    = "kustomize.toolkit.fluxcd.io"
	notificationGroup = "notification.toolkit.fluxcd.io"
)

// NeedsOf reads what obj needs from Azure. It returns no need and no note for an object that
// does not authenticate to Azure (another provider, another kind). An object whose credentials
// come from a secret (static credentials, or an identity the plan cannot see) returns a note
// instead of a need; so does one whose spec is not one the controller accepts. An
// ImageUpdateAutomation needs its GitRepository: NeedsOf cannot see it, so the plan resolves it.
func NeedsOf(obj *unstructured.Unstructured) ([]Need, []string) {
	gk := obj.GroupVersionKind().GroupKind()
	str := func(fields ...string) string {
		s, _, _ := unstructured.NestedString(obj.Object, append([]string{"spec"}, fields...)...)
		return s
	}
	n := Need{Object: fmt.Sprintf("%s %s/%s", gk.Kind, obj.GetNamespace(), obj.GetName()), Namespace: obj.GetNamespace(), ServiceAccount: str("serviceAccountName")}
	note := func(format string, args ...any) ([]Need, []string) {
		return nil, []string{n.Object + ": " + fmt.Sprintf(format, args...)}
	}
	secret := str("secretRef", "name")
	azure := str("provider") == "azure"
	switch {
	case gk.Group == sourceGroup && gk.Kind == "OCIRepository" && azure,
		gk.Group == imageGroup && gk.Kind == "ImageRepository" && azure:
		if secret != "" {
			return note("uses the pull secret %s (static credentials): nothing to grant", secret)
		}
		ref := str("url")
		if gk.Kind == "ImageRepository" {
			ref = str("image")
		}
		host, err := acr.ParseRegistry(ref, entra.AzurePublic)
		if err != nil {
			return note("%v", err)
		}
		n.Integration, n.Resource = "acr", Resource{Kind: Registry, Name: firstLabel(host)}
	case gk.Group == sourceGroup && gk.Kind == "Bucket" && azure:
		if secret != "" {
			return note("uses the secret %s (a storage key, a SAS or an identity the plan cannot see): nothing to grant", secret)
		}
		ep, err := blob.ParseEndpoint(str("endpoint"), true)
		if err != nil {
			return note("%v", err)
		}
		if err := blob.CheckContainerName(str("bucketName")); err != nil {
			return note("%v", err)
		}
		n.Integration, n.Resource = "blob", Resource{Kind: StorageAccount, Name: ep.Account, Child: str("bucketName")}
	case gk.Group == sourceGroup && gk.Kind == "GitRepository" && azure:
		if secret != "" {
			return note("uses the secret %s (static credentials): nothing to grant", secret)
		}
		return devopsNeed(n, str("url"), "Readers")
	case gk.Group == kustomizeGroup && gk.Kind == "Kustomization" && str("decryption", "provider") == "sops":
		n.ServiceAccount = str("decryption", "serviceAccountName")
		if s := str("decryption", "secretRef", "name"); s != "" {
			return note("decrypts with the secret %s (age, OpenPGP or an identity the plan cannot see): nothing to grant", s)
		}
		n.Integration, n.Resource.Kind = "keyvault", Vault
	case gk.Group == notificationGroup && gk.Kind == "Provider":
		return providerNeeds(n, secret, str("type"), str("address"), str("channel"))
	default:
		return nil, nil
	}
	return []Need{n}, nil
}

// providerNeeds reads a notification Provider: azureeventhub sends to a hub, azuredevops posts
// commit statuses.
func providerNeeds(n Need, secret, typ, address, channel string) ([]Need, []string) {
	note := func(format string, args ...any) ([]Need, []string) {
		return nil, []string{n.Object + ": " + fmt.Sprintf(format, args...)}
	}
	switch typ {
	case "azureeventhub":
		if secret != "" || strings.Contains(address, "SharedAccessKey") {
			return note("uses its secret (a SAS connection string, a token or an identity the plan cannot see): nothing to grant")
		}
		host := eventhubs.NamespaceHost(channel, entra.AzurePublic)
		if strings.TrimSpace(channel) == "" || address == "" || strings.ContainsAny(address, "/:;?# ") {
			return note("an azureeventhub Provider with an identity names the event hub in spec.address and its namespace in spec.channel")
		}
		n.Integration, n.Resource = "eventhubs", Resource{Kind: EventHubsSpace, Name: firstLabel(host), Child: address}
		return []Need{n}, nil
	case "azuredevops":
		if secret != "" {
			return note("uses the secret %s (a personal access token or an identity the plan cannot see): nothing to grant", secret)
		}
		return devopsNeed(n, address, "Contributors")
	}
	return nil, nil
}

func devopsNeed(n Need, url, group string) ([]Need, []string) {
	repo, err := devops.ParseRepository(url)
	if err != nil {
		return nil, []string{n.Object + ": " + err.Error()}
	}
	n.Integration, n.Group = "devops", group
	n.Resource = Resource{Kind: DevOpsProject, Organization: repo.Organization, Project: repo.Project}
	return []Need{n}, nil
}

func firstLabel(host string) string {
	name, _, _ := strings.Cut(strings.ToLower(host), ".")
	return name
}
