package directory

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	aliceID = "a6a3a614-b003-4686-bb87-9c0b60cb886e"
	bobID   = "f6005c03-439f-4dcf-a18a-554b9ad3dc5c"
)

// withOrg adds users and a DevOps organization to base.
func withOrg(t *testing.T) string {
	t.Helper()
	org := `  devopsOrganizations:
    - name: contoso
      subscription: ` + subID + `
      resourceGroup: rg
      members: [bob@contoso.onmicrosoft.com]
      projects:
        - name: My Project
          repositories: [infra, apps]
          readers: [mi]
          contributors: [app, alice@contoso.onmicrosoft.com]
      personalAccessTokens:
        - {name: ci, user: alice@contoso.onmicrosoft.com, token: alicepat, scopes: [vso.code], expires: "2030-01-31"}
        - {name: rw, user: ALICE@contoso.onmicrosoft.com, token: alicepatrw, scopes: [vso.code_write], expires: "2030-01-31T12:00:00Z"}
      sshKeys:
        - {name: laptop, user: alice@contoso.onmicrosoft.com, publicKey: "` + rsaKeyLine(t, 2048) + `"}
`
	users := `users:
  - {name: alice@contoso.onmicrosoft.com, objectId: ` + aliceID + `}
  - {name: bob@contoso.onmicrosoft.com, objectId: ` + bobID + `}
`
	return strings.Replace(base, "resources:\n", users+"resources:\n"+org, 1)
}

var keyLines = map[int]string{}

func rsaKeyLine(t *testing.T, bits int) string {
	t.Helper()
	if l, ok := keyLines[bits]; ok {
		return l
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	keyLines[bits] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " alice@laptop"
	return keyLines[bits]
}

func TestDevOpsDirectory(t *testing.T) {
	d, err := Parse([]byte(withOrg(t)))
	if err != nil {
		t.Fatal(err)
	}
	org, tenant, ok := d.DevOpsOrganization("CONTOSO")
	if !ok || tenant != tenantID || org.Name != "contoso" || !strings.HasSuffix(org.ID(), "/providers/Microsoft.VisualStudio/account/contoso") {
		t.Fatalf("DevOpsOrganization = %+v, %s, %v", org, tenant, ok)
	}
	if rs := d.Resources(KindDevOpsOrganization); len(rs) != 1 || rs[0].ID() != org.ID() {
		t.Errorf("Resources = %+v", rs)
	}
	app, _ := d.Principal("app")
	mi, _ := d.Principal("mi")
	for _, tt := range []struct {
		oid    string
		member bool
		group  DevOpsGroup
	}{
		{app.PrincipalID, true, DevOpsContributors},
		{strings.ToUpper(mi.PrincipalID), true, DevOpsReaders},
		{aliceID, true, DevOpsContributors},
		{bobID, true, DevOpsNoGroup},
		{"00000000-0000-0000-0000-000000000001", false, DevOpsNoGroup},
	} {
		if _, ok := d.DevOpsMember("contoso", tt.oid); ok != tt.member {
			t.Errorf("DevOpsMember(%s) = %v, want %v", tt.oid, ok, tt.member)
		}
		if g := d.DevOpsGroup("contoso", "my project", tt.oid); g != tt.group {
			t.Errorf("DevOpsGroup(%s) = %q, want %q", tt.oid, g, tt.group)
		}
	}
	if r, ok := d.DevOpsRepository("Contoso", "MY PROJECT", "INFRA"); !ok || r != (DevOpsRepository{"contoso", "My Project", "infra"}) {
		t.Errorf("DevOpsRepository = %+v, %v", r, ok)
	}
	if _, ok := d.DevOpsRepository("contoso", "My Project", "nope"); ok {
		t.Error("an undeclared repository was found")
	}
	pat, ok := d.DevOpsPAT("alicepatrw")
	if !ok || pat.Owner.Name != "alice@contoso.onmicrosoft.com" || pat.Organization != "contoso" || pat.Token.Access() != PATWrite ||
		!pat.ExpiresAt.Equal(time.Date(2030, 1, 31, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("DevOpsPAT = %+v, %v", pat, ok)
	}
	if pat, _ := d.DevOpsPAT("alicepat"); pat.Token.Access() != PATRead || !pat.ExpiresAt.Equal(time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("read PAT = %+v", pat)
	}
	if _, ok := d.DevOpsPAT(""); ok {
		t.Error("the empty token was found")
	}
	fp, err := ParseSSHPublicKey(rsaKeyLine(t, 2048))
	if err != nil {
		t.Fatal(err)
	}
	if owners := d.DevOpsKeyOwners(fp); len(owners) != 1 || owners[0].Owner.ObjectID != aliceID || owners[0].Organization != "contoso" {
		t.Errorf("DevOpsKeyOwners = %+v", owners)
	}
	if u, ok := d.User(strings.ToUpper(aliceID)); !ok || u.Tenant != tenantID {
		t.Errorf("User = %+v, %v", u, ok)
	}
	if got := d.DevOpsRepositories(); len(got) != 2 || got[1].Name != "apps" {
		t.Errorf("DevOpsRepositories = %+v", got)
	}
	if err := d.AddDevOpsRepository("contoso", "my project", "new"); err != nil {
		t.Fatal(err)
	}
	if err := d.AddDevOpsRepository("contoso", "my project", "NEW"); err != nil {
		t.Errorf("adding a repository twice: %v", err)
	}
	if _, ok := d.DevOpsRepository("contoso", "My Project", "new"); !ok || len(d.DevOpsRepositories()) != 3 {
		t.Error("the added repository is missing")
	}
	for _, tt := range []struct{ org, project, repo, want string }{
		{"nope", "My Project", "r", "no DevOps organization 'nope'"},
		{"contoso", "nope", "r", "has no project 'nope'"},
		{"contoso", "My Project", "a/b", "repository name 'a/b' contains"},
	} {
		if err := d.AddDevOpsRepository(tt.org, tt.project, tt.repo); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("AddDevOpsRepository(%s, %s, %s) = %v, want %q", tt.org, tt.project, tt.repo, err, tt.want)
		}
	}
	// The rendered directory parses again with the same organization.
	out, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, ok := again.DevOpsRepository("contoso", "My Project", "new"); !ok {
		t.Error("the round trip lost a repository")
	}
}

func TestDevOpsValidation(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	edLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(edKey)))
	where := "resources.devopsOrganizations[0] 'contoso': "
	tests := []struct {
		name, old, new, wantErr string
	}{
		{"user not a UPN", "{name: bob@contoso.onmicrosoft.com,", "{name: bob,", "users[1] 'bob': name 'bob' is not a user principal name"},
		{"user object id", "objectId: " + bobID, "objectId: nope", "users[1] 'bob@contoso.onmicrosoft.com': objectId 'nope' is not a GUID"},
		{"user clashes with principal", "objectId: " + bobID, "objectId: 4249e19b-811e-4ad5-800e-2ec239154393", "'4249e19b-811e-4ad5-800e-2ec239154393' is already used by ManagedIdentity 'mi'"},
		{"user twice", "{name: bob@contoso.onmicrosoft.com,", "{name: alice@contoso.onmicrosoft.com,", "'alice@contoso.onmicrosoft.com' is already used by user"},
		{"bad org name", "    - name: contoso\n", "    - name: -contoso\n", "name '-contoso' must be 1 to 50 letters"},
		{"org without group", "      resourceGroup: rg\n      members", "      members", where + "resourceGroup is required"},
		{"unknown member", "members: [bob@contoso.onmicrosoft.com]", "members: [carol]", where + "members[0]: 'carol' is neither a user nor"},
		{"unknown reader", "readers: [mi]", "readers: [ghost]", where + "projects[0] 'My Project': readers[0]: 'ghost' is neither"},
		{"bad project name", "- name: My Project", "- name: _hidden", "project name '_hidden' must not start with '_'"},
		{"bad repository name", "repositories: [infra, apps]", "repositories: [infra, \"a:b\"]", "repositories[1]: repository name 'a:b' contains"},
		{"repository twice", "repositories: [infra, apps]", "repositories: [infra, INFRA]", "repositories[1]: 'INFRA' is declared twice"},
		{"project twice", "          contributors: [app, alice@contoso.onmicrosoft.com]\n", "          contributors: [app, alice@contoso.onmicrosoft.com]\n        - name: my project\n", "projects[1] 'my project': the name is used twice"},
		{"PAT of a principal", "{name: ci, user: alice@contoso.onmicrosoft.com", "{name: ci, user: app", "personalAccessTokens[0] 'ci': 'app' is an application, but personal access tokens belong to users"},
		{"PAT of nobody", "{name: ci, user: alice@contoso.onmicrosoft.com", "{name: ci, user: carol@contoso.onmicrosoft.com", "personalAccessTokens[0] 'ci': user 'carol@contoso.onmicrosoft.com' is not declared in users"},
		{"PAT scope", "scopes: [vso.code]", "scopes: [vso.build]", "scope 'vso.build' gives no access to Git repositories"},
		{"PAT without scope", "scopes: [vso.code]", "scopes: []", "scopes are required"},
		{"PAT expiry", `expires: "2030-01-31"}`, `expires: "next year"}`, "expires: 'next year' is neither an RFC 3339 time"},
		{"PAT without expiry", `, expires: "2030-01-31"}`, `}`, "personalAccessTokens[0] 'ci': expires: is required"},
		{"PAT reused", "token: alicepatrw", "token: alicepat", "the token is already used by personal access token 'ci'"},
		{"PAT with space", "token: alicepatrw", "token: \"alice pat\"", "token must not contain spaces"},
		{"SSH key not RSA", rsaKeyLine(t, 2048), edLine, "publicKey is a ssh-ed25519 key, but Azure DevOps accepts RSA keys only"},
		{"SSH key too short", rsaKeyLine(t, 2048), rsaKeyLine(t, 1024), "publicKey is a 1024-bit RSA key"},
		{"SSH key garbage", rsaKeyLine(t, 2048), "ssh-rsa nope", "publicKey is not an SSH public key"},
		{"SSH key of a principal", "{name: laptop, user: alice@contoso.onmicrosoft.com", "{name: laptop, user: mi", "'mi' is a managed identity, but SSH keys belong to users"},
	}
	good := withOrg(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("test bug: the directory lacks %q", tt.old)
			}
			_, err := Parse([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	// A member of another tenant cannot join an organization.
	other := strings.Replace(good, "tenants:\n", "tenants:\n  - id: 00000000-0000-0000-0000-0000000000aa\n", 1)
	other = strings.Replace(other, "objectId: "+bobID+"}", "objectId: "+bobID+", tenant: 00000000-0000-0000-0000-0000000000aa}", 1)
	other = strings.Replace(other, "  - {name: alice@contoso.onmicrosoft.com, objectId: "+aliceID+"}", "  - {name: alice@contoso.onmicrosoft.com, objectId: "+aliceID+", tenant: "+tenantID+"}", 1)
	other = strings.Replace(other, "  - id: "+subID+"\n", "  - id: "+subID+"\n    tenant: "+tenantID+"\n", 1)
	other = strings.Replace(other, "    clientId: 7e477dda", "    tenant: "+tenantID+"\n    clientId: 7e477dda", 1)
	if _, err := Parse([]byte(other)); err == nil || !strings.Contains(err.Error(), "members[0]: 'bob@contoso.onmicrosoft.com' belongs to tenant '00000000-0000-0000-0000-0000000000aa', but the organization is connected to tenant '"+tenantID+"'") {
		t.Errorf("member of another tenant: err = %v", err)
	}
}

// TestDefaultDevOps: the default directory has a repository with a Reader and a Contributor,
// and a PAT that writes.
func TestDefaultDevOps(t *testing.T) {
	d := Default()
	repos := d.DevOpsRepositories()
	if len(repos) == 0 {
		t.Fatal("the default directory declares no DevOps repository")
	}
	r := repos[0]
	groups := map[DevOpsGroup]bool{}
	for _, p := range []string{"flux-controller", "node-kubelet", "flux-secret-app"} {
		pr, _ := d.Principal(p)
		groups[d.DevOpsGroup(r.Organization, r.Project, pr.PrincipalID)] = true
	}
	if !groups[DevOpsReaders] || !groups[DevOpsContributors] {
		t.Errorf("groups of the default principals: %v", groups)
	}
	pat, ok := d.DevOpsPAT("azimuthlocalpatdonotuseelsewhere")
	if !ok || pat.Token.Access() != PATWrite || d.DevOpsGroup(r.Organization, r.Project, pat.Owner.ObjectID) != DevOpsContributors {
		t.Errorf("default PAT = %+v, %v", pat, ok)
	}
}
