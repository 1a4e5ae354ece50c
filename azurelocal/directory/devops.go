package directory

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/ssh"
)

// User is a Microsoft Entra ID user. Users cannot sign in to the local Azure (there are no user
// flows); they exist to own what Azure DevOps gives people rather than applications: personal
// access tokens and SSH keys, and to be members of organizations and project groups.
type User struct {
	// Name is the user principal name, such as alice@contoso.onmicrosoft.com.
	Name string `json:"name"`
	// ObjectID is the user's object ID.
	ObjectID string `json:"objectId"`
	// Tenant is the user's home tenant. Default: the only tenant, when there is exactly one.
	Tenant string `json:"tenant,omitempty"`
}

// DevOpsOrganization is an Azure DevOps organization: an ARM resource (for billing, as
// Microsoft.VisualStudio/account) connected to the Entra tenant of its subscription, with its
// projects, members and credentials.
type DevOpsOrganization struct {
	Resource
	// Members are users, applications and managed identities (by name, principal or object ID, or
	// client ID) that belong to the organization without a project group. Everyone in a project
	// group belongs to the organization too, as adding someone to a project does in Azure DevOps.
	Members []string `json:"members,omitempty"`
	// Administrators are the members of Project Collection Administrators (named as in
	// Members): they may add members to the organization and to project groups, through the
	// REST API as azimuth setup plan --apply does. They are members of the organization too.
	Administrators []string        `json:"administrators,omitempty"`
	Projects       []DevOpsProject `json:"projects,omitempty"`
	// PersonalAccessTokens are the users' PATs for this organization.
	PersonalAccessTokens []PersonalAccessToken `json:"personalAccessTokens,omitempty"`
	// SSHKeys are the users' SSH public keys for this organization.
	SSHKeys []SSHKey `json:"sshKeys,omitempty"`
}

// DevOpsProject is a project with its Git repositories and the members of its Readers and
// Contributors groups, named as in DevOpsOrganization.Members.
type DevOpsProject struct {
	Name         string   `json:"name"`
	Repositories []string `json:"repositories,omitempty"`
	// Readers may clone and fetch.
	Readers []string `json:"readers,omitempty"`
	// Contributors may also push.
	Contributors []string `json:"contributors,omitempty"`
}

// PersonalAccessToken is a PAT: a secret that stands for its user, limited by its scopes and
// expiry.
type PersonalAccessToken struct {
	Name string `json:"name,omitempty"`
	// User owns the token: a user's name or object ID.
	User string `json:"user"`
	// Token is the secret, sent as the password of Basic credentials (any user name).
	Token string `json:"token"`
	// Scopes are Azure DevOps scopes; see PATScopes.
	Scopes []string `json:"scopes"`
	// Expires is when the token stops working: an RFC 3339 time, or a date (its midnight, UTC).
	Expires string `json:"expires"`
}

// ExpiresAt returns Expires as a time; the zero time when it does not parse.
func (p PersonalAccessToken) ExpiresAt() time.Time {
	t, _ := parseExpiry(p.Expires)
	return t
}

// SSHKey is a user's SSH public key, registered for SSH access to the organization's
// repositories.
type SSHKey struct {
	Name string `json:"name,omitempty"`
	// User owns the key: a user's name or object ID.
	User string `json:"user"`
	// PublicKey is the key in authorized_keys form: "ssh-rsa AAAA... comment". Azure DevOps
	// accepts RSA keys only.
	PublicKey string `json:"publicKey"`
}

// PAT scopes that give access to Git repositories, with what they allow. Other Azure DevOps
// scopes give no Git access and are not accepted in a directory file.
var PATScopes = map[string]PATAccess{
	"vso.code":        PATRead,
	"vso.code_write":  PATWrite,
	"vso.code_manage": PATWrite,
	"vso.code_full":   PATWrite,
	"app_token":       PATWrite, // "Full access"
}

// PATAccess is what a PAT's scopes allow on Git repositories.
type PATAccess int

// Levels of PATAccess.
const (
	PATNone PATAccess = iota
	PATRead
	PATWrite
)

// Access returns the most its scopes allow.
func (p PersonalAccessToken) Access() PATAccess {
	best := PATNone
	for _, s := range p.Scopes {
		best = max(best, PATScopes[strings.ToLower(s)])
	}
	return best
}

// DevOpsGroup is the project group that decides what a member may do with a project's
// repositories.
type DevOpsGroup string

// Project groups. A member of both Readers and Contributors is a contributor, as Azure DevOps
// grants the union when nothing denies.
const (
	DevOpsNoGroup      DevOpsGroup = ""
	DevOpsReaders      DevOpsGroup = "Readers"
	DevOpsContributors DevOpsGroup = "Contributors"
)

// KindUser is the kind of a DevOpsMember that is a user.
const KindUser PrincipalKind = "User"

// DevOpsMember is someone an organization knows: a user, an application's service principal or a
// managed identity.
type DevOpsMember struct {
	Kind PrincipalKind
	// Name is a user's principal name, or the application's or identity's name.
	Name string
	// ObjectID is what tokens carry as oid: a user's object ID, a principal's principal ID.
	ObjectID string
	TenantID string
}

// DevOpsRepository names a repository by its organization and project, as declared.
type DevOpsRepository struct {
	Organization, Project, Name string
}

// DevOpsPAT is a personal access token found by its secret.
type DevOpsPAT struct {
	Organization string
	Token        PersonalAccessToken
	Owner        DevOpsMember
	ExpiresAt    time.Time
}

// DevOpsKeyOwner is a user who registered an SSH key in an organization.
type DevOpsKeyOwner struct {
	Organization string
	Owner        DevOpsMember
	KeyName      string
}

// devopsIndex holds the lookups of the DevOps part of a snapshot.
type devopsIndex struct {
	orgs map[string]*orgIndex        // by lower-case name
	pats map[string]DevOpsPAT        // by token
	keys map[string][]DevOpsKeyOwner // by SHA256 fingerprint
}

type orgIndex struct {
	name     string
	tenant   string
	members  map[string]DevOpsMember // by lower-case object ID
	admins   map[string]bool         // lower-case object IDs of Project Collection Administrators
	projects map[string]*projectIndex
}

type projectIndex struct {
	name         string
	repos        map[string]string // lower-case name → declared name
	readers      map[string]bool   // lower-case object IDs
	contributors map[string]bool
}

func (st *state) indexUsers(spec Spec, v *validator) {
	for i, u := range spec.Users {
		where := v.at("users", i, u.Name)
		if v.required(where, "name", u.Name) {
			if at := strings.Index(u.Name, "@"); at <= 0 || at == len(u.Name)-1 || strings.ContainsFunc(u.Name, unicode.IsSpace) {
				v.addf("%s: name '%s' is not a user principal name (like alice@contoso.onmicrosoft.com)", where, u.Name)
			}
		}
		v.guid(where, "objectId", u.ObjectID)
		switch {
		case u.Tenant == "":
			v.addf("%s: tenant is required when the directory has more than one tenant", where)
		case !hasTenant(spec, u.Tenant):
			v.addf("%s: tenant '%s' is not declared in tenants", where, u.Tenant)
		}
		for _, key := range []string{u.Name, u.ObjectID} {
			k := strings.ToLower(key)
			if k == "" {
				continue
			}
			if other, dup := st.users[k]; dup {
				v.addf("%s: '%s' is already used by user '%s'", where, key, other.Name)
				continue
			}
			if p, dup := st.lookupPrincipal(k); dup {
				v.addf("%s: '%s' is already used by %s '%s'", where, key, p.Kind, p.Name)
				continue
			}
			st.users[k] = u
		}
	}
}

// member resolves a name, object ID or client ID to a user or principal.
func (st *state) member(ref string) (DevOpsMember, bool) {
	key := strings.ToLower(strings.TrimSpace(ref))
	if u, ok := st.users[key]; ok {
		return DevOpsMember{Kind: KindUser, Name: u.Name, ObjectID: strings.ToLower(u.ObjectID), TenantID: u.Tenant}, true
	}
	if p, ok := st.lookupPrincipal(key); ok {
		return DevOpsMember{Kind: p.Kind, Name: p.Name, ObjectID: strings.ToLower(p.PrincipalID), TenantID: p.TenantID}, true
	}
	return DevOpsMember{}, false
}

func (st *state) indexDevOps(spec Spec, v *validator) {
	st.devops = devopsIndex{orgs: map[string]*orgIndex{}, pats: map[string]DevOpsPAT{}, keys: map[string][]DevOpsKeyOwner{}}
	for i, org := range spec.Resources.DevOpsOrganizations {
		where := v.at("resources.devopsOrganizations", i, org.Name)
		if org.Name != "" && !validOrgName(org.Name) {
			v.addf("%s: name '%s' must be 1 to 50 letters, digits and hyphens, starting and ending with a letter or digit", where, org.Name)
		}
		oi := &orgIndex{name: org.Name, tenant: st.subscriptionTenant(org.Subscription), members: map[string]DevOpsMember{}, admins: map[string]bool{}, projects: map[string]*projectIndex{}}
		if _, dup := st.devops.orgs[strings.ToLower(org.Name)]; !dup {
			st.devops.orgs[strings.ToLower(org.Name)] = oi
		}
		addMember := func(at, ref string) (DevOpsMember, bool) {
			m, ok := st.member(ref)
			switch {
			case !ok:
				v.addf("%s: '%s' is neither a user nor an application or managed identity of this directory (use a name, object ID or client ID)", at, ref)
				return m, false
			case oi.tenant != "" && !strings.EqualFold(m.TenantID, oi.tenant):
				v.addf("%s: '%s' belongs to tenant '%s', but the organization is connected to tenant '%s' (the tenant of subscription '%s')", at, ref, m.TenantID, oi.tenant, org.Subscription)
				return m, false
			}
			oi.members[m.ObjectID] = m
			return m, true
		}
		for j, ref := range org.Members {
			addMember(fmt.Sprintf("%s: members[%d]", where, j), ref)
		}
		for j, ref := range org.Administrators {
			if m, ok := addMember(fmt.Sprintf("%s: administrators[%d]", where, j), ref); ok {
				oi.admins[m.ObjectID] = true
			}
		}
		for j, p := range org.Projects {
			st.indexProject(v, fmt.Sprintf("%s: projects[%d] '%s'", where, j, p.Name), oi, p, addMember)
		}
		for j, pat := range org.PersonalAccessTokens {
			st.indexPAT(v, fmt.Sprintf("%s: personalAccessTokens[%d] '%s'", where, j, pat.Name), org.Name, pat)
		}
		for j, key := range org.SSHKeys {
			st.indexSSHKey(v, fmt.Sprintf("%s: sshKeys[%d] '%s'", where, j, key.Name), org.Name, key)
		}
	}
}

func (st *state) indexProject(v *validator, where string, oi *orgIndex, p DevOpsProject, addMember func(string, string) (DevOpsMember, bool)) {
	if v.required(where, "name", p.Name) {
		if err := validProjectName(p.Name); err != nil {
			v.addf("%s: %v", where, err)
		}
	}
	if _, dup := oi.projects[strings.ToLower(p.Name)]; dup {
		v.addf("%s: the name is used twice", where)
		return
	}
	pi := &projectIndex{name: p.Name, repos: map[string]string{}, readers: map[string]bool{}, contributors: map[string]bool{}}
	oi.projects[strings.ToLower(p.Name)] = pi
	for k, r := range p.Repositories {
		at := fmt.Sprintf("%s: repositories[%d]", where, k)
		if err := validRepoName(r); err != nil {
			v.addf("%s: %v", at, err)
		}
		if _, dup := pi.repos[strings.ToLower(r)]; dup {
			v.addf("%s: '%s' is declared twice", at, r)
		}
		pi.repos[strings.ToLower(r)] = r
	}
	for _, g := range []struct {
		list string
		refs []string
		set  map[string]bool
	}{{"readers", p.Readers, pi.readers}, {"contributors", p.Contributors, pi.contributors}} {
		for k, ref := range g.refs {
			if m, ok := addMember(fmt.Sprintf("%s: %s[%d]", where, g.list, k), ref); ok {
				g.set[m.ObjectID] = true
			}
		}
	}
}

func (st *state) indexPAT(v *validator, where, org string, pat PersonalAccessToken) {
	owner, ok := st.member(pat.User)
	switch {
	case !v.required(where, "user", pat.User):
	case !ok:
		v.addf("%s: user '%s' is not declared in users", where, pat.User)
	case owner.Kind != KindUser:
		v.addf("%s: '%s' is %s, but personal access tokens belong to users (applications and managed identities use Entra tokens)", where, pat.User, article(owner.Kind))
	}
	if v.required(where, "token", pat.Token) && strings.ContainsFunc(pat.Token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		v.addf("%s: token must not contain spaces or control characters", where)
	}
	if other, dup := st.devops.pats[pat.Token]; dup && pat.Token != "" {
		v.addf("%s: the token is already used by personal access token '%s' of organization '%s'", where, other.Token.Name, other.Organization)
	}
	if len(pat.Scopes) == 0 {
		v.addf("%s: scopes are required (vso.code to read, vso.code_write to push)", where)
	}
	for _, s := range pat.Scopes {
		if _, known := PATScopes[strings.ToLower(s)]; !known {
			v.addf("%s: scope '%s' gives no access to Git repositories; use vso.code (read), vso.code_write, vso.code_manage, vso.code_full or app_token", where, s)
		}
	}
	expires, err := parseExpiry(pat.Expires)
	if err != nil {
		v.addf("%s: expires: %v", where, err)
	}
	st.devops.pats[pat.Token] = DevOpsPAT{Organization: org, Token: pat, Owner: owner, ExpiresAt: expires}
}

func (st *state) indexSSHKey(v *validator, where, org string, key SSHKey) {
	owner, ok := st.member(key.User)
	switch {
	case !v.required(where, "user", key.User):
	case !ok:
		v.addf("%s: user '%s' is not declared in users", where, key.User)
	case owner.Kind != KindUser:
		v.addf("%s: '%s' is %s, but SSH keys belong to users", where, key.User, article(owner.Kind))
	}
	fp, err := ParseSSHPublicKey(key.PublicKey)
	if err != nil {
		v.addf("%s: %v", where, err)
		return
	}
	for _, other := range st.devops.keys[fp] {
		if strings.EqualFold(other.Organization, org) {
			v.addf("%s: the key %s is already registered in this organization by '%s'", where, fp, other.Owner.Name)
			return
		}
	}
	st.devops.keys[fp] = append(st.devops.keys[fp], DevOpsKeyOwner{Organization: org, Owner: owner, KeyName: key.Name})
}

// MinSSHKeyBits is the smallest RSA key Azure DevOps accepts.
const MinSSHKeyBits = 2048

// ParseSSHPublicKey checks an authorized_keys line as Azure DevOps checks a key it is given
// (RSA, at least MinSSHKeyBits) and returns its SHA256 fingerprint, as ssh-keygen -l prints it.
func ParseSSHPublicKey(line string) (fingerprint string, err error) {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return "", fmt.Errorf("publicKey is not an SSH public key in authorized_keys form (ssh-rsa AAAA... comment): %v", err)
	}
	if pub.Type() != ssh.KeyAlgoRSA {
		return "", fmt.Errorf("publicKey is a %s key, but Azure DevOps accepts RSA keys only (ssh-keygen -t rsa -b 4096)", pub.Type())
	}
	if ck, ok := pub.(ssh.CryptoPublicKey); ok {
		if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < MinSSHKeyBits {
			return "", fmt.Errorf("publicKey is a %d-bit RSA key; Azure DevOps needs at least %d bits", rk.N.BitLen(), MinSSHKeyBits)
		}
	}
	return ssh.FingerprintSHA256(pub), nil
}

func article(k PrincipalKind) string {
	switch k {
	case KindApplication:
		return "an application"
	case KindManagedIdentity:
		return "a managed identity"
	case KindSystemAssigned:
		return "a system-assigned identity"
	}
	return string(k)
}

// parseExpiry reads an RFC 3339 time or a date.
func parseExpiry(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("is required (an RFC 3339 time such as 2030-01-31T00:00:00Z, or a date such as 2030-01-31)")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("'%s' is neither an RFC 3339 time (2030-01-31T00:00:00Z) nor a date (2030-01-31)", s)
}

func validOrgName(s string) bool {
	if len(s) == 0 || len(s) > 50 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Characters Azure DevOps refuses in project and repository names.
const forbiddenNameChars = `\/:*?"<>;#${},+=[]|%&'` + "`"

func validProjectName(s string) error {
	return validName("project", s, 64)
}

func validRepoName(s string) error {
	return validName("repository", s, 64)
}

func validName(what, s string, maxLen int) error {
	switch {
	case s == "":
		return fmt.Errorf("a %s name is required", what)
	case len(s) > maxLen:
		return fmt.Errorf("%s name '%s' is longer than %d characters", what, s, maxLen)
	case strings.ContainsAny(s, forbiddenNameChars) || strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%s name '%s' contains one of %s or a control character", what, s, forbiddenNameChars)
	case strings.HasPrefix(s, "_") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.TrimSpace(s) != s:
		return fmt.Errorf("%s name '%s' must not start with '_' or '.', end with '.', or start or end with a space", what, s)
	}
	return nil
}

// User finds a user by name (user principal name) or object ID, ignoring case.
func (d *Directory) User(ref string) (User, bool) {
	u, ok := d.snapshot().users[strings.ToLower(strings.TrimSpace(ref))]
	return u, ok
}

// DevOpsOrganization finds an organization by name, ignoring case, and returns a copy of it with
// the tenant it is connected to.
func (d *Directory) DevOpsOrganization(name string) (org DevOpsOrganization, tenantID string, ok bool) {
	st := d.snapshot()
	oi, ok := st.devops.orgs[strings.ToLower(name)]
	if !ok {
		return DevOpsOrganization{}, "", false
	}
	for _, o := range st.spec.Resources.DevOpsOrganizations {
		if strings.EqualFold(o.Name, name) {
			data, err := json.Marshal(o)
			if err != nil {
				panic("azurelocal/directory: clone organization: " + err.Error())
			}
			var out DevOpsOrganization
			if err := json.Unmarshal(data, &out); err != nil {
				panic("azurelocal/directory: clone organization: " + err.Error())
			}
			out.Kind = KindDevOpsOrganization
			return out, oi.tenant, true
		}
	}
	return DevOpsOrganization{}, "", false
}

// DevOpsTenant returns the tenant an organization is connected to: its subscription's.
func (d *Directory) DevOpsTenant(org string) (string, bool) {
	oi, ok := d.snapshot().devops.orgs[strings.ToLower(org)]
	if !ok {
		return "", false
	}
	return oi.tenant, true
}

// DevOpsMember finds the member of org with the object ID (a token's oid), directly or through a
// project group.
func (d *Directory) DevOpsMember(org, objectID string) (DevOpsMember, bool) {
	oi, ok := d.snapshot().devops.orgs[strings.ToLower(org)]
	if !ok {
		return DevOpsMember{}, false
	}
	m, ok := oi.members[strings.ToLower(objectID)]
	return m, ok
}

// DevOpsRepository finds a repository, ignoring case, and returns the names as declared.
func (d *Directory) DevOpsRepository(org, project, repo string) (DevOpsRepository, bool) {
	oi, ok := d.snapshot().devops.orgs[strings.ToLower(org)]
	if !ok {
		return DevOpsRepository{}, false
	}
	pi, ok := oi.projects[strings.ToLower(project)]
	if !ok {
		return DevOpsRepository{}, false
	}
	name, ok := pi.repos[strings.ToLower(repo)]
	return DevOpsRepository{Organization: oi.name, Project: pi.name, Name: name}, ok
}

// DevOpsGroup returns the project group of the member with the object ID: Contributors,
// Readers, or none.
func (d *Directory) DevOpsGroup(org, project, objectID string) DevOpsGroup {
	oi, ok := d.snapshot().devops.orgs[strings.ToLower(org)]
	if !ok {
		return DevOpsNoGroup
	}
	pi, ok := oi.projects[strings.ToLower(project)]
	switch id := strings.ToLower(objectID); {
	case !ok:
		return DevOpsNoGroup
	case pi.contributors[id]:
		return DevOpsContributors
	case pi.readers[id]:
		return DevOpsReaders
	}
	return DevOpsNoGroup
}

// DevOpsRepositories returns every declared repository, in file order.
func (d *Directory) DevOpsRepositories() []DevOpsRepository {
	var out []DevOpsRepository
	for _, org := range d.snapshot().spec.Resources.DevOpsOrganizations {
		for _, p := range org.Projects {
			for _, r := range p.Repositories {
				out = append(out, DevOpsRepository{Organization: org.Name, Project: p.Name, Name: r})
			}
		}
	}
	return out
}

// DevOpsPAT finds a personal access token by its secret.
func (d *Directory) DevOpsPAT(token string) (DevOpsPAT, bool) {
	p, ok := d.snapshot().devops.pats[token]
	if !ok || token == "" {
		return DevOpsPAT{}, false
	}
	p.Token.Scopes = append([]string(nil), p.Token.Scopes...)
	return p, true
}

// DevOpsKeyOwners returns who registered the SSH key with the SHA256 fingerprint (as
// ssh.FingerprintSHA256 gives it), in each organization.
func (d *Directory) DevOpsKeyOwners(fingerprint string) []DevOpsKeyOwner {
	return append([]DevOpsKeyOwner(nil), d.snapshot().devops.keys[fingerprint]...)
}

// AddDevOpsRepository declares a repository in an existing project, validated like one in the
// file. Declaring one that exists already is not an error.
func (d *Directory) AddDevOpsRepository(org, project, name string) error {
	return d.update(func(s *Spec, _ *state) error {
		for i := range s.Resources.DevOpsOrganizations {
			o := &s.Resources.DevOpsOrganizations[i]
			if !strings.EqualFold(o.Name, org) {
				continue
			}
			for j := range o.Projects {
				p := &o.Projects[j]
				if !strings.EqualFold(p.Name, project) {
					continue
				}
				for _, r := range p.Repositories {
					if strings.EqualFold(r, name) {
						return nil
					}
				}
				p.Repositories = append(p.Repositories, name)
				return nil
			}
			return fmt.Errorf("organization '%s' has no project '%s'", org, project)
		}
		return fmt.Errorf("no DevOps organization '%s' is declared in resources.devopsOrganizations", org)
	})
}
