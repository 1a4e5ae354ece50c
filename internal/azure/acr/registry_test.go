package acr

import (
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

func customCloud(suffix string) entra.Cloud {
	c := entra.CloudForAuthority("https://login.contoso.example/")
	c.Services = map[entra.ServiceName]entra.Service{ServiceName: {DNSSuffix: suffix}}
	return c
}

func TestParseRegistry(t *testing.T) {
	const mustMatch = "must match " + Pattern
	tests := []struct {
		in      string
		cloud   entra.Cloud
		want    string
		wantErr string
	}{
		{"myreg.azurecr.io", entra.AzurePublic, "myreg.azurecr.io", ""},
		{"myreg.azurecr.de", entra.AzurePublic, "myreg.azurecr.de", ""},
		{"myreg.azurecr.us", entra.AzureGovernment, "myreg.azurecr.us", ""},
		{"myreg.azurecr.cn", entra.AzureChina, "myreg.azurecr.cn", ""},
		// Flux's expression accepts every ACR suffix whatever the cloud.
		{"myreg.azurecr.cn", entra.AzurePublic, "myreg.azurecr.cn", ""},
		{"MyReg.AzureCR.io", entra.AzurePublic, "MyReg.AzureCR.io", ""},
		{"oci://myreg.azurecr.io/team/app", entra.AzurePublic, "myreg.azurecr.io", ""},
		{"myreg.azurecr.io/team/app:1.0", entra.AzurePublic, "myreg.azurecr.io", ""},
		{"myreg.azurecr.io/app@sha256:" + strings.Repeat("a", 64), entra.AzurePublic, "myreg.azurecr.io", ""},
		{"myreg.azurecr.io///", entra.AzurePublic, "myreg.azurecr.io", ""},
		{"a.b.azurecr.io", entra.AzurePublic, "a.b.azurecr.io", ""},
		{"myreg.azurecr.contoso.example", customCloud(".azurecr.contoso.example"), "myreg.azurecr.contoso.example", ""},
		{"myreg.azurecr.contoso.example/app", customCloud("azurecr.contoso.example"), "myreg.azurecr.contoso.example", ""},
		{"myreg.azurecr.io", customCloud(".azurecr.contoso.example"), "myreg.azurecr.io", ""},

		{"myreg.azurecr.com", entra.AzurePublic, "", "invalid Azure registry: 'myreg.azurecr.com'. " + mustMatch},
		{"azurecr.io", entra.AzurePublic, "", "invalid Azure registry: 'azurecr.io'. " + mustMatch},
		{".azurecr.io", entra.AzurePublic, "", "invalid Azure registry: '.azurecr.io'. " + mustMatch},
		{"myreg.azurecr.io.evil.example", entra.AzurePublic, "", mustMatch},
		{"myreg.azurecr.io:443", entra.AzurePublic, "", mustMatch},
		{"ghcr.io/team/app", entra.AzurePublic, "", "invalid Azure registry: 'ghcr.io'. " + mustMatch},
		{"team/app", entra.AzurePublic, "", "invalid Azure registry: 'index.docker.io'"},
		{"", entra.AzurePublic, "", "invalid Azure registry: ''"},
		{"azurecr.contoso.example", customCloud(".azurecr.contoso.example"), "", "invalid Azure registry: 'azurecr.contoso.example'. must end with azurecr.contoso.example"},
		{"myreg.example", customCloud(".azurecr.contoso.example"), "", "must end with azurecr.contoso.example"},
		{"myreg.azurecr.io/UPPER", entra.AzurePublic, "", "failed to parse artifact repository 'myreg.azurecr.io/UPPER'"},
	}
	for _, tt := range tests {
		got, err := ParseRegistry(tt.in, tt.cloud)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRegistry(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRegistry(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestIsRegistry(t *testing.T) {
	for host, want := range map[string]bool{
		"myreg.azurecr.io": true, "myreg.azurecr.us": true, "myreg.azurecr.cn": true, "myreg.azurecr.de": true,
		"myreg.azurecr.com": false, "azurecr.io": false, "myreg.azurecr.io.example": false, "": false,
	} {
		if got := IsRegistry(host, entra.AzurePublic); got != want {
			t.Errorf("IsRegistry(%q) = %v", host, got)
		}
	}
	if !IsRegistry("myreg.registry.local", customCloud(".registry.local")) || IsRegistry("registry.local", customCloud(".registry.local")) {
		t.Error("custom suffix")
	}
}

func FuzzParseRegistry(f *testing.F) {
	for _, s := range []string{"myreg.azurecr.io", "oci://myreg.azurecr.io/app:1", "azurecr.io", "a/b", "myreg.registry.local/x", "::", "myreg.azurecr.io@sha256:"} {
		f.Add(s)
	}
	cloud := customCloud(".registry.local")
	f.Fuzz(func(t *testing.T, s string) {
		host, err := ParseRegistry(s, cloud)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid Azure registry: '") && !strings.HasPrefix(err.Error(), "failed to parse artifact repository '") {
				t.Fatalf("error %q has neither of Flux's forms", err)
			}
			return
		}
		if !IsRegistry(host, cloud) {
			t.Fatalf("ParseRegistry(%q) = %q, which IsRegistry refuses", s, host)
		}
		if strings.Contains(host, "/") {
			t.Fatalf("ParseRegistry(%q) = %q, not a host", s, host)
		}
	})
}

func TestScopeFor(t *testing.T) {
	for _, c := range []entra.Cloud{entra.AzurePublic, entra.AzureGovernment, entra.AzureChina, customCloud("azurecr.contoso.example")} {
		if got := ScopeFor(c); got != Scope {
			t.Errorf("ScopeFor(%s) = %s, want %s", c.Name, got, Scope)
		}
	}
	stack := entra.CloudForAuthority("https://login.stack.example/")
	stack.EnvironmentFile = "env.json"
	stack.Services = map[entra.ServiceName]entra.Service{entra.ResourceManager: {Endpoint: "https://management.stack.example/"}}
	if got := ScopeFor(stack); got != "https://management.stack.example/.default" {
		t.Errorf("a cloud from an environment file: ScopeFor = %s, want its Resource Manager scope", got)
	}
}
