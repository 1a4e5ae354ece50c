package aks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// apiVersion is the Microsoft.ContainerService API version Describe speaks, the one the Azure
// SDK's armcontainerservice v6 sends.
const apiVersion = "2025-02-01"

// Endpoint is how a cluster's API server is reached.
type Endpoint struct {
	// Address is https://HOST:PORT, the host in lower case.
	Address string
	// CAData is the PEM CA bundle the API server's certificate chains to; empty for the system's
	// roots.
	CAData []byte
}

// DescribeOptions tune Describe.
type DescribeOptions struct {
	// Cloud is the cloud whose Resource Manager is asked. Default: the public cloud.
	Cloud entra.Cloud
	// Transport carries the requests. Default: http.DefaultTransport.
	Transport http.RoundTripper
	// Address, when set, must be one of the cluster's API server addresses, and is the one
	// returned; otherwise the first of its user kubeconfig is.
	Address string
}

// Describe reads from Azure Resource Manager how to reach the API server of cluster id, as the
// identity of cred: the cluster, which must have Microsoft Entra ID integration, then its user
// kubeconfigs, whose servers and CAs it returns the one of (see DescribeOptions.Address). It
// needs the role Azure Kubernetes Service Cluster User Role on the cluster, or one that includes
// it; a refusal says which and how to grant it.
func Describe(ctx context.Context, cred azcore.TokenCredential, id ClusterID, o DescribeOptions) (Endpoint, error) {
	arm, err := newARM(cred, id, o)
	if err != nil {
		return Endpoint{}, err
	}
	var cluster struct {
		Properties struct {
			AADProfile *struct {
				Managed bool `json:"managed"`
			} `json:"aadProfile"`
		} `json:"properties"`
	}
	if err := arm.do(ctx, http.MethodGet, "", &cluster); err != nil {
		return Endpoint{}, err
	}
	if cluster.Properties.AADProfile == nil {
		return Endpoint{}, fmt.Errorf("AKS cluster '%s' has no Microsoft Entra ID integration (properties.aadProfile), so its API server accepts no Entra token: "+
			"enable it with az aks update --resource-group %s --name %s --enable-aad, or reach the cluster with spec.kubeConfig.secretRef",
			id.Name, id.ResourceGroup, id.Name)
	}
	var creds struct {
		Kubeconfigs []struct {
			Name  string `json:"name"`
			Value []byte `json:"value"`
		} `json:"kubeconfigs"`
	}
	if err := arm.do(ctx, http.MethodPost, "/listClusterUserCredential", &creds); err != nil {
		return Endpoint{}, err
	}
	var found []Endpoint
	for _, kc := range creds.Kubeconfigs {
		eps, err := endpointsOf(kc.Value)
		if err != nil {
			return Endpoint{}, fmt.Errorf("the user kubeconfig '%s' of AKS cluster '%s': %w", kc.Name, id.Name, err)
		}
		found = append(found, eps...)
	}
	if len(found) == 0 {
		return Endpoint{}, fmt.Errorf("AKS cluster '%s' listed no API server address in its user kubeconfigs", id.Name)
	}
	if o.Address == "" {
		return found[0], nil
	}
	want, err := CanonicalAddress(o.Address)
	if err != nil {
		return Endpoint{}, err
	}
	var addresses []string
	for _, ep := range found {
		if ep.Address == want {
			return ep, nil
		}
		addresses = append(addresses, ep.Address)
	}
	return Endpoint{}, fmt.Errorf("the address '%s' is not one of AKS cluster '%s''s API server addresses (%s): set 'address' to one of them, or remove it",
		clipValue(o.Address), id.Name, strings.Join(addresses, ", "))
}

// CanonicalAddress writes an API server address as Describe returns them:
// https://HOST:PORT, the host in lower case and the port 443 when none is given.
func CanonicalAddress(address string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(address))
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("invalid API server address '%s': want https://HOST[:PORT]", clipValue(address))
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "https://" + host + ":" + port, nil
}

// endpointsOf returns the clusters of a kubeconfig: its current context's first, then the others
// by name. The users' credentials are not read.
func endpointsOf(raw []byte) ([]Endpoint, error) {
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		// The loader's error may quote the file; it holds no more than the cluster's addresses
		// and a kubelogin command, but say only that it is not a kubeconfig.
		return nil, errors.New("it is not a kubeconfig")
	}
	names := make([]string, 0, len(cfg.Clusters))
	for name := range cfg.Clusters {
		names = append(names, name)
	}
	slices.Sort(names)
	if ctx, ok := cfg.Contexts[cfg.CurrentContext]; ok {
		if i := slices.Index(names, ctx.Cluster); i > 0 {
			names = slices.Insert(slices.Delete(names, i, i+1), 0, ctx.Cluster)
		}
	}
	var out []Endpoint
	for _, name := range names {
		c := cfg.Clusters[name]
		address, err := CanonicalAddress(c.Server)
		if err != nil {
			return nil, fmt.Errorf("cluster '%s': %w", name, err)
		}
		out = append(out, Endpoint{Address: address, CAData: c.CertificateAuthorityData})
	}
	return out, nil
}

// arm makes the requests about one cluster.
type arm struct {
	pipeline runtime.Pipeline
	base     string
	cred     azcore.TokenCredential
	id       ClusterID
}

func newARM(cred azcore.TokenCredential, id ClusterID, o DescribeOptions) (*arm, error) {
	cloud := o.Cloud
	if cloud.Name == "" {
		cloud = entra.AzurePublic
	}
	rm, _ := cloud.Service(entra.ResourceManager)
	if rm.Endpoint == "" || rm.Scope() == "" {
		return nil, fmt.Errorf("the cloud %s names no Resource Manager endpoint and audience: set resourceManagerEndpoint and tokenAudience in AZURE_ENVIRONMENT_FILEPATH", cloud.Name)
	}
	rt := o.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	pl := runtime.NewPipeline("azimuth-aks", "v1", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{rm.Scope()}, nil)},
	}, &policy.ClientOptions{Transport: &http.Client{Transport: rt}})
	return &arm{pipeline: pl, base: strings.TrimSuffix(rm.Endpoint, "/") + id.String(), cred: cred, id: id}, nil
}

// do sends method to the cluster's path + suffix and decodes a 200's body into out.
func (a *arm) do(ctx context.Context, method, suffix string, out any) error {
	req, err := runtime.NewRequest(ctx, method, a.base+suffix)
	if err != nil {
		return err
	}
	q := req.Raw().URL.Query()
	q.Set("api-version", apiVersion)
	req.Raw().URL.RawQuery = q.Encode()
	req.Raw().Header.Set("Accept", "application/json")
	resp, err := a.pipeline.Do(req)
	if err != nil {
		return fmt.Errorf("asking Azure Resource Manager about AKS cluster '%s': %w", a.id.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return a.explain(runtime.NewResponseError(resp))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("reading Azure Resource Manager's answer about AKS cluster '%s': %w", a.id.Name, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("reading the answer of Azure Resource Manager about AKS cluster '%s': %w", a.id.Name, err)
	}
	return nil
}

// described is what an *entra.Credential tells of itself.
type described interface {
	ClientID() string
	String() string
}

// explain turns ARM's refusal into what to change.
func (a *arm) explain(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	who, assignee := "the controller's identity", "<principal ID>"
	if d, ok := a.cred.(described); ok {
		who = d.String()
		if d.ClientID() != "" {
			assignee = d.ClientID()
		}
	}
	said := strings.TrimSpace(fmt.Sprintf("%d %s", re.StatusCode, re.ErrorCode))
	switch {
	case re.ErrorCode == "AuthorizationFailed":
		return &entra.RoleError{
			Identity: who, ClientID: assignee, Role: RoleClusterUser,
			Scope: a.id.String(), ScopeName: "the AKS cluster " + a.id.Name,
			Service: fmt.Sprintf("Azure Resource Manager (AKS cluster '%s')", a.id.Name),
		}
	case re.StatusCode == http.StatusNotFound:
		return fmt.Errorf("AKS cluster '%s' was not found (%s): fix the ConfigMap's 'cluster' key; az aks show --resource-group %s --name %s --query id --output tsv prints it",
			a.id, said, a.id.ResourceGroup, a.id.Name)
	case re.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("the token of %s was not accepted by Azure Resource Manager (%s): the identity must be in the tenant of subscription '%s'", who, said, a.id.Subscription)
	}
	return fmt.Errorf("asking about AKS cluster '%s', Azure Resource Manager answered %s", a.id.Name, said)
}
