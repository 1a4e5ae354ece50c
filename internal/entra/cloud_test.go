package entra

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/internal/identity"
)

func TestCloudForAuthority(t *testing.T) {
	tests := map[string]string{
		"":                                   "AzurePublic",
		"https://login.microsoftonline.com/": "AzurePublic",
		"https://login.microsoftonline.us/":  "AzureGovernment",
		"https://login.chinacloudapi.cn":     "AzureChina",
		"https://login.private.example.com":  "custom",
	}
	for host, want := range tests {
		if got := CloudForAuthority(host).Name; got != want {
			t.Errorf("CloudForAuthority(%q) = %s, want %s", host, got, want)
		}
	}
	if gov, _ := CloudForAuthority("https://login.microsoftonline.us/").Service(ResourceManager); gov.Scope() != "https://management.usgovcloudapi.net/.default" {
		t.Errorf("US Government Resource Manager = %+v", gov)
	}
}

func TestLoadEnvironmentFile(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) string {
		p := filepath.Join(dir, "env.json")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := LoadEnvironmentFile(write(`{"name":"AzureStackCloud","activeDirectoryEndpoint":"https://login.stack.example/",
		"resourceManagerEndpoint":"https://management.stack.example/","tokenAudience":"https://management.stack.example/",
		"containerRegistryDNSSuffix":"azurecr.stack.example"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "AzureStackCloud" || c.AuthorityHost != "https://login.stack.example/" || c.EnvironmentFile == "" {
		t.Fatalf("cloud = %+v", c)
	}
	// Services are the file's, by its own field names; entra knows none of them but Resource Manager.
	if s, ok := c.Service("containerRegistry"); !ok || s.DNSSuffix != "azurecr.stack.example" {
		t.Errorf("containerRegistry = %+v, %v", s, ok)
	}
	if rm, _ := c.Service(ResourceManager); rm.Endpoint != "https://management.stack.example/" || rm.Scope() != "https://management.stack.example/.default" {
		t.Errorf("resourceManager = %+v", rm)
	}
	if _, err := LoadEnvironmentFile(write(`{"resourceManagerEndpoint":"https://m/"}`)); err == nil || !strings.Contains(err.Error(), "tokenAudience must be set") {
		t.Fatalf("missing tokenAudience: %v", err)
	}
	if _, err := LoadEnvironmentFile(write(`not json`)); err == nil {
		t.Fatal("accepted a file that is not JSON")
	}

	// Identities without an authority host of their own take the custom cloud.
	p := NewProvider(&Options{CustomCloud: &c})
	cred, err := p.Credential(identity.Identity{Kind: identity.NodeManagedIdentity}, nil)
	if err != nil || cred.Cloud().Name != "AzureStackCloud" {
		t.Fatalf("credential cloud = %v, %v", cred.Cloud().Name, err)
	}
	cred, _ = p.Credential(identity.Identity{Kind: identity.ClientSecret, AuthorityHost: "https://login.microsoftonline.us/"}, nil)
	if cred.Cloud().Name != "AzureGovernment" {
		t.Fatalf("an identity's own authority host lost to the custom cloud: %s", cred.Cloud().Name)
	}
}
