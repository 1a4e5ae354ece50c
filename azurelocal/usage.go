package azurelocal

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
)

// Usage returns the text `azimuth dev azure` prints once the local Azure is up: where it listens,
// the two settings a client needs, and a curl command that gets a token with the client secret of
// the directory's first application that has one.
func (a *Azure) Usage() string {
	caPath := filepath.Join(a.stateDir, pki.CAFile)
	connectToPath := filepath.Join(a.stateDir, ConnectToFile)
	var b strings.Builder
	fmt.Fprintf(&b, "The local Azure is running.\n\n")
	fmt.Fprintf(&b, "  gateway (HTTPS)  %s  serving %s\n", a.gwAddr, strings.Join(Hosts, ", "))
	fmt.Fprintf(&b, "  IMDS (HTTP)      %s  standing in for 169.254.169.254:80\n", a.imdsAddr)
	fmt.Fprintf(&b, "  state directory  %s\n\n", a.stateDir)
	fmt.Fprintf(&b, "A client keeps the real Azure host names and needs two settings:\n")
	fmt.Fprintf(&b, "  1. trust the local CA       %s   (for example SSL_CERT_FILE=%s)\n", caPath, shellQuote(caPath))
	fmt.Fprintf(&b, "  2. apply the connect-to map %s   (curl --connect-to rules, one per line;\n", connectToPath)
	fmt.Fprintf(&b, "     Azimuth reads them from AZIMUTH_CONNECT_TO=\"$(cat %s)\")\n", shellQuote(connectToPath))
	if app, secret, ok := secretApp(a.dir); ok {
		tenant := app.TenantID
		fmt.Fprintf(&b, "\nTry it: a token for application '%s' with its client secret:\n\n", app.Name)
		fmt.Fprintf(&b, "  curl --connect-to login.microsoftonline.com:443:%s --cacert %s \\\n", a.gwAddr, shellQuote(caPath))
		fmt.Fprintf(&b, "    -d grant_type=client_credentials -d client_id=%s \\\n", app.ClientID)
		fmt.Fprintf(&b, "    --data-urlencode client_secret=%s \\\n", shellQuote(secret))
		fmt.Fprintf(&b, "    --data-urlencode scope=https://management.azure.com/.default \\\n")
		fmt.Fprintf(&b, "    https://login.microsoftonline.com/%s/oauth2/v2.0/token\n", tenant)
	}
	return b.String()
}

// secretApp finds the first application of the public cloud with a client secret.
func secretApp(d *directory.Directory) (directory.Principal, string, bool) {
	for _, app := range d.Spec().Applications {
		t, ok := d.Tenant(app.Tenant)
		if !ok || t.Cloud != directory.CloudPublic || len(app.ClientSecrets) == 0 {
			continue
		}
		if p, ok := d.Principal(app.ClientID); ok {
			return p, app.ClientSecrets[0].Value, true
		}
	}
	return directory.Principal{}, "", false
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
