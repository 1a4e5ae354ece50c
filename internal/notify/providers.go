package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
)

// errSkipped: the provider had nothing to do with the event (a Progressing event for a commit
// status, a status that is already set).
var errSkipped = errors.New("skipped")

// providerConfig is what a Provider and its secrets say, read at each delivery so that a changed
// secret takes effect at once.
type providerConfig struct {
	address string
	token   string
	headers map[string]string
	// identitySecret is spec.secretRef when it holds an Entra application (clientId).
	identitySecret string
	conn           access.Connection
}

// secrets are the values to mask in what is logged or recorded.
func (c *providerConfig) secrets() []string {
	var out []string
	for _, s := range []string{c.token, c.address} {
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	return out
}

// config reads p's secrets and builds its connection.
func (d *Dispatcher) config(ctx context.Context, p *notificationv1.Provider) (*providerConfig, error) {
	c := &providerConfig{address: strings.TrimSpace(p.Spec.Address)}
	spec := access.Spec{Namespace: p.Namespace}
	if p.Spec.CertSecretRef != nil {
		spec.CertSecretRef = p.Spec.CertSecretRef.Name
	}
	if p.Spec.ProxySecretRef != nil {
		spec.ProxySecretRef = p.Spec.ProxySecretRef.Name
	}
	if ref := p.Spec.SecretRef; ref != nil {
		data, err := d.access.Secret(ctx, p.Namespace, ref.Name)
		if err != nil {
			return nil, err
		}
		sec, err := access.ParseProviderSecret(p.Namespace, ref.Name, data)
		if err != nil {
			return nil, terminalError{err}
		}
		if sec.Address != "" {
			c.address = sec.Address
		}
		c.token, c.headers = sec.Token, sec.Headers
		if sec.Identity {
			c.identitySecret = ref.Name
		}
		// Commit status providers trust the ca.crt of their secret when certSecretRef is unset,
		// as Flux's do.
		if p.Spec.Type == notificationv1.AzureDevOpsProvider && spec.CertSecretRef == "" && sec.CA {
			spec.CertSecretRef = ref.Name
		}
	}
	if c.address == "" && p.Spec.Type == notificationv1.AzureEventHubProvider {
		return nil, terminalf("provider '%s/%s': endpoint URL cannot be empty: set spec.address (the event hub's name) or the key 'address' in the secret of spec.secretRef (a SAS connection string)", p.Namespace, p.Name)
	}
	if c.address == "" {
		return nil, terminalf("provider '%s/%s' has no address: set spec.address, or the key 'address' in the secret of spec.secretRef", p.Namespace, p.Name)
	}
	conn, err := d.access.Connect(ctx, spec)
	if err != nil {
		return nil, err
	}
	c.conn = conn
	return c, nil
}

// sender builds the sender of p's type from its configuration.
func (d *Dispatcher) sender(ctx context.Context, p *notificationv1.Provider, c *providerConfig, alert *notificationv1.Alert) (sender, error) {
	client := &http.Client{Transport: c.conn.Transport}
	switch p.Spec.Type {
	case notificationv1.GenericProvider, notificationv1.GenericHMACProvider:
		if _, err := url.ParseRequestURI(c.address); err != nil {
			return nil, terminalf("invalid webhook address of provider '%s/%s': it must be an absolute http or https URL", p.Namespace, p.Name)
		}
		g := &generic{client: client, address: c.address, headers: c.headers}
		if p.Spec.Type == notificationv1.GenericHMACProvider {
			if c.token == "" {
				return nil, terminalf("provider '%s/%s' of type generic-hmac needs the HMAC key in the key 'token' of the secret of spec.secretRef", p.Namespace, p.Name)
			}
			g.key = []byte(c.token)
		}
		return g, nil
	case notificationv1.MSTeamsProvider:
		t, ok := newMSTeams(client, c.address)
		if !ok {
			return nil, terminalf("invalid MS Teams webhook URL of provider '%s/%s': put the Workflows URL in the key 'address' of the secret of spec.secretRef", p.Namespace, p.Name)
		}
		return t, nil
	case notificationv1.AzureDevOpsProvider:
		return d.azureDevOps(ctx, p, c, alert)
	case notificationv1.AzureEventHubProvider:
		return d.azureEventHub(ctx, p, c)
	}
	return nil, terminalf("provider type '%s' is not supported by Azimuth: use azuredevops, azureeventhub, msteams, generic or generic-hmac", p.Spec.Type)
}

// azureDevOps builds the commit status sender of p; alert is the Alert whose event it sends, a
// variable of spec.commitStatusExpr.
func (d *Dispatcher) azureDevOps(ctx context.Context, p *notificationv1.Provider, c *providerConfig, alert *notificationv1.Alert) (sender, error) {
	uid := string(p.UID)
	name := func(_ context.Context, e *Event) (string, error) { return statusName(uid, e), nil }
	if p.Spec.CommitStatusExpr != "" {
		// Checked before any credential is acquired: an expression that does not compile fails
		// every delivery of this generation of the Provider.
		x, err := d.exprs.compiled(p)
		if err != nil {
			return nil, err
		}
		name = func(ctx context.Context, e *Event) (string, error) { return x.eval(ctx, e, alert, p) }
	}
	if c.token != "" && p.Spec.ServiceAccountName != "" {
		return nil, terminalf("provider '%s/%s' sets both spec.serviceAccountName and a 'token' in its secret: keep one", p.Namespace, p.Name)
	}
	auth := devops.StatusAuth{PAT: c.token}
	if c.token == "" {
		cred, err := d.access.Credential(ctx, access.Spec{
			Namespace: p.Namespace, ServiceAccountName: p.Spec.ServiceAccountName, IdentitySecret: c.identitySecret,
		}, c.conn)
		if err != nil {
			return nil, fmt.Errorf("failed to acquire azure devops token: %w", err)
		}
		auth.Credential = cred
	}
	statuses, err := devops.NewStatuses(c.address, c.conn.Transport, auth)
	if err != nil {
		return nil, terminalError{err}
	}
	return &azureDevOps{statuses: statuses, name: name}, nil
}

// azureDevOps sets commit statuses on an Azure Repos repository, as Flux's azuredevops notifier.
type azureDevOps struct {
	statuses *devops.Statuses
	// name names the status of an event: Flux's default (statusName), or the Provider's
	// spec.commitStatusExpr.
	name func(context.Context, *Event) (string, error)
}

// genre is the genre of the statuses Flux sets.
const genre = "fluxcd"

func (a *azureDevOps) send(ctx context.Context, e Event) error {
	if e.Reason == "Progressing" {
		return errSkipped
	}
	rev, ok := revision(&e)
	if !ok {
		return terminalf("missing revision metadata: the event of %s/%s/%s names no revision to set a commit status on", e.InvolvedObject.Kind, e.InvolvedObject.Namespace, e.InvolvedObject.Name)
	}
	sha, err := commitSHA(rev)
	if err != nil {
		return terminalError{err}
	}
	var state string
	switch e.Severity {
	case SeverityInfo:
		state = devops.StateSucceeded
	case SeverityError:
		state = devops.StateError
	default:
		return terminalf("can't convert to azure devops state: severity '%s'", e.Severity)
	}
	name, err := a.name(ctx, &e)
	if err != nil {
		return err
	}
	st := devops.Status{State: state, Description: description(e.Reason), Context: devops.StatusContext{Name: name, Genre: genre}}
	if summary, ok := e.Metadata[MetaSummary]; ok {
		st.Context.Genre = genre + ":" + summary
	}
	existing, err := a.statuses.List(ctx, sha)
	if err != nil {
		return err
	}
	for _, s := range existing {
		if s.Context.Name == st.Context.Name && s.Context.Genre == st.Context.Genre {
			if strings.EqualFold(s.State, st.State) && s.Description == st.Description {
				return errSkipped // the last status of this context says the same
			}
			break
		}
	}
	return a.statuses.Create(ctx, sha, st)
}

// description is Flux's status description: the reason's words in lower case.
func description(reason string) string {
	return strings.ToLower(strings.Join(splitCamelCase(reason), " "))
}

// statusName is Flux's default commit status name: kind/name/ and the first segment of the
// Provider's UID, in lower case, unique per cluster.
func statusName(providerUID string, e *Event) string {
	return strings.ToLower(e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name + "/" + uidPrefix(providerUID))
}

func uidPrefix(uid string) string {
	first, _, _ := strings.Cut(uid, "-")
	return first
}

// generic posts the event as JSON, with Flux's Gotk-Component header and, for generic-hmac, the
// X-Signature header: sha256= and the hex HMAC-SHA256 of the body keyed with the secret's token.
type generic struct {
	client  *http.Client
	address string
	headers map[string]string
	key     []byte
}

func (g *generic) send(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	headers := map[string]string{"Gotk-Component": e.ReportingController}
	for k, v := range g.headers {
		headers[k] = v
	}
	if g.key != nil {
		mac := hmac.New(sha256.New, g.key)
		mac.Write(body)
		headers["X-Signature"] = "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	return post(ctx, g.client, g.address, body, headers)
}
