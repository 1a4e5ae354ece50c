package testenv

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestMain(m *testing.M) { Main(m) }

const exchangeAudience = "api://AzureADTokenExchange"

// TestServiceAccountTokenVerifiesLikeEntra checks a TokenRequest token the way Microsoft Entra ID
// checks a federated assertion: it reads the issuer's discovery document and JWKS anonymously
// over HTTPS, then verifies the signature, issuer, subject, audience and expiry.
func TestServiceAccountTokenVerifiesLikeEntra(t *testing.T) {
	env := Get(t)
	token, err := env.ServiceAccountToken(t.Context(), "tenant-a", "source", exchangeAudience)
	if err != nil {
		t.Fatal(err)
	}

	anonymous := anonymousClient(t, env.CAPEM)
	var discovery struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, anonymous, env.IssuerURL+"/.well-known/openid-configuration", &discovery)
	if discovery.Issuer != env.IssuerURL {
		t.Fatalf("discovery issuer = %q, want %q", discovery.Issuer, env.IssuerURL)
	}
	var jwks struct {
		Keys []struct{ Kid, Kty, N, E string } `json:"keys"`
	}
	getJSON(t, anonymous, discovery.JWKSURI, &jwks)

	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		for _, k := range jwks.Keys {
			if k.Kid == tok.Header["kid"] && k.Kty == "RSA" {
				return rsaKey(k.N, k.E)
			}
		}
		return nil, fmt.Errorf("no JWKS key with kid %v", tok.Header["kid"])
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(env.IssuerURL),
		jwt.WithSubject("system:serviceaccount:tenant-a:source"),
		jwt.WithAudience(exchangeAudience),
		jwt.WithExpirationRequired(),
	)
	if err != nil {
		t.Fatalf("token does not verify like Entra ID would: %v", err)
	}
	exp, _ := claims.GetExpirationTime()
	if until := time.Until(exp.Time); until <= 0 || until > 25*time.Hour {
		t.Fatalf("token expires in %s", until)
	}

	// A token for another audience must not pass as an exchange token.
	other, err := env.ServiceAccountToken(t.Context(), "tenant-a", "source", "https://kubernetes.default.svc")
	if err != nil {
		t.Fatal(err)
	}
	_, err = jwt.Parse(other, func(*jwt.Token) (any, error) { return rsaKey(jwks.Keys[0].N, jwks.Keys[0].E) },
		jwt.WithAudience(exchangeAudience))
	if err == nil {
		t.Fatal("a token for another audience verified with the exchange audience")
	}
}

func TestKubeconfigIsWritten(t *testing.T) {
	env := Get(t)
	data, err := os.ReadFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), env.IssuerURL) {
		t.Fatalf("kubeconfig does not name the API server %s", env.IssuerURL)
	}
}

// TestStartAndStopLeaveNothingBehind runs a second, private control plane and checks that Stop
// ends both servers and removes the working directory.
func TestStartAndStopLeaveNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second control plane")
	}
	env, err := Start(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{env.etcd.cmd.Process.Pid, env.apiserver.cmd.Process.Pid}
	if err := env.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if _, err := os.Stat(filepath.Join("/proc", fmt.Sprint(pid))); err == nil {
			t.Errorf("process %d still exists after Stop", pid)
		}
	}
	if _, err := os.Stat(env.Dir); !os.IsNotExist(err) {
		t.Errorf("working directory %s still exists after Stop (%v)", env.Dir, err)
	}
}

func TestSweepRemovesDirsOfDeadProcesses(t *testing.T) {
	// PID 2^22+1 is above Linux's pid_max limit, so no process can hold it.
	stale := filepath.Join(os.TempDir(), dirPrefix+"4194305-test")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	mine, err := makeDir()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(mine)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale directory %s survived the sweep", stale)
	}
}

func anonymousClient(t *testing.T, caPEM []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CAPEM holds no certificate")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig.RootCAs = pool
	return &http.Client{Transport: transport, Timeout: 10 * time.Second}
}

func getJSON(t *testing.T, client *http.Client, url string, into any) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s anonymously: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func rsaKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(e)
	if err != nil {
		return nil, err
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}, nil
}
