package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// connectToEnv holds connect-to rules, separated by commas, spaces or new lines, read after the
// --connect-to flags.
const connectToEnv = "AZIMUTH_CONNECT_TO"

// identityFlags are the controller's identity settings: who objects act as, how tokens are
// cached, and how Entra ID is reached. `azimuth controller` binds them, and `azimuth token` binds
// the same ones, so that the controller's flags reproduce its decision on a workstation.
type identityFlags struct {
	featureGates                    featureGates
	defaultServiceAccount           string
	defaultDecryptionServiceAccount string
	defaultKubeConfigServiceAccount string
	tokenCacheMaxSize               int
	tokenCacheMaxDuration           time.Duration
	connectTo                       []string
	caFile                          string
}

// bind registers the flags on fs, with their defaults.
func (f *identityFlags) bind(fs *pflag.FlagSet) {
	fs.Var(&f.featureGates, "feature-gates",
		"feature gates to set, as Name=true|false[,Name=true|false]; known gates: "+strings.Join(knownFeatureGates, ", ")+" (all off by default)")
	fs.StringVar(&f.defaultServiceAccount, "default-service-account", "",
		"service account, in the object's own namespace, used by objects that name none (lockdown): Kustomizations apply as it, "+
			"and with --feature-gates="+identity.FeatureGate+"=true every object authenticates to Azure as it")
	fs.StringVar(&f.defaultDecryptionServiceAccount, "default-decryption-service-account", "",
		"service account used by Kustomization decryption that names none (lockdown; needs --feature-gates="+identity.FeatureGate+"=true)")
	fs.StringVar(&f.defaultKubeConfigServiceAccount, "default-kubeconfig-service-account", "",
		"service account whose Entra identity reaches the AKS cluster of a spec.kubeConfig.configMapRef that names none "+
			"(lockdown; needs --feature-gates="+identity.FeatureGate+"=true)")
	fs.IntVar(&f.tokenCacheMaxSize, "token-cache-max-size", 100,
		"number of Entra ID tokens to cache; 0 turns the cache off")
	fs.DurationVar(&f.tokenCacheMaxDuration, "token-cache-max-duration", time.Hour,
		"longest time a token is served from the cache, at most 1h (tokens are also dropped at 80% of their lifetime)")
	fs.StringArrayVar(&f.connectTo, "connect-to", nil,
		"send connections for HOST:PORT to ADDR:PORT instead, as HOST:PORT:ADDR:PORT (curl's --connect-to); repeatable; "+connectToEnv+" adds more")
	fs.StringVar(&f.caFile, "ca-file", "",
		"PEM file of CA certificates trusted for Azure endpoints on top of the system roots, such as the local Azure's ca.pem")
}

// identityOptions returns the resolver's options. Without the feature gate the default service
// account is only the Kustomizations' impersonation lockdown, as in kustomize-controller;
// identity.NewResolver rejects a default decryption service account without the gate.
func (f *identityFlags) identityOptions() identity.Options {
	return identity.Options{
		ObjectLevelWorkloadIdentity:     f.featureGates.enabled(identity.FeatureGate),
		DefaultServiceAccount:           f.defaultServiceAccount,
		DefaultDecryptionServiceAccount: f.defaultDecryptionServiceAccount,
		DefaultKubeConfigServiceAccount: f.defaultKubeConfigServiceAccount,
	}
}

// transportOptions returns how clients reach Azure: the --connect-to rules, then those of
// AZIMUTH_CONNECT_TO (the first matching rule wins, so the flags take precedence), and the CAs
// of --ca-file.
func (f *identityFlags) transportOptions() (transport.Options, error) {
	var o transport.Options
	for _, value := range f.connectTo {
		rules, err := transport.ParseConnectToList(value)
		if err != nil {
			return transport.Options{}, fmt.Errorf("--connect-to: %w", err)
		}
		o.ConnectTo = append(o.ConnectTo, rules...)
	}
	rules, err := transport.ParseConnectToList(os.Getenv(connectToEnv))
	if err != nil {
		return transport.Options{}, fmt.Errorf("environment variable %s: %w", connectToEnv, err)
	}
	o.ConnectTo = append(o.ConnectTo, rules...)
	if f.caFile != "" {
		pemCerts, err := os.ReadFile(f.caFile)
		if err != nil {
			return transport.Options{}, fmt.Errorf("--ca-file: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pemCerts) {
			return transport.Options{}, fmt.Errorf("--ca-file %s holds no PEM certificate", f.caFile)
		}
		o.ExtraCAs = pemCerts
	}
	return o, nil
}

// entraOptions returns the token provider's options, with transportOptions as its transport.
// The caller adds a metrics Registerer if it serves metrics.
func (f *identityFlags) entraOptions() (entra.Options, error) {
	if f.tokenCacheMaxSize < 0 {
		return entra.Options{}, fmt.Errorf("--token-cache-max-size must be 0 (no cache) or more, not %d", f.tokenCacheMaxSize)
	}
	if f.tokenCacheMaxDuration <= 0 {
		return entra.Options{}, fmt.Errorf("--token-cache-max-duration must be positive, not %s; use --token-cache-max-size=0 to turn the cache off", f.tokenCacheMaxDuration)
	}
	t, err := f.transportOptions()
	if err != nil {
		return entra.Options{}, err
	}
	var custom *entra.Cloud
	if path := os.Getenv("AZURE_ENVIRONMENT_FILEPATH"); path != "" {
		c, err := entra.LoadEnvironmentFile(path)
		if err != nil {
			return entra.Options{}, err
		}
		custom = &c
	}
	return entra.Options{
		CustomCloud:      custom,
		Transport:        &t,
		CacheMaxSize:     f.tokenCacheMaxSize,
		DisableCache:     f.tokenCacheMaxSize == 0,
		CacheMaxDuration: f.tokenCacheMaxDuration,
	}, nil
}

// knownFeatureGates are the gates Azimuth implements. Flux's other gates have no meaning here, so
// naming one is an error rather than silently ignored.
var knownFeatureGates = []string{identity.FeatureGate, strictSubstitutionsGate}

// strictSubstitutionsGate makes a postBuild variable with neither value nor default a build
// error, as kustomize-controller's gate of the same name does.
const strictSubstitutionsGate = "StrictPostBuildSubstitutions"

// featureGates is the value of --feature-gates: Name=bool pairs, separated by commas. The flag may
// be repeated; a later value for a gate wins.
type featureGates map[string]bool

var _ pflag.Value = (*featureGates)(nil)

func (g *featureGates) Set(value string) error {
	parsed, err := parseFeatureGates(value)
	if err != nil {
		return err
	}
	if *g == nil {
		*g = featureGates{}
	}
	for name, on := range parsed {
		(*g)[name] = on
	}
	return nil
}

func (g *featureGates) String() string {
	if g == nil {
		return ""
	}
	var pairs []string
	for name, on := range *g {
		pairs = append(pairs, name+"="+strconv.FormatBool(on))
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

func (g *featureGates) Type() string { return "Name=bool,..." }

func (g featureGates) enabled(name string) bool { return g[name] }

// parseFeatureGates reads Name=bool[,Name=bool]. Empty entries are skipped; gate names are
// case-sensitive, as in Kubernetes and Flux.
func parseFeatureGates(value string) (map[string]bool, error) {
	gates := map[string]bool{}
	for _, entry := range strings.Split(value, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, v, ok := strings.Cut(entry, "=")
		name, v = strings.TrimSpace(name), strings.TrimSpace(v)
		if !ok || name == "" {
			return nil, fmt.Errorf("%q must have the form Name=true or Name=false", entry)
		}
		if !slices.Contains(knownFeatureGates, name) {
			return nil, unknownGateError(name)
		}
		on, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("feature gate %s must be true or false, not %q", name, v)
		}
		gates[name] = on
	}
	return gates, nil
}

func unknownGateError(name string) error {
	for _, known := range knownFeatureGates {
		if strings.EqualFold(known, name) {
			return fmt.Errorf("unknown feature gate %q: did you mean %s?", name, known)
		}
	}
	return errors.New("unknown feature gate " + strconv.Quote(name) + "; Azimuth knows " + strings.Join(knownFeatureGates, ", "))
}
